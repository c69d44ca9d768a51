// Parsing of query strings: `application/x-www-form-urlencoded` as browsers' URLSearchParams
// write it, and the subscribe query of PROTOCOL.md section 1 on top of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "forrealtime/stream_id.hpp"

namespace forrealtime::core {

/** Decodes one form component as URLSearchParams does: `%XX` escapes and `+` as space.
 *  Nothing on a bad escape (a `%` not followed by two hex digits), where URLSearchParams
 *  would keep the `%`: a request we cannot read the way its sender meant gets a 400. */
std::optional<std::string> form_decode(std::string_view s);

/** Decodes `%XX` escapes only (`+` stays `+`), as in a URL path. Nothing on a bad escape. */
std::optional<std::string> percent_decode(std::string_view s);

/** Splits and decodes `a=1&b=2`; nothing on a bad escape. Empty pieces are skipped. */
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view query);

/** The query part of a request target (after `?`, before `#`), or empty. */
std::string_view query_of(std::string_view target);
/** The path part of a request target. */
std::string_view path_of(std::string_view target);

struct SubscribeRequest {
  std::vector<std::string> channels;               // deduplicated, first occurrence first
  std::vector<std::optional<StreamId>> last_acks;  // parallel to `channels`
};

struct QueryError {
  std::string message;
};

/** The subscribe query: `channel` (repeatable, default `["default"]`) and `last_ack_<channel>`.
 *  Errors (all answered with 400): bad percent-encoding, an invalid channel name, more than
 *  `max_channels` distinct channels, a `last_ack_*` that is not a stream id. */
std::variant<SubscribeRequest, QueryError> parse_subscribe(std::string_view query,
                                                           std::size_t max_channels);

/** The most events one history request answers; a greater `limit` is capped. */
inline constexpr std::size_t kMaxHistoryLimit = 1000;

/** The history query of PROTOCOL.md section 7: `channel` (default `"default"`), `limit`
 *  (1..; capped at 1000), `last` (1..1000, the newest N, not with `limit`), `after` (a stream
 *  id), `start` and `end` (ms since the epoch). */
struct HistoryRequest {
  std::string channel = "default";
  std::size_t limit = 1000;
  std::optional<std::size_t> last;
  std::optional<StreamId> after;
  std::optional<std::uint64_t> start;
  std::optional<std::uint64_t> end;
};

/** Parses the history query; every error is answered with 400. The channel name is not
 *  checked here (the store refuses an invalid one). Unknown parameters are ignored. */
std::variant<HistoryRequest, QueryError> parse_history(std::string_view query);

/** The replay/live merge rule of PROTOCOL.md section 2, per channel of one subscription:
 *  an entry is delivered only when its id is greater than everything delivered before on that
 *  channel (the `connected` cursor counts as delivered). Replay and live entries both pass
 *  through `accept`, so an entry seen by both is delivered once and none is skipped. */
class MergeCursor {
 public:
  explicit MergeCursor(std::size_t channels = 0) : last_(channels) {}
  /** Marks everything up to `id` on `channel` as delivered. */
  void advance(std::size_t channel, StreamId id) {
    if (id > last_[channel]) last_[channel] = id;
  }
  /** True (and remembers it) when `id` is new on `channel`. */
  bool accept(std::size_t channel, StreamId id) {
    if (id <= last_[channel]) return false;
    last_[channel] = id;
    return true;
  }
  StreamId last(std::size_t channel) const { return last_[channel]; }

 private:
  std::vector<StreamId> last_;
};

}  // namespace forrealtime::core
