// The body of POST /api/emit (PROTOCOL.md section 5): one `{channel?, event, data}` object or a
// non-empty array of them, each checked and encoded as the store keeps it. Pure: no Asio, no
// store; the schema check is passed in, so the fuzz target runs it on its own.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

namespace forrealtime::gateway {

/** One item of an emit body, checked and encoded, ready to append. */
struct EmitItem {
  std::string channel;
  std::string message;  // the stored message (core::encode_message)
};

struct EmitBody {
  bool batch = false;  // an array (answered with `ids`) rather than one object (`id`)
  std::vector<EmitItem> items;
};

/** Checks one event (channel name, event name, schema); a reason when it is refused. */
using EmitCheck = std::function<std::optional<std::string>(
    std::string_view channel, std::string_view event, const boost::json::value& data)>;

/** Parses and checks a whole body; the first refusal (answered with 400) otherwise, prefixed
 *  with `item N: ` in a batch. */
std::variant<EmitBody, std::string> parse_emit_body(std::string_view body, const EmitCheck& check);

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
