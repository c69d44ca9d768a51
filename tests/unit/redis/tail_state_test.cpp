// The tail's bookkeeping without a server: what each batch's XREAD names (literal bytes), what
// a reply does to the positions and what is handed on, counted watches, batches filling and
// emptying, and stale answers about a removed watch.
#include <gtest/gtest.h>

#include "store/redis/resp.hpp"
#include "store/redis/tail_state.hpp"

namespace forrealtime::redis {
namespace {

Reply parse(std::string_view bytes) {
  ReplyReader reader;
  EXPECT_TRUE(reader.feed(bytes.data(), bytes.size()));
  return reader.next();
}

std::string read_of(const TailState& t, std::size_t b) {
  std::string out;
  if (!t.encode_read(b, 10, 500, out)) return "(none)";
  return out;
}

struct Handed {
  std::vector<std::string> log;
  TailState::Deliver fn() {
    return [this](std::string_view key, std::span<const StoredEntry> entries) {
      std::string s(key);
      for (auto& e : entries) s += " " + e.id.to_string() + "=" + e.message;
      log.push_back(s);
    };
  }
};

TEST(TailState, AKeyIsReadOnlyOnceItsPositionIsKnown) {
  TailState t(100);
  TailWatch& a = t.add_watcher("a");
  EXPECT_EQ(t.batch_count(), 0u);  // not yet placed: the latest id is being fetched
  EXPECT_EQ(t.place(a, {5, 0}), 0u);
  TailWatch& b = t.add_watcher("bb");
  EXPECT_EQ(t.place(b, {}), 0u);
  EXPECT_EQ(read_of(t, 0),
            "*10\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n$5\r\nBLOCK\r\n$3\r\n500\r\n"
            "$7\r\nSTREAMS\r\n$1\r\na\r\n$2\r\nbb\r\n$3\r\n5-0\r\n$3\r\n0-0\r\n");
  EXPECT_EQ(t.place(a, {4, 0}), TailState::none);  // already placed; never moves backwards
  EXPECT_EQ(*a.position, (StreamId{5, 0}));
}

TEST(TailState, ReplyAdvancesPositionsAndHandsOnOnlyNewEntries) {
  TailState t(100);
  t.place(t.add_watcher("a"), {5, 0});
  t.place(t.add_watcher("b"), {1, 0});
  Handed h;
  // a: 5-0 again (at the position: dropped) and 6-0; b: 2-0 without `message` then 3-0;
  // "gone" is not watched.
  auto r = parse(
      "*3\r\n"
      "*2\r\n$1\r\na\r\n*2\r\n"
      "*2\r\n$3\r\n5-0\r\n*2\r\n$7\r\nmessage\r\n$3\r\nold\r\n"
      "*2\r\n$3\r\n6-0\r\n*2\r\n$7\r\nmessage\r\n$3\r\nnew\r\n"
      "*2\r\n$1\r\nb\r\n*2\r\n"
      "*2\r\n$3\r\n2-0\r\n*2\r\n$5\r\nother\r\n$1\r\nx\r\n"
      "*2\r\n$3\r\n3-0\r\n*2\r\n$7\r\nmessage\r\n$1\r\ny\r\n"
      "*2\r\n$4\r\ngone\r\n*1\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$7\r\nmessage\r\n$1\r\nz\r\n");
  ASSERT_TRUE(t.apply_read(0, r.get(), h.fn()));
  EXPECT_EQ(h.log, (std::vector<std::string>{"a 6-0=new", "b 3-0=y"}));
  EXPECT_EQ(read_of(t, 0),
            "*10\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n$5\r\nBLOCK\r\n$3\r\n500\r\n"
            "$7\r\nSTREAMS\r\n$1\r\na\r\n$1\r\nb\r\n$3\r\n6-0\r\n$3\r\n3-0\r\n");
  // A timed-out or unblocked read (nil) changes nothing.
  ASSERT_TRUE(t.apply_read(0, parse("*-1\r\n").get(), h.fn()));
  EXPECT_EQ(h.log.size(), 2u);
  EXPECT_FALSE(t.apply_read(0, parse(":1\r\n").get(), h.fn()));
}

TEST(TailState, WatchesAreCountedAndTheLastUnwatchEmptiesTheRead) {
  TailState t(100);
  t.place(t.add_watcher("a"), {1, 0});
  t.add_watcher("a");
  std::vector<std::function<void(boost::system::error_code)>> orphans;
  EXPECT_EQ(t.remove_watcher("a", orphans), TailState::none);  // one watcher left
  EXPECT_EQ(t.batch_size(0), 1u);
  EXPECT_EQ(t.remove_watcher("a", orphans), 0u);  // batch 0 lost its key
  EXPECT_EQ(read_of(t, 0), "(none)");             // so no read stays parked in Redis
  EXPECT_EQ(t.remove_watcher("a", orphans), TailState::none);
  EXPECT_EQ(t.watch_count(), 0u);
}

TEST(TailState, BatchesFillUpToTheLimitAndReuseRoom) {
  TailState t(2);
  EXPECT_EQ(t.place(t.add_watcher("a"), {}), 0u);
  EXPECT_EQ(t.place(t.add_watcher("b"), {}), 0u);
  EXPECT_EQ(t.place(t.add_watcher("c"), {}), 1u);
  std::vector<std::function<void(boost::system::error_code)>> orphans;
  EXPECT_EQ(t.remove_watcher("a", orphans), 0u);
  // b moved into a's slot; the read still names every remaining key once.
  ASSERT_EQ(t.batch_size(0), 1u);
  EXPECT_EQ(t.batch_keys(0)[0]->key, "b");
  EXPECT_EQ(t.batch_keys(0)[0]->slot, 0u);
  EXPECT_EQ(t.place(t.add_watcher("d"), {}), 0u);
  EXPECT_EQ(t.batch_size(0), 2u);
  EXPECT_EQ(t.batch_size(1), 1u);
}

TEST(TailState, RepliesForKeysThatLeftTheBatchAreIgnored) {
  TailState t(1);
  t.place(t.add_watcher("a"), {1, 0});  // batch 0
  std::vector<std::function<void(boost::system::error_code)>> orphans;
  t.remove_watcher("a", orphans);
  t.place(t.add_watcher("x"), {});      // takes batch 0
  t.place(t.add_watcher("a"), {7, 0});  // back, in batch 1
  Handed h;
  // Batch 0's old read answers for a: batch 1 reads a now, from 7-0.
  auto r =
      parse("*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n8-0\r\n*2\r\n$7\r\nmessage\r\n$1\r\nm\r\n");
  ASSERT_TRUE(t.apply_read(0, r.get(), h.fn()));
  EXPECT_TRUE(h.log.empty());
  ASSERT_TRUE(t.apply_read(1, r.get(), h.fn()));
  EXPECT_EQ(h.log, std::vector<std::string>{"a 8-0=m"});
}

TEST(TailState, GenerationsTellARecreatedWatchFromTheOldOne) {
  TailState t(10);
  std::uint64_t old_gen = t.add_watcher("a").gen;
  std::vector<std::function<void(boost::system::error_code)>> orphans;
  int aborted = 0;
  t.find("a")->waiters.push_back([&](auto) { ++aborted; });
  t.remove_watcher("a", orphans);
  ASSERT_EQ(orphans.size(), 1u);  // the store completes them
  std::uint64_t new_gen = t.add_watcher("a").gen;
  EXPECT_NE(old_gen, new_gen);
  EXPECT_EQ(t.find("a", old_gen), nullptr);  // the old fetch's answer is dropped
  EXPECT_NE(t.find("a", new_gen), nullptr);
}

TEST(TailState, ParkedKeysLeaveTheRead) {
  TailState t(10);
  t.place(t.add_watcher("s"), {});
  t.place(t.add_watcher("ok"), {});
  EXPECT_EQ(t.park(*t.find("s")), 0u);
  EXPECT_EQ(t.batch_size(0), 1u);
  EXPECT_EQ(t.place(*t.find("s"), {}), TailState::none);  // stays out
  EXPECT_EQ(t.batch_size(0), 1u);
}

}  // namespace
}  // namespace forrealtime::redis
