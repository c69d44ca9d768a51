// The Redis store's pure parts, with literal bytes: URL parsing, command encoding (the
// storage format of PROTOCOL.md section 6 as it goes on the wire), reply decoding, and the
// pipeline state machine. No server.
#include <gtest/gtest.h>

#include "forrealtime/redis_store.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/pipeline.hpp"
#include "store/redis/resp.hpp"

namespace forrealtime::redis {
namespace {

using namespace std::string_literals;

Reply parse(std::string_view bytes) {
  ReplyReader reader;
  EXPECT_TRUE(reader.feed(bytes.data(), bytes.size()));
  auto r = reader.next();
  EXPECT_TRUE(r) << "incomplete reply: " << bytes;
  return r;
}

// --- URL ------------------------------------------------------------------------------------

TEST(RedisUrl, HostOnlyDefaultsPortAndDb) {
  auto ep = parse_redis_url("redis://cache.internal");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "cache.internal");
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 0u);
  EXPECT_FALSE(ep->has_password);
}

TEST(RedisUrl, PortAndDb) {
  auto ep = parse_redis_url("redis://127.0.0.1:6380/3");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->db, 3u);
}

TEST(RedisUrl, PasswordWithoutUser) {
  auto ep = parse_redis_url("redis://:s3cr%40t@h:1/");
  ASSERT_TRUE(ep);
  EXPECT_TRUE(ep->has_password);
  EXPECT_EQ(ep->user, "");
  EXPECT_EQ(ep->password, "s3cr@t");
  EXPECT_EQ(ep->port, 1);
  EXPECT_EQ(ep->db, 0u);
}

TEST(RedisUrl, UserAndPassword) {
  auto ep = parse_redis_url("redis://app:pw%3Ax@redis:6379/15");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->user, "app");
  EXPECT_EQ(ep->password, "pw:x");
  EXPECT_EQ(ep->host, "redis");
  EXPECT_EQ(ep->db, 15u);
}

TEST(RedisUrl, Ipv6) {
  auto ep = parse_redis_url("redis://[::1]:7000");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 7000);
}

TEST(RedisUrl, RedissIsTlsWithTheSameParts) {
  auto ep = parse_redis_url("rediss://app:pw@cache.example:6380/2");
  ASSERT_TRUE(ep);
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->user, "app");
  EXPECT_EQ(ep->password, "pw");
  EXPECT_EQ(ep->host, "cache.example");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->db, 2u);
  ep = parse_redis_url("redis://h");
  ASSERT_TRUE(ep);
  EXPECT_FALSE(ep->tls);
}

TEST(RedisUrl, SentinelListsTheSentinelsTheMasterNameAndTheNodesCredentials) {
  auto s =
      parse_redis_sentinel_url("redis+sentinel://app:p%40w@s1:26380,10.0.0.2,[::1]:7/mymaster/3");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->sentinels.size(), 3u);
  EXPECT_EQ(s->sentinels[0], std::make_pair(std::string("s1"), std::uint16_t(26380)));
  EXPECT_EQ(s->sentinels[1], std::make_pair(std::string("10.0.0.2"), std::uint16_t(26379)));
  EXPECT_EQ(s->sentinels[2], std::make_pair(std::string("::1"), std::uint16_t(7)));
  EXPECT_EQ(s->master_name, "mymaster");
  EXPECT_EQ(s->node.user, "app");
  EXPECT_EQ(s->node.password, "p@w");
  EXPECT_EQ(s->node.db, 3u);
  EXPECT_FALSE(s->node.tls);
  EXPECT_TRUE(s->node.host.empty());  // the sentinels name it
  s = parse_redis_sentinel_url("rediss+sentinel://h/m");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->node.tls);
  EXPECT_FALSE(s->node.has_password);
  for (auto bad : {"redis+sentinel://h", "redis+sentinel://h/", "redis+sentinel:///m",
                   "redis+sentinel://h,/m", "redis+sentinel://,h/m", "redis+sentinel://h:0/m",
                   "redis+sentinel://h/m/x", "redis+sentinel://h/m?x=1", "redis://h/m",
                   "redis+sentinel://h:1:2/m", "redis+sentinel://a@b@h/m"})
    EXPECT_FALSE(parse_redis_sentinel_url(bad)) << bad;
}

