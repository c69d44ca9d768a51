// The JSON of PROTOCOL.md: the stored message, user events, system events, and their SSE
// frames. Every frame is built once per event and shared, immutable, by every subscriber.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "forrealtime/stream_id.hpp"

namespace forrealtime::core {

/** A stored message decoded: `{"channel":C,"event":E,"data":D}`. */
struct Message {
  std::string channel;
  std::string event;
  boost::json::value data;
};

/** The stored `message` field for an event (PROTOCOL.md section 6). */
std::string encode_message(std::string_view channel, std::string_view event,
                           const boost::json::value& data);

/** The same, with `data` already JSON text as write_json writes it. */
std::string encode_message_text(std::string_view channel, std::string_view event,
                                std::string_view data_json);

/** Decodes a stored `message` field; nothing when it is not a valid event (bad JSON, not an
 *  object, `channel`/`event` missing or not strings, `data` missing). */
std::optional<Message> decode_message(std::string_view text);

/** `{"id":ID,"channel":C,"event":E,"data":D}` */
void write_event_json(StreamId id, std::string_view channel, std::string_view event,
                      const boost::json::value& data, std::string& out);

/** A complete SSE message: `data: <json>\n\n`. `json` must hold no newline. */
std::string sse_frame(std::string_view json);
/** A user event's SSE message, `id: <id>\ndata: <json>\n\n`: the `id:` lets a plain
 *  EventSource resume with `Last-Event-ID` (PROTOCOL.md section 4); old clients ignore it. */
std::string sse_frame(std::string_view json, StreamId id);

std::string connected_json(std::string_view channel, StreamId cursor);
std::string ping_json(std::uint64_t now_ms);
std::string reconnect_json(std::uint64_t now_ms);
/** `{"type":"grant_expired","timestamp":MS}`: the stream's grant ran out (a token's exp); the
 *  client gets a fresh credential and resumes from its acks. */
std::string grant_expired_json(std::uint64_t now_ms);
std::string error_json(std::string_view text);
std::string history_lost_json(std::string_view channel, StreamId last_ack, StreamId oldest);

/** `{"error":TEXT}` for HTTP error bodies. */
std::string error_body(std::string_view text);

/** Milliseconds since the Unix epoch. */
std::uint64_t now_ms();

/** One encoded SSE frame shared by every subscriber of its channel. */
struct Frame {
  StreamId id;        // 0-0 for system frames
  std::string bytes;  // `data: ...\n\n`
};
using FramePtr = std::shared_ptr<const Frame>;

FramePtr make_frame(StreamId id, std::string bytes);

}  // namespace forrealtime::core
