#include "forrealtime/stream_id.hpp"

#include <gtest/gtest.h>

using forrealtime::StreamId;

TEST(StreamId, ParsesAndFormats) {
  auto id = StreamId::parse("1700000000000-3");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1700000000000u);
  EXPECT_EQ(id->seq, 3u);
  EXPECT_EQ(id->to_string(), "1700000000000-3");
  EXPECT_EQ(StreamId::max().to_string(), "18446744073709551615-18446744073709551615");
}

TEST(StreamId, RejectsMalformed) {
  for (const char* bad : {"", "-", "1", "1-", "-1", "a-1", "1-b", "1-2-3", " 1-2", "1-2 ", "+1-2",
                          "18446744073709551616-0", "1.5-0", "0x1-0"})
    EXPECT_FALSE(StreamId::parse(bad)) << bad;
}

TEST(StreamId, ComparesNumericallyNotAsText) {
  EXPECT_LT(*StreamId::parse("9-0"), *StreamId::parse("10-0"));
  EXPECT_LT(*StreamId::parse("10-9"), *StreamId::parse("10-10"));
  EXPECT_EQ((StreamId{5, 18446744073709551615u}.next()), (StreamId{6, 0}));
  EXPECT_EQ(StreamId::max().next(), StreamId::max());
}
