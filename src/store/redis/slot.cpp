// Cluster key slots and the names of our own keys beside a stream (see slot.hpp).
#include "store/redis/slot.hpp"

#include <array>
#include <charconv>
#include <mutex>

namespace forrealtime::redis {
namespace {

constexpr std::array<std::uint16_t, 256> make_table() {
  std::array<std::uint16_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t c = static_cast<std::uint16_t>(i << 8);
    for (int b = 0; b < 8; ++b)
      c = static_cast<std::uint16_t>((c & 0x8000) ? (c << 1) ^ 0x1021 : (c << 1));
    t[i] = c;
  }
  return t;
}
constexpr auto crc_table = make_table();

// 16384 slots, each with the first short alphanumeric text (by length, then alphabet order)
// that hashes to it. Three characters from 62 cover every slot.
struct SlotTags {
  std::array<std::array<char, 4>, slot_count> tags{};
  SlotTags() {
    static constexpr std::string_view alphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::size_t left = slot_count;
    char buf[4] = {};
    for (std::size_t len = 1; len <= 3 && left > 0; ++len) {
      std::size_t total = 1;
      for (std::size_t i = 0; i < len; ++i) total *= alphabet.size();
      for (std::size_t n = 0; n < total && left > 0; ++n) {
        std::size_t v = n;
        for (std::size_t i = 0; i < len; ++i) {
          buf[len - 1 - i] = alphabet[v % alphabet.size()];
          v /= alphabet.size();
        }
        auto slot = crc16(std::string_view(buf, len)) % slot_count;
        if (tags[slot][0] == 0) {
          for (std::size_t i = 0; i < len; ++i) tags[slot][i] = buf[i];
          --left;
        }
      }
    }
  }
};

}  // namespace

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char b : bytes)
    crc = static_cast<std::uint16_t>((crc << 8) ^ crc_table[((crc >> 8) ^ b) & 0xff]);
  return crc;
}

std::string_view hashed_part(std::string_view key) {
  auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) {
  return crc16(hashed_part(key)) % slot_count;
}

std::string_view tag_for_slot(std::uint16_t slot) {
  static const SlotTags table;
  const auto& t = table.tags[slot % slot_count];
  std::size_t n = 0;
  while (n < t.size() && t[n]) ++n;
  return {t.data(), n};
}

std::string idempotency_record_key(std::string_view key_prefix, std::string_view channel,
                                   std::string_view idempotency_key) {
  std::string stream_key;
  stream_key.reserve(key_prefix.size() + channel.size());
  stream_key.append(key_prefix).append(channel);
  std::string_view tag = hashed_part(stream_key);
  if (tag.find('}') != std::string_view::npos) tag = tag_for_slot(key_slot(stream_key));
  char len[24];
  auto end = std::to_chars(len, len + sizeof len, channel.size()).ptr;
  std::string out;
  out.reserve(key_prefix.size() + 19 + tag.size() + 24 + channel.size() + idempotency_key.size());
  out.append(key_prefix)
      .append("forrealtime-idem:{")
      .append(tag)
      .append("}")
      .append(len, end)
      .append(":")
      .append(channel)
      .append(":")
      .append(idempotency_key);
  return out;
}

}  // namespace forrealtime::redis
