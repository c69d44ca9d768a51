// Parsing of the emit body; see emit_body.hpp.
#include "http/emit_body.hpp"

#include "core/events.hpp"
#include "core/json_text.hpp"

namespace forrealtime::gateway {

std::variant<EmitBody, std::string> parse_emit_body(std::string_view text, const EmitCheck& check) {
  boost::system::error_code ec;
  auto body = core::parse_json(text, ec);
  if (ec) return "malformed JSON body: " + ec.message();
  EmitBody out;
  out.batch = body.is_array();
  if (out.batch && body.get_array().empty()) return std::string("empty batch");
  auto check_one = [&](boost::json::value& v, std::size_t index) -> std::optional<std::string> {
    std::string where = out.batch ? "item " + std::to_string(index) + ": " : "";
    if (!v.is_object()) return where + "expected an object {channel?, event, data}";
    auto& o = v.get_object();
    std::string channel = "default";
    if (auto* c = o.if_contains("channel")) {
      if (!c->is_string()) return where + "channel must be a string";
      channel.assign(c->get_string().data(), c->get_string().size());
    }
    auto* e = o.if_contains("event");
    if (!e) return where + "missing event";
    if (!e->is_string()) return where + "event must be a string";
    auto* d = o.if_contains("data");
    if (!d) return where + "missing data";
    std::string_view event(e->get_string().data(), e->get_string().size());
    if (auto why = check(channel, event, *d)) return where + *why;
    out.items.push_back({channel, core::encode_message(channel, event, *d)});
    return std::nullopt;
  };
  if (out.batch) {
    auto& arr = body.get_array();
    for (std::size_t i = 0; i < arr.size(); ++i)
      if (auto why = check_one(arr[i], i)) return std::move(*why);
  } else if (auto why = check_one(body, 0)) {
    return std::move(*why);
  }
  return out;
}

}  // namespace forrealtime::gateway