TEST(RedisUrl, Rejects) {
  for (auto bad : {"", "redis:/h", "http://h", "redis+tls://h", "REDISS://h", "rediss:/h",
                   "redis://", "redis://h:", "redis://h:0", "redis://h:65536", "redis://h:12x",
                   "redis://h/x", "redis://h/-1", "redis://:%zz@h", "redis://[::1",
                   "redis://[::1]x", "redis://h?db=1", "redis://@"})
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
  // What else a strict parser refuses: a raw '@' in the userinfo, a query or fragment after the
  // database, a database written with escapes or a sign, a host that decodes to a space or a
  // control character, an IPvFuture literal, an upper-case scheme, a missing authority.
  for (auto bad :
       {"redis://a@b@h", "redis://h/1?x=2", "redis://h/1#f", "redis://h#f", "redis://h/%33",
        "redis://h/+1", "redis://h/1/2", "redis://h%20x", "redis://h%0Ax:1", "redis://[v1.x]:1",
        "REDIS://h", "redis:h", "redis:", "redis://h:+1", "redis://h: 1", "redis:// h"})
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
}

TEST(RedisUrl, LoneTokenIsThePasswordAndEmptyPasswordCounts) {
  auto ep = parse_redis_url("redis://s%3Acret@h");
  ASSERT_TRUE(ep);
  EXPECT_TRUE(ep->has_password);
  EXPECT_EQ(ep->user, "");
  EXPECT_EQ(ep->password, "s:cret");
  ep = parse_redis_url("redis://app:@h/2");
  ASSERT_TRUE(ep);
  EXPECT_TRUE(ep->has_password);
  EXPECT_EQ(ep->user, "app");
  EXPECT_EQ(ep->password, "");
  EXPECT_EQ(ep->db, 2u);
}

TEST(RedisUrl, HostsAndPorts) {
  auto ep = parse_redis_url("redis://10.0.0.7:65535/");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "10.0.0.7");
  EXPECT_EQ(ep->port, 65535);
  ep = parse_redis_url("redis://[2001:db8::1]/4");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "2001:db8::1");
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 4u);
  // Percent-encoding in a password passes every byte through, '+' included (not a space).
  ep = parse_redis_url("redis://:a+b%2Fc%25@h");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->password, "a+b/c%");
}

// --- commands: the storage format on the wire -----------------------------------------------

