// Request limits and refusals; see request_checks.hpp.
#include "http/request_checks.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include "core/events.hpp"
#include "http/state.hpp"

namespace forrealtime::gateway {

void apply_limits(RequestParser& parser, const GatewayState& state) {
  parser.body_limit(state.max_body_bytes());
}

Refusal refusal_for(boost::system::error_code ec, const GatewayState& state) {
  if (ec == bhttp::error::body_limit)
    return {bhttp::status::payload_too_large,
            "request body is larger than " + std::to_string(state.max_body_bytes()) + " bytes"};
  if (ec == bhttp::error::header_limit)
    return {bhttp::status::request_header_fields_too_large, "request headers are too large"};
  return {bhttp::status::bad_request, "malformed HTTP request: " + ec.message()};
}

std::optional<Refusal> check_head(const RequestParser& parser) {
  auto& req = parser.get();
  auto [first, last] = req.equal_range(bhttp::field::transfer_encoding);
  if (first == last) return std::nullopt;
  if (req.version() < 11)
    return Refusal{bhttp::status::bad_request, "Transfer-Encoding in an HTTP/1.0 request"};
  // Beast reads chunked framing only when `chunked` is the last coding of the field.
  if (!parser.chunked())
    return Refusal{bhttp::status::bad_request,
                   "the last Transfer-Encoding must be chunked (RFC 9112 section 6.3)"};
  std::size_t codings = 0;
  for (auto it = first; it != last; ++it)
    for (auto coding : bhttp::token_list(it->value())) {
      (void)coding;
      ++codings;
    }
  if (codings != 1)
    return Refusal{bhttp::status::not_implemented,
                   "no transfer coding other than chunked is supported"};
  return std::nullopt;
}

HttpResponse refusal_response(const Refusal& refusal) {
  HttpResponse res{refusal.status, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::connection, "close");
  res.body() = core::error_body(refusal.why);
  res.prepare_payload();
  return res;
}

}  // namespace forrealtime::gateway
