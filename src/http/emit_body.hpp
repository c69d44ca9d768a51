// The body of POST /api/emit (PROTOCOL.md section 5): one `{channel?, event, data}` object or a
// non-empty array of them, with their idempotency keys, as Realtime::async_emit_batch takes
// them. Pure: no Asio, no store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

#include "forrealtime/realtime.hpp"

namespace forrealtime::gateway {

struct EmitBody {
  bool batch = false;  // an array (answered with `ids`) rather than one object (`id`)
  /** As Realtime::async_emit_batch takes them; the checks of channel, event name, schema and
   *  key are its own. */
  std::vector<EmitItem> items;
};

/** Parses a whole body: the first malformed item (answered with 400) otherwise, prefixed with
 *  `item N: ` in a batch. `header_key` is the `Idempotency-Key` header (empty: none): the key of
 *  a single emit, and in a batch `<header_key>:<index>` for each item without an
 *  `idempotency_key` field of its own (docs/protocol.md section 11). */
std::variant<EmitBody, std::string> parse_emit_body(std::string_view body,
                                                    std::string_view header_key = {});

/** A single emit read in one pass: `data` already written as `core::write_json` would write
 *  it after `core::parse_json` (byte for byte), without building a JSON value. */
struct EncodedEmit {
  std::string channel = "default";
  std::string event;
  std::string data;  // JSON text
  std::string idempotency_key;
};

/** The fast path of `parse_emit_body` for a body holding one emit object: nothing whenever the
 *  body is anything else, or anything unusual (an array, malformed JSON, a field missing or of
 *  the wrong type, a bad idempotency key, a duplicate key at any depth, an object of more than
 *  32 keys inside `data`): `parse_emit_body` then decides, with its own errors. When it answers,
 *  `parse_emit_body` would have answered one item with the same channel, event, key and
 *  `to_json(data)`. */
std::optional<EncodedEmit> encode_emit_body(std::string_view body,
                                            std::string_view header_key = {});

/** `{"id":"..."}` or `{"ids":["...",...]}`. */
template <class Ids>
std::string emit_reply(bool batch, const Ids& ids) {
  std::string out;
  if (batch) {
    out = "{\"ids\":[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i) out.push_back(',');
      out.push_back('"');
      ids[i].append_to(out);
      out.push_back('"');
    }
    out += "]}";
  } else {
    out = "{\"id\":\"" + ids[0].to_string() + "\"}";
  }
  return out;
}

}  // namespace forrealtime::gateway
