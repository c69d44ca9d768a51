// Redis Cluster key slots, with no I/O: CRC16 (XMODEM, as in the Cluster spec), the hash tag
// rule (only the part between the first `{` and the next `}` is hashed, when not empty) and a
// short tag for every slot, so that a key of ours can be put in the slot of any other key.
//
// The store keeps the keys of one command in one slot (a Lua script's KEYS must be, on a
// cluster): the idempotency record of an append lives in its stream's slot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace forrealtime::redis {

inline constexpr std::uint16_t slot_count = 16384;

/** CRC16-CCITT (XMODEM): polynomial 0x1021, initial 0, as in the Redis Cluster spec. */
std::uint16_t crc16(std::string_view bytes);
/** The part of a key that is hashed: the hash tag when there is a non-empty one, else all. */
std::string_view hashed_part(std::string_view key);
/** The cluster slot of a key. */
std::uint16_t key_slot(std::string_view key);
/** A short alphanumeric text whose slot is `slot` (computed once, on first use). */
std::string_view tag_for_slot(std::uint16_t slot);

/** The key of the idempotency record of `idempotency_key` on the stream `stream_key` of
 *  `channel`: `<key_prefix>forrealtime-idem:{T}<n>:<channel>:<idempotency_key>`, where n is the
 *  byte length of the channel (so that no two (channel, key) pairs share a name) and T is the
 *  stream key's hashed part, or a tag of its slot when that part holds a `}`. So the record
 *  hashes to the stream's slot whenever the prefix holds no brace or a whole hash tag. It never
 *  equals a stream key of a valid channel of the same prefix unless the channel is spelled
 *  exactly like it. */
std::string idempotency_record_key(std::string_view key_prefix, std::string_view channel,
                                   std::string_view idempotency_key);

}  // namespace forrealtime::redis
