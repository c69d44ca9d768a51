#include "core/names.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::core;

TEST(Names, Channels) {
  EXPECT_FALSE(check_channel("room:1"));
  EXPECT_FALSE(check_channel("ünïcödé 频道"));
  EXPECT_FALSE(check_channel(std::string(256, 'a')));
  EXPECT_TRUE(check_channel(""));
  EXPECT_TRUE(check_channel(std::string(257, 'a')));
  EXPECT_TRUE(check_channel("a\nb"));
  EXPECT_TRUE(check_channel(std::string("a\0b", 3)));
  EXPECT_TRUE(check_channel("a\x7f"));
  EXPECT_TRUE(check_channel("a\xc2\x85"));     // U+0085, a C1 control
  EXPECT_TRUE(check_channel("\xff\xfe"));      // not UTF-8
  EXPECT_TRUE(check_channel("\xc0\xaf"));      // overlong
  EXPECT_TRUE(check_channel("\xed\xa0\x80"));  // a surrogate
  EXPECT_EQ(*check_channel(""), "channel name is empty");
}

TEST(Names, Events) {
  EXPECT_FALSE(check_event_name("chat.message"));
  EXPECT_FALSE(check_event_name("a.b.c"));
  EXPECT_EQ(*check_event_name("message"), "event name must be namespace.event (e.g. chat.message)");
  EXPECT_TRUE(check_event_name(".message"));
  EXPECT_TRUE(check_event_name("chat."));
  EXPECT_TRUE(check_event_name("chat. x"));
  EXPECT_TRUE(check_event_name(""));
  EXPECT_TRUE(check_event_name("a.\tb"));
}

TEST(Names, Utf8) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9f\x98"));      // truncated
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}
