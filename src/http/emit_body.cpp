// Parsing of the emit body; see emit_body.hpp.
#include "http/emit_body.hpp"

#include "core/events.hpp"
#include "core/json_text.hpp"

namespace forrealtime::gateway {

std::variant<EmitBody, std::string> parse_emit_body(std::string_view text,
                                                    std::string_view header_key) {
  boost::system::error_code ec;
  auto body = core::parse_json(text, ec);
  if (ec) return "malformed JSON body: " + ec.message();
  EmitBody out;
  out.batch = body.is_array();
  if (out.batch && body.get_array().empty()) return std::string("empty batch");
  auto parse_one = [&](boost::json::value& v, std::size_t index) -> std::optional<std::string> {
    std::string where = out.batch ? "item " + std::to_string(index) + ": " : "";
    if (!v.is_object()) return where + "expected an object {channel?, event, data}";
    auto& o = v.get_object();
    EmitItem item;
    if (auto* c = o.if_contains("channel")) {
      if (!c->is_string()) return where + "channel must be a string";
      item.channel.assign(c->get_string().data(), c->get_string().size());
    }
    auto* e = o.if_contains("event");
    if (!e) return where + "missing event";
    if (!e->is_string()) return where + "event must be a string";
    item.event.assign(e->get_string().data(), e->get_string().size());
    auto* d = o.if_contains("data");
    if (!d) return where + "missing data";
    item.data = std::move(*d);
    if (auto* k = o.if_contains("idempotency_key")) {
      if (!k->is_string()) return where + "idempotency_key must be a string";
      item.idempotency_key.assign(k->get_string().data(), k->get_string().size());
      if (auto why = check_idempotency_key(item.idempotency_key)) return where + *why;
    } else if (!header_key.empty()) {
      item.idempotency_key.assign(header_key);
      if (out.batch) item.idempotency_key.append(":").append(std::to_string(index));
    }
    out.items.push_back(std::move(item));
    return std::nullopt;
  };
  if (out.batch) {
    auto& arr = body.get_array();
    out.items.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i)
      if (auto why = parse_one(arr[i], i)) return std::move(*why);
  } else if (auto why = parse_one(body, 0)) {
    return std::move(*why);
  }
  return out;
}

}  // namespace forrealtime::gateway
