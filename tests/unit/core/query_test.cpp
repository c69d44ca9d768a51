#include "core/query.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::core;
using forrealtime::StreamId;

static SubscribeRequest ok(std::string_view q, std::size_t max = 100) {
  auto r = parse_subscribe(q, max);
  if (auto* e = std::get_if<QueryError>(&r)) ADD_FAILURE() << q << ": " << e->message;
  return std::get<SubscribeRequest>(r);
}
static std::string err(std::string_view q, std::size_t max = 100) {
  auto r = parse_subscribe(q, max);
  if (auto* e = std::get_if<QueryError>(&r)) return e->message;
  ADD_FAILURE() << q << " was accepted";
  return "";
}

TEST(Query, FormDecoding) {
  EXPECT_EQ(*form_decode("a+b%20c%3A%2f"), "a b c:/");
  EXPECT_FALSE(form_decode("%"));
  EXPECT_FALSE(form_decode("%2"));
  EXPECT_FALSE(form_decode("%zz"));
  EXPECT_FALSE(form_decode("a%"));
  EXPECT_FALSE(form_decode("%%41"));
  EXPECT_FALSE(form_decode("%4g"));
  EXPECT_EQ(*form_decode(""), "");
  EXPECT_EQ(*form_decode("%00%ff"), std::string("\0\xff", 2));
  auto f = *parse_form("a=1&&b=&c&d=x%26y");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ(f[2], (std::pair<std::string, std::string>{"c", ""}));
  EXPECT_EQ(f[3].second, "x&y");
  EXPECT_EQ(query_of("/p?x=1#frag"), "x=1");
  EXPECT_EQ(path_of("/api/realtime?x"), "/api/realtime");
}

TEST(Query, DefaultChannel) {
  auto r = ok("");
  ASSERT_EQ(r.channels, std::vector<std::string>{"default"});
  EXPECT_FALSE(r.last_acks[0]);
}

TEST(Query, ChannelsDeduplicatedInOrderWithAcks) {
  // As URLSearchParams writes it: ':' encoded, '+' for spaces.
  auto r =
      ok("channel=room%3A1&channel=b&channel=room%3A1&channel=a+b&last_ack_room%3A1=17-3&last_ack_"
         "a+b=5-0&last_ack_zzz=1-1");
  ASSERT_EQ(r.channels, (std::vector<std::string>{"room:1", "b", "a b"}));
  EXPECT_EQ(r.last_acks[0], (StreamId{17, 3}));
  EXPECT_FALSE(r.last_acks[1]);
  EXPECT_EQ(r.last_acks[2], (StreamId{5, 0}));
}

TEST(Query, Errors) {
  EXPECT_EQ(err("channel="), "invalid channel: channel name is empty");
  EXPECT_EQ(err("channel=%0A"), "invalid channel: channel name contains a control character");
  EXPECT_EQ(err("channel=" + std::string(257, 'x')),
            "invalid channel: channel name is longer than 256 bytes");
  EXPECT_EQ(err("channel=a&channel=b&channel=c", 2),
            "too many channels on one connection (the limit is 2)");
  EXPECT_EQ(err("channel=a&last_ack_a=nope"),
            "invalid last_ack_a: expected a stream id like 1700000000000-0");
  EXPECT_EQ(err("channel=%zz"), "the query string has a malformed percent-encoding");
}

TEST(Query, HistoryLast) {
  auto last_of = [](std::string_view q) -> std::optional<std::size_t> {
    auto r = parse_history(q);
    if (auto* e = std::get_if<QueryError>(&r)) {
      ADD_FAILURE() << q << ": " << e->message;
      return std::nullopt;
    }
    return std::get<HistoryRequest>(r).last;
  };
  auto refused = [](std::string_view q) {
    auto r = parse_history(q);
    if (auto* e = std::get_if<QueryError>(&r)) return e->message;
    ADD_FAILURE() << q << " was accepted";
    return std::string();
  };
  EXPECT_EQ(last_of("channel=c&last=20"), 20u);
  EXPECT_EQ(last_of("last=1"), 1u);
  EXPECT_EQ(last_of("last=1000"), 1000u);
  EXPECT_EQ(last_of("last=0020"), 20u);
  EXPECT_EQ(last_of("channel=c&last=5&after=1-0"), 5u);
  EXPECT_FALSE(last_of("channel=c"));
  for (auto q : {"last=0", "last=1001", "last=000", "last=99999999999999999999999"})
    EXPECT_NE(refused(q).find("from 1 to 1000"), std::string::npos) << q;
  for (auto q : {"last=", "last=abc", "last=-1", "last=%2B5", "last=5x", "last=%205", "last=1e3",
                 "last=0x10"})
    EXPECT_EQ(refused(q), "last must be a number from 1 to 1000") << q;
  for (auto q : {"last=5&limit=10", "limit=10&last=5", "limit=1000&last=5"})
    EXPECT_NE(refused(q).find("last and limit cannot be given together"), std::string::npos) << q;
}