TEST(RedisCommands, EncodeIsArrayOfBulkStrings) {
  std::string out;
  encode_command(out, {"PING"});
  encode_command(out, {"SET", "k", ""});
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

// Lengths on every side of a digit boundary, and more arguments than 9: the encoder sizes the
// output first, so a miscounted digit would show as a wrong byte here.
TEST(RedisCommands, EncodeLengthsAcrossDigitBoundaries) {
  for (std::size_t n : {9u, 10u, 99u, 100u, 999u, 1000u, 65536u}) {
    std::string arg(n, 'x');
    std::vector<std::string_view> args(11, std::string_view(arg));
    args[0] = "CMD";
    std::string out = "prefix";
    encode_command(out, args);
    std::string want = "prefix*11\r\n$3\r\nCMD\r\n";
    for (int i = 0; i < 10; ++i) want += "$" + std::to_string(n) + "\r\n" + arg + "\r\n";
    EXPECT_EQ(out, want) << n;
  }
}

TEST(RedisCommands, XaddWithoutCap) {
  std::string out;
  append_xadd(out, "room:1", R"({"channel":"room:1","event":"a.b","data":1})", 0);
  EXPECT_EQ(out,
            "*5\r\n$4\r\nXADD\r\n$6\r\nroom:1\r\n$1\r\n*\r\n$7\r\nmessage\r\n"
            "$43\r\n{\"channel\":\"room:1\",\"event\":\"a.b\",\"data\":1}\r\n");
}

TEST(RedisCommands, XaddWithApproximateMaxlenThenExpire) {
  std::string out;
  append_xadd(out, "p:c", "{}", 1000);
  append_expire(out, "p:c", 3600);
  EXPECT_EQ(out,
            "*8\r\n$4\r\nXADD\r\n$3\r\np:c\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n$4\r\n1000\r\n"
            "$1\r\n*\r\n$7\r\nmessage\r\n$2\r\n{}\r\n"
            "*3\r\n$6\r\nEXPIRE\r\n$3\r\np:c\r\n$4\r\n3600\r\n");
}

TEST(RedisCommands, Latest) {
  std::string out;
  append_latest(out, "k");
  EXPECT_EQ(out,
            "*6\r\n$9\r\nXREVRANGE\r\n$1\r\nk\r\n$1\r\n+\r\n$1\r\n-\r\n$5\r\nCOUNT\r\n$1\r\n1\r\n");
}

TEST(RedisCommands, RangeForms) {
  std::string out;
  append_xrange(out, "k", RangeQuery{});
  EXPECT_EQ(out,
            "*6\r\n$6\r\nXRANGE\r\n$1\r\nk\r\n$1\r\n-\r\n$1\r\n+\r\n$5\r\nCOUNT\r\n$4\r\n1000\r\n");
  out.clear();
  append_xrange(out, "k", RangeQuery{{5, 1}, true, {9, 0}, 10});
  EXPECT_EQ(
      out,
      "*6\r\n$6\r\nXRANGE\r\n$1\r\nk\r\n$4\r\n(5-1\r\n$3\r\n9-0\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n");
  out.clear();
  append_xrange(out, "k", RangeQuery{{7, 0}, false, StreamId::max(), 1});
  EXPECT_EQ(out,
            "*6\r\n$6\r\nXRANGE\r\n$1\r\nk\r\n$3\r\n7-0\r\n$1\r\n+\r\n$5\r\nCOUNT\r\n$1\r\n1\r\n");
}

TEST(RedisCommands, NewestFirstIsXrevrangeWithEndThenStart) {
  std::string out;
  append_xrange(out, "k", RangeQuery{.limit = 20, .newest_first = true});
  EXPECT_EQ(out,
            "*6\r\n$9\r\nXREVRANGE\r\n$1\r\nk\r\n$1\r\n+\r\n$1\r\n-\r\n$5\r\nCOUNT\r\n$2\r\n"
            "20\r\n");
  out.clear();
  append_xrange(out, "k", RangeQuery{{5, 1}, true, {9, 0}, 10, true});
  EXPECT_EQ(out,
            "*6\r\n$9\r\nXREVRANGE\r\n$1\r\nk\r\n$3\r\n9-0\r\n$4\r\n(5-1\r\n$5\r\nCOUNT\r\n$2\r\n"
            "10\r\n");
  out.clear();
  append_xrange(out, "k", RangeQuery{{7, 0}, false, StreamId::max(), 1000, true});
  EXPECT_EQ(out,
            "*6\r\n$9\r\nXREVRANGE\r\n$1\r\nk\r\n$1\r\n+\r\n$3\r\n7-0\r\n$5\r\nCOUNT\r\n$4\r\n"
            "1000\r\n");
}

TEST(RedisCommands, XreadNamesEveryKeyThenEveryId) {
  std::string out;
  std::vector<std::string_view> keys = {"a", "bb"};
  std::vector<StreamId> ids = {{1, 0}, {20, 3}};
  append_xread(out, 100, 5000, keys, ids);
  EXPECT_EQ(out,
            "*10\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$3\r\n100\r\n$5\r\nBLOCK\r\n$4\r\n5000\r\n"
            "$7\r\nSTREAMS\r\n$1\r\na\r\n$2\r\nbb\r\n$3\r\n1-0\r\n$4\r\n20-3\r\n");
}

// --- replies ----------------------------------------------------------------------------------

TEST(RedisReplies, EntriesKeepOnlyTheMessageField) {
  auto r = parse(
      "*3\r\n"
      "*2\r\n$3\r\n1-0\r\n*2\r\n$7\r\nmessage\r\n$2\r\n{}\r\n"
      "*2\r\n$3\r\n1-1\r\n*2\r\n$5\r\nother\r\n$1\r\nx\r\n"
      "*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\na\r\n$1\r\nb\r\n$7\r\nmessage\r\n$3\r\n[1]\r\n");
  std::vector<StoredEntry> entries;
  StreamId last{};
  ASSERT_TRUE(decode_entries(r.get(), entries, &last));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].id, (StreamId{1, 0}));
  EXPECT_EQ(entries[0].message, "{}");
  EXPECT_EQ(entries[1].id, (StreamId{2, 0}));
  EXPECT_EQ(entries[1].message, "[1]");
  EXPECT_EQ(last, (StreamId{2, 0}));
}

