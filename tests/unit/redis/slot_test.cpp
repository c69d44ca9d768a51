// Cluster slots and the names of idempotency records: CRC16 against the Cluster spec's values,
// the hash tag rule, and every record in its stream's slot (a Lua script's keys must be).
#include <gtest/gtest.h>

#include "store/redis/slot.hpp"

namespace forrealtime::redis {
namespace {

TEST(RedisSlot, Crc16AndKeySlotMatchTheClusterSpec) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);  // the spec's check value
  EXPECT_EQ(key_slot("foo"), 12182);      // `CLUSTER KEYSLOT foo`
  EXPECT_EQ(key_slot("somekey"), 11058);
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(hashed_part("foo{}{bar}"), "foo{}{bar}");  // empty first tag: the whole key
  EXPECT_EQ(hashed_part("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(hashed_part("foo{bar}{zap}"), "bar");
  EXPECT_EQ(hashed_part("a}b"), "a}b");
  EXPECT_EQ(hashed_part("a{b"), "a{b");
}

TEST(RedisSlot, EverySlotHasAShortTag) {
  for (unsigned s = 0; s < slot_count; ++s) {
    auto tag = tag_for_slot(static_cast<std::uint16_t>(s));
    ASSERT_FALSE(tag.empty()) << s;
    ASSERT_LE(tag.size(), 3u);
    ASSERT_EQ(key_slot(tag), s) << tag;
  }
}

TEST(RedisSlot, IdempotencyRecordsLiveInTheirStreamsSlot) {
  const char* channels[] = {"room:1", "a",      "{room}:1", "x{tag}y", "a}b",  "}",
                            "{}",     "{}x{y}", "a{b",      "{a}{b}",  "é{ü}", "{{x}}"};
  const char* prefixes[] = {"", "fr:", "{app}:", "app}"};
  for (const char* p : prefixes)
    for (const char* c : channels) {
      std::string stream = std::string(p) + c;
      auto record = idempotency_record_key(p, c, "key-1");
      EXPECT_EQ(key_slot(record), key_slot(stream)) << record;
      EXPECT_NE(record, stream);
      EXPECT_TRUE(record.starts_with(std::string(p) + "forrealtime-idem:{")) << record;
    }
  // Unambiguous: the channel's length is part of the name.
  EXPECT_NE(idempotency_record_key("", "{t}a", "b:c"), idempotency_record_key("", "{t}a:b", "c"));
  EXPECT_EQ(idempotency_record_key("fr:", "room:1", "k"),
            "fr:forrealtime-idem:{fr:room:1}6:room:1:k");
}

}  // namespace
}  // namespace forrealtime::redis
