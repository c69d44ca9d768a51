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