TEST(RedisReplies, MalformedEntriesAreRejected) {
  std::vector<StoredEntry> entries;
  EXPECT_FALSE(decode_entries(parse("*1\r\n*2\r\n$5\r\nnotid\r\n*0\r\n").get(), entries));
  EXPECT_FALSE(decode_entries(parse(":1\r\n").get(), entries));
}

TEST(RedisReplies, Latest) {
  EXPECT_EQ(*decode_latest(parse("*0\r\n").get()), (StreamId{}));
  EXPECT_EQ(
      *decode_latest(parse("*1\r\n*2\r\n$4\r\n17-2\r\n*2\r\n$7\r\nmessage\r\n$0\r\n\r\n").get()),
      (StreamId{17, 2}));
  auto wrong = decode_latest(parse("-WRONGTYPE Operation against a key\r\n").get());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), make_error_code(store_errc::protocol));
  auto loading = decode_latest(parse("-LOADING Redis is loading\r\n").get());
  EXPECT_EQ(loading.error(), make_error_code(store_errc::unavailable));
}

TEST(RedisReplies, InfoOfRedis7AfterTrimming) {
  // XINFO STREAM as Redis 7.0 sends it (RESP2) for a stream of 10 kept out of 25 added.
  auto r = parse(
      "*20\r\n"
      "$6\r\nlength\r\n:10\r\n"
      "$15\r\nradix-tree-keys\r\n:1\r\n"
      "$16\r\nradix-tree-nodes\r\n:2\r\n"
      "$17\r\nlast-generated-id\r\n$4\r\n9-24\r\n"
      "$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n"
      "$13\r\nentries-added\r\n:25\r\n"
      "$23\r\nrecorded-first-entry-id\r\n$4\r\n9-15\r\n"
      "$6\r\ngroups\r\n:0\r\n"
      "$11\r\nfirst-entry\r\n*2\r\n$4\r\n9-15\r\n*2\r\n$7\r\nmessage\r\n$2\r\n{}\r\n"
      "$10\r\nlast-entry\r\n*2\r\n$4\r\n9-24\r\n*2\r\n$7\r\nmessage\r\n$2\r\n{}\r\n");
  auto info = decode_info(r.get());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->length, 10u);
  EXPECT_EQ(info->entries_added, 25u);
  EXPECT_EQ(info->first, (StreamId{9, 15}));
  EXPECT_EQ(info->last, (StreamId{9, 24}));
  EXPECT_FALSE(info->max_trimmed_known);
}

TEST(RedisReplies, InfoOfRedis6HasNoEntriesAdded) {
  auto r = parse(
      "*6\r\n$6\r\nlength\r\n:2\r\n"
      "$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*0\r\n"
      "$10\r\nlast-entry\r\n*2\r\n$3\r\n2-0\r\n*0\r\n");
  auto info = decode_info(r.get());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->entries_added, 2u);
  EXPECT_EQ(info->first, (StreamId{1, 0}));
  EXPECT_EQ(info->last, (StreamId{2, 0}));
}

TEST(RedisReplies, InfoOfMissingKeyIsAllZero) {
  auto info = decode_info(parse("-ERR no such key\r\n").get());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->length, 0u);
  EXPECT_EQ(info->entries_added, 0u);
  EXPECT_TRUE(info->first.is_zero());
  EXPECT_TRUE(info->last.is_zero());
}

