// A stored entry, as any writer may have put it in a stream (ours, the TypeScript original,
// redis-cli): make_hub_entry frames it for the streams, splicing the bytes when the message is in
// our writer's form and decoding it otherwise. Whichever way, for any bytes the frame must be the
// decoder's (decode_message, then write_event_json and sse_frame), the entry must exist exactly
// when the decoder accepts the message, and data() / data_json must agree with the decoded data.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/events.hpp"
#include "core/json_text.hpp"
#include "hub/hub.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace forrealtime;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // A channel name from the first line (bounded), so odd channels are framed too.
  auto split = in.find('\n');
  std::string channel = "room/1";
  if (split != std::string_view::npos && split <= 64) {
    channel.assign(in.substr(0, split));
    in.remove_prefix(split + 1);
  }
  StoredEntry entry{StreamId{1732000000123, 7}, std::string(in)};
  auto hub = detail::make_hub_entry(channel, entry);
  auto msg = core::decode_message(entry.message);
  if (static_cast<bool>(hub) != msg.has_value()) std::abort();
  if (!hub) return 0;
  std::string json;
  core::write_event_json(entry.id, channel, msg->event, msg->data, json);
  if (hub->frame->bytes != core::sse_frame(json, entry.id)) std::abort();
  if (hub->frame->id != entry.id || hub->event != msg->event) std::abort();
  if (hub->data() != msg->data) std::abort();
  if (core::to_json(hub->data()) != hub->data_json) std::abort();
  return 0;
}
