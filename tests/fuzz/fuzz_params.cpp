// The history query and the emit body: any bytes give a request or an error text, never a
// crash or an exception. An accepted history query has a limit in 1..1000; an accepted emit
// body has at least one item (exactly one when it is not a batch); a refusal says why. The
// one-pass reading of a single emit (encode_emit_body) accepts only what parse_emit_body accepts
// as one item, with the same channel, event and key, and data written byte for byte as
// core::to_json writes the general path's value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_text.hpp"
#include "core/query.hpp"
#include "http/emit_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace forrealtime;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto h = core::parse_history(in);
  if (auto* ok = std::get_if<core::HistoryRequest>(&h))
    if (ok->limit == 0 || ok->limit > core::kMaxHistoryLimit) std::abort();

  // The header key is taken from the first bytes, so keys and bodies are fuzzed together.
  auto split = in.find('\n');
  auto key =
      split == std::string_view::npos || split > 300 ? std::string_view{} : in.substr(0, split);
  auto e = gateway::parse_emit_body(in, key);
  if (auto* body = std::get_if<gateway::EmitBody>(&e)) {
    if (body->items.empty()) std::abort();
    if (!body->batch && body->items.size() != 1) std::abort();
  } else if (std::get<std::string>(e).empty()) {
    std::abort();  // a refusal always says why
  }
  for (auto header_key : {key, std::string_view{}}) {
    auto fast = gateway::encode_emit_body(in, header_key);
    if (!fast) continue;
    auto slow = gateway::parse_emit_body(in, header_key);
    auto* body = std::get_if<gateway::EmitBody>(&slow);
    if (!body || body->batch || body->items.size() != 1) std::abort();
    auto& item = body->items[0];
    if (item.channel != fast->channel || item.event != fast->event ||
        item.idempotency_key != fast->idempotency_key || core::to_json(item.data) != fast->data)
      std::abort();
  }
  return 0;
}