TEST(RedisReplies, XreadWalksKeys) {
  auto r = parse(
      "*2\r\n"
      "*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$7\r\nmessage\r\n$1\r\n1\r\n"
      "*2\r\n$1\r\nb\r\n*2\r\n"
      "*2\r\n$3\r\n6-0\r\n*2\r\n$7\r\nmessage\r\n$1\r\n2\r\n"
      "*2\r\n$3\r\n6-1\r\n*2\r\n$1\r\nx\r\n$1\r\n3\r\n");
  std::vector<std::string> seen;
  ASSERT_TRUE(
      decode_xread(r.get(), [&](std::string_view key, std::vector<StoredEntry>& e, StreamId last) {
        std::string s(key);
        for (auto& x : e) s += " " + x.id.to_string() + "=" + x.message;
        s += " last=" + last.to_string();
        seen.push_back(s);
      }));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "a 5-0=1 last=5-0");
  // The entry without `message` is not handed on, but the position moves past it.
  EXPECT_EQ(seen[1], "b 6-0=2 last=6-1");
  EXPECT_TRUE(decode_xread(parse("*-1\r\n").get(), [](auto, auto&, auto) { FAIL(); }));
}

// --- the pipeline -----------------------------------------------------------------------------

TEST(RedisReplies, HugeArrayHeaderIsAProtocolErrorNotAnAllocation) {
  // Before the bound, hiredis calloc'ed 1111111111 pointers (9 GB) on this header alone:
  // fuzz_resp ran out of memory on it.
  for (std::string bytes : {"*1111111111\r\n", "*1048577\r\n", "*2\r\n*1111111111\r\n"}) {
    ReplyReader reader;
    reader.feed(bytes.data(), bytes.size());
    EXPECT_FALSE(reader.next()) << bytes;
    EXPECT_TRUE(reader.failed()) << bytes;
  }
  // A large but reasonable array still parses.
  std::string big = "*1000\r\n";
  for (int i = 0; i < 1000; ++i) big += ":1\r\n";
  auto r = parse(big);
  ASSERT_TRUE(r);
  EXPECT_EQ(size(r.get()), 1000u);
  // So does a nil array.
  EXPECT_TRUE(is_nil(parse("*-1\r\n").get()));
}

TEST(RedisPipeline, RepliesGoToCommandsInOrderAcrossSplitReads) {
  Pipeline p;
  std::vector<std::string> got;
  auto far = Pipeline::Clock::now() + std::chrono::hours(1);
  encode_command(p.out(), {"PING"});
  p.expect(
      [&](Reply r, boost::system::error_code ec) { got.push_back(std::string(text(r.get()))); },
      far);
  encode_command(p.out(), {"INCR", "n"});
  p.expect(
      [&](Reply r, boost::system::error_code ec) {
        long long n = 0;
        ASSERT_TRUE(to_int(r.get(), n));
        got.push_back(std::to_string(n));
      },
      far);
  std::string wire;
  p.take_output(wire);
  EXPECT_EQ(wire, "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
  EXPECT_FALSE(p.has_output());
  std::string in = "+PONG\r\n:42\r\n";
  EXPECT_FALSE(p.on_bytes(in.data(), 3));
  EXPECT_TRUE(got.empty());
  EXPECT_FALSE(p.on_bytes(in.data() + 3, 6));
  EXPECT_EQ(got, std::vector<std::string>{"PONG"});
  EXPECT_FALSE(p.on_bytes(in.data() + 9, in.size() - 9));
  EXPECT_EQ(got, (std::vector<std::string>{"PONG", "42"}));
  EXPECT_EQ(p.pending(), 0u);
}

TEST(RedisPipeline, UnaskedReplyAndGarbageAreProtocolErrors) {
  Pipeline a;
  EXPECT_EQ(a.on_bytes("+OK\r\n", 5), make_error_code(store_errc::protocol));
  Pipeline b;
  b.expect([](Reply, boost::system::error_code) {}, Pipeline::Clock::now());
  EXPECT_EQ(b.on_bytes("?what\r\n", 7), make_error_code(store_errc::protocol));
}

TEST(RedisPipeline, TimeoutCompletesEarlyAndTheLateReplyIsDropped) {
  Pipeline p;
  auto t0 = Pipeline::Clock::now();
  std::vector<std::string> got;
  auto record = [&](std::string tag) {
    return [&got, tag](Reply r, boost::system::error_code ec) {
      got.push_back(tag + ":" + (ec ? ec.message() : std::string(text(r.get()))));
    };
  };
  p.expect(record("slow"), t0 + std::chrono::milliseconds(100));
  p.expect(record("next"), t0 + std::chrono::milliseconds(1000));
  EXPECT_FALSE(p.on_tick(t0 + std::chrono::milliseconds(150), std::chrono::milliseconds(100)));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "slow:" + make_error_code(store_errc::timeout).message());
  // Late by more than the grace: the connection is to be dropped.
  EXPECT_TRUE(p.on_tick(t0 + std::chrono::milliseconds(250), std::chrono::milliseconds(100)));
  EXPECT_FALSE(p.on_bytes("+late\r\n+ok\r\n", 12));
  EXPECT_EQ(got, (std::vector<std::string>{"slow:" + make_error_code(store_errc::timeout).message(),
                                           "next:ok"}));
}

