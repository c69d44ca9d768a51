// Encoding and decoding of the JSON texts in PROTOCOL.md sections 3 and 6.
#include "core/events.hpp"

#include <chrono>

#include <boost/json/parse.hpp>

#include "core/json_text.hpp"

namespace forrealtime::core {
namespace {

// `"channel":C,"event":E,"data":`: what precedes the data in stored messages and user events.
void write_event_head(std::string_view channel, std::string_view event, std::string& out) {
  out.append("\"channel\":");
  write_json_string(channel, out);
  out.append(",\"event\":");
  write_json_string(event, out);
  out.append(",\"data\":");
}

// `"channel":C,"event":E,"data":D}`: the tail shared by stored messages and user events.
void write_event_tail(std::string_view channel, std::string_view event,
                      const boost::json::value& data, std::string& out) {
  write_event_head(channel, event, out);
  write_json(data, out);
  out.push_back('}');
}

}  // namespace

std::string encode_message(std::string_view channel, std::string_view event,
                           const boost::json::value& data) {
  std::string out;
  out.reserve(channel.size() + event.size() + 40);
  out.push_back('{');
  write_event_tail(channel, event, data, out);
  return out;
}

std::string encode_message_text(std::string_view channel, std::string_view event,
                                std::string_view data_json) {
  std::string out;
  out.reserve(channel.size() + event.size() + data_json.size() + 40);
  out.push_back('{');
  write_event_head(channel, event, out);
  out.append(data_json);
  out.push_back('}');
  return out;
}

std::optional<Message> decode_message(std::string_view text) {
  boost::system::error_code ec;
  auto v = parse_json(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto& obj = v.get_object();
  auto* channel = obj.if_contains("channel");
  auto* event = obj.if_contains("event");
  auto* data = obj.if_contains("data");
  if (!channel || !channel->is_string() || !event || !event->is_string() || !data)
    return std::nullopt;
  Message m;
  m.channel.assign(channel->get_string().data(), channel->get_string().size());
  m.event.assign(event->get_string().data(), event->get_string().size());
  m.data = std::move(*data);
  return m;
}

void write_event_json(StreamId id, std::string_view channel, std::string_view event,
                      const boost::json::value& data, std::string& out) {
  out.append("{\"id\":\"");
  id.append_to(out);
  out.append("\",");
  write_event_tail(channel, event, data, out);
}

std::string sse_frame(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 8);
  out.append("data: ");
  out.append(json);
  out.append("\n\n");
  return out;
}

std::string sse_frame(std::string_view json, StreamId id) {
  std::string out;
  out.reserve(json.size() + 52);
  out.append("id: ");
  id.append_to(out);
  out.append("\ndata: ");
  out.append(json);
  out.append("\n\n");
  return out;
}

std::string connected_json(std::string_view channel, StreamId cursor) {
  std::string out = "{\"type\":\"connected\",\"channel\":";
  write_json_string(channel, out);
  if (!cursor.is_zero()) {
    out.append(",\"cursor\":\"");
    cursor.append_to(out);
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string ping_json(std::uint64_t ms) {
  return "{\"type\":\"ping\",\"timestamp\":" + std::to_string(ms) + "}";
}

std::string reconnect_json(std::uint64_t ms) {
  return "{\"type\":\"reconnect\",\"timestamp\":" + std::to_string(ms) + "}";
}

std::string grant_expired_json(std::uint64_t ms) {
  return "{\"type\":\"grant_expired\",\"timestamp\":" + std::to_string(ms) + "}";
}

std::string error_json(std::string_view text) {
  std::string out = "{\"type\":\"error\",\"error\":";
  write_json_string(text, out);
  out.push_back('}');
  return out;
}

std::string history_lost_json(std::string_view channel, StreamId last_ack, StreamId oldest) {
  std::string out = "{\"type\":\"history_lost\",\"channel\":";
  write_json_string(channel, out);
  out.append(",\"last_ack\":\"");
  last_ack.append_to(out);
  out.append("\",\"oldest\":\"");
  oldest.append_to(out);
  out.append("\"}");
  return out;
}

std::string error_body(std::string_view text) {
  std::string out = "{\"error\":";
  write_json_string(text, out);
  out.push_back('}');
  return out;
}

std::uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

FramePtr make_frame(StreamId id, std::string bytes) {
  return std::make_shared<const Frame>(Frame{id, std::move(bytes)});
}

}  // namespace forrealtime::core