TEST(Merge, ReplayAndLiveMeetWithoutGapOrDuplicate) {
  MergeCursor m(2);
  // replay delivered 1..3 on channel 0; the connected cursor was 3
  EXPECT_TRUE(m.accept(0, {1, 0}));
  EXPECT_TRUE(m.accept(0, {2, 0}));
  EXPECT_TRUE(m.accept(0, {3, 0}));
  m.advance(0, {3, 0});
  // live entries buffered during the replay: 3 (already replayed) and 4
  EXPECT_FALSE(m.accept(0, {3, 0}));
  EXPECT_TRUE(m.accept(0, {4, 0}));
  EXPECT_FALSE(m.accept(0, {4, 0}));
  // channels are independent
  m.advance(1, {10, 0});
  EXPECT_FALSE(m.accept(1, {9, 5}));
  EXPECT_TRUE(m.accept(1, {10, 1}));
  EXPECT_EQ(m.last(0), (StreamId{4, 0}));
}

TEST(Query, HistoryParameters) {
  auto ok = [](std::string_view q) {
    auto r = parse_history(q);
    if (auto* e = std::get_if<QueryError>(&r)) ADD_FAILURE() << q << ": " << e->message;
    return std::get<HistoryRequest>(r);
  };
  auto h = ok("channel=a%20b&limit=10&after=5-1&start=1&end=18446744073709551615&x=y");
  EXPECT_EQ(h.channel, "a b");
  EXPECT_EQ(h.limit, 10u);
  EXPECT_EQ(*h.after, (StreamId{5, 1}));
  EXPECT_EQ(*h.start, 1u);
  EXPECT_EQ(*h.end, UINT64_MAX);
  EXPECT_EQ(ok("").channel, "default");
  EXPECT_EQ(ok("").limit, kMaxHistoryLimit);
  EXPECT_EQ(ok("limit=18446744073709551615").limit, kMaxHistoryLimit);
  for (const char* bad : {"limit=0", "limit=-1", "limit=99999999999999999999",
                          "start=99999999999999999999", "end=18446744073709551616", "limit=%2B1",
                          "start=", "after=1", "after=1-x", "channel=%zz"}) {
    auto r = parse_history(bad);
    EXPECT_TRUE(std::holds_alternative<QueryError>(r)) << bad;
  }
}

// The bytes browsers' URLSearchParams writes, decoded as URLSearchParams reads them (node:
// `p.append("ch an+nel", "x y+z&=\u00e9%~*\u0001!'()"); p.append("last_ack_a:b", "1-0");
// p.toString()`, and `[...new URLSearchParams("a=%41%2b+%2B&b=%c3%a9")]`).
TEST(Query, FormDecodingMatchesUrlSearchParams) {
  auto f = parse_form("ch+an%2Bnel=x+y%2Bz%26%3D%C3%A9%25%7E*%01%21%27%28%29&last_ack_a%3Ab=1-0");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ((*f)[0].first, "ch an+nel");
  EXPECT_EQ((*f)[0].second, "x y+z&=\xc3\xa9%~*\x01!'()");
  EXPECT_EQ((*f)[1].first, "last_ack_a:b");
  EXPECT_EQ((*f)[1].second, "1-0");
  f = parse_form("a=%41%2b+%2B&b=%c3%a9");
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)[0].second, "A+ +");
  EXPECT_EQ((*f)[1].second, "\xc3\xa9");
}

TEST(Query, PercentDecodingKeepsPlus) {
  EXPECT_EQ(*percent_decode("/a+b%20c%2B"), "/a+b c+");
  EXPECT_FALSE(percent_decode("/%2"));
  EXPECT_FALSE(percent_decode("/%g0"));
}