TEST(RedisPipeline, FailAllCompletesEveryCommandOnceAndKillsThePipeline) {
  Pipeline p;
  int failures = 0;
  auto far = Pipeline::Clock::now() + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i)
    p.expect(
        [&](Reply r, boost::system::error_code ec) {
          EXPECT_EQ(ec, make_error_code(store_errc::unavailable));
          ++failures;
        },
        far);
  p.fail_all(store_errc::unavailable);
  EXPECT_EQ(failures, 3);
  p.expect([&](Reply, boost::system::error_code ec) { ++failures; }, far);
  EXPECT_EQ(failures, 4);
  EXPECT_FALSE(p.on_bytes("+OK\r\n", 5));
  EXPECT_EQ(failures, 4);
}

// Defect 11: a command written to Redis whose reply never came may have been executed (an XADD
// stored): it must not be reported as "not done" (unavailable) but as outcome unknown (timeout).
TEST(RedisPipeline, FailAllTellsSentCommandsFromUnsentOnes) {
  Pipeline p;
  auto far = Pipeline::Clock::now() + std::chrono::hours(1);
  std::vector<boost::system::error_code> got;
  auto record = [&](Reply, boost::system::error_code ec) { got.push_back(ec); };
  for (int i = 0; i < 3; ++i) {
    encode_command(p.out(), {"XADD", "k", "*", "message", "{}"});
    p.expect(record, far);
  }
  std::string wire;
  p.take_output(wire);
  EXPECT_EQ(p.sent(), 3u);
  EXPECT_FALSE(p.on_bytes("$3\r\n1-0\r\n", 9));  // the first one answered
  EXPECT_EQ(p.sent(), 2u);
  encode_command(p.out(), {"XADD", "k", "*", "message", "{}"});
  p.expect(record, far);  // queued while a write is in flight: never sent
  p.fail_all(store_errc::unavailable);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_FALSE(got[0]);
  EXPECT_EQ(got[1], make_error_code(store_errc::timeout));
  EXPECT_EQ(got[2], make_error_code(store_errc::timeout));
  EXPECT_EQ(got[3], make_error_code(store_errc::unavailable));
  EXPECT_EQ(p.sent(), 0u);
}

TEST(RedisPipeline, CallbackMayQueueTheNextCommand) {
  Pipeline p;
  auto far = Pipeline::Clock::now() + std::chrono::hours(1);
  int rounds = 0;
  std::function<void(Reply, boost::system::error_code)> again = [&](Reply,
                                                                    boost::system::error_code) {
    if (++rounds < 3) {
      encode_command(p.out(), {"PING"});
      p.expect(again, far);
    }
  };
  p.expect(again, far);
  EXPECT_FALSE(p.on_bytes("+a\r\n+b\r\n+c\r\n", 12));
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(p.pending(), 0u);
}

}  // namespace
}  // namespace forrealtime::redis
