// A response written as one contiguous run of bytes into a reused buffer, so that the answer
// leaves in one write of two buffers (head, body) instead of Beast's serializer walking a
// concatenation of the start line, every field and the body (which cost about a third of an emit's
// user-space instructions: bench/RESULTS.md section 7). The bytes are exactly what Beast's
// serializer writes for the same message (tests/unit/http/response_text_test.cpp compares them).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace forrealtime::gateway {

/** True when append_response writes what Beast's serializer would: any response not sent with
 *  `Transfer-Encoding: chunked` (which the serializer would chunk-encode). */
bool plain_response(const HttpResponse& res);

/** Appends the start line and the fields of `res` and the blank line after them: what precedes
 *  the body. */
void append_head(const HttpResponse& res, std::string& out);

/** The head of `probe` (a response with an empty body, after prepare_payload) without its last
 *  field, `Content-Length: 0`, and the blank line: what append_json_ok completes for any body.
 *  Nothing when the head does not end that way. */
std::optional<std::string> head_prefix(const HttpResponse& probe);

/** `prefix` (from head_prefix) completed for a body of `body_size` bytes: the head that
 *  append_head writes for the same response with that body. */
void append_head_from_prefix(std::string_view prefix, std::size_t body_size, std::string& out);

}  // namespace forrealtime::gateway
