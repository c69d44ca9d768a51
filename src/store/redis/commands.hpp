// The Redis commands of the stream store and the decoding of their replies, with no I/O.
// This file is where PROTOCOL.md section 6 (the storage format shared with TypeScript
// forrealtime) lives: the exact words of XADD/EXPIRE/XRANGE/XREVRANGE/XINFO/XREAD.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "forrealtime/store.hpp"
#include "store/redis/resp.hpp"

namespace forrealtime::redis {

/** `XADD <key> [MAXLEN ~ n] * message <json>`. */
void append_xadd(std::string& out, std::string_view key, std::string_view message,
                 std::size_t max_length);
/** `EXPIRE <key> <secs>`. */
void append_expire(std::string& out, std::string_view key, std::uint64_t secs);

/** The append script, for appends that do more than XADD: the XADD of PROTOCOL.md section 6,
 *  then EXPIRE only when the XADD succeeded (a failed `redis.call` ends the script, so a key
 *  of another type is never touched), and the idempotency record: when KEYS[2] is given and
 *  holds an id, nothing is written and that id is the answer; else the new id is kept there for
 *  the window. One command, one round trip, atomic; both keys in one slot (see slot.hpp).
 *  KEYS: stream [record]; ARGV: message, MAXLEN (0: none), EXPIRE secs (0: none), window ms. */
extern const std::string_view append_script;
/** `EVALSHA <sha> ...` of the append script, or `EVAL <script> ...` when `sha` is empty.
 *  `record_key` empty: no idempotency record. */
void append_scripted(std::string& out, std::string_view sha, std::string_view key,
                     std::string_view record_key, std::string_view message, std::size_t max_length,
                     std::uint64_t expire_secs, std::uint64_t window_ms);
/** `XREVRANGE <key> + - COUNT 1`. */
void append_latest(std::string& out, std::string_view key);
/** `XRANGE <key> <start|(start|-> <end|+> COUNT <limit>`; with `newest_first`,
 *  `XREVRANGE <key> <end|+> <start|(start|-> COUNT <limit>`. */
void append_xrange(std::string& out, std::string_view key, const RangeQuery& q);
/** `XINFO STREAM <key>`. */
void append_xinfo(std::string& out, std::string_view key);
/** `XREAD COUNT <count> BLOCK <ms> STREAMS k1 .. kn id1 .. idn`. */
void append_xread(std::string& out, std::size_t count, std::uint64_t block_ms,
                  std::span<const std::string_view> keys, std::span<const StreamId> ids);

/** An id in a bulk string. */
std::optional<StreamId> decode_id(const redisReply* r);
/** The `message` field of one entry's field list (`[field, value, ...]`), if any. */
std::optional<std::string_view> find_message(const redisReply* fields);
/** Appends the entries of an XRANGE/XREVRANGE reply (`[[id, [f, v, ...]], ...]`). Entries
 *  without a `message` field are skipped: they are not events. False on a malformed reply. */
bool decode_entries(const redisReply* r, std::vector<StoredEntry>& out,
                    StreamId* last_seen = nullptr);
/** The id of `XREVRANGE key + - COUNT 1`, 0-0 when empty or absent. */
boost::system::result<StreamId> decode_latest(const redisReply* r);
/** `XINFO STREAM`; "no such key" is all zero. */
boost::system::result<StreamInfo> decode_info(const redisReply* r);
/** Walks an XREAD reply (`nil` or `[[key, entries], ...]`), calling `each(key, entries, last)`
 *  with the entries decoded and the greatest id read (also of entries without `message`). */
bool decode_xread(const redisReply* r,
                  const std::function<void(std::string_view key, std::vector<StoredEntry>& entries,
                                           StreamId last)>& each);

/** The store error an error reply means. */
boost::system::error_code error_of(const redisReply* r);

}  // namespace forrealtime::redis
