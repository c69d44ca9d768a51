// The tail's bookkeeping without a server: what each batch's XREAD names (literal bytes), what
// a reply does to the positions and what is handed on, counted watches, batches filling and
// emptying, and stale answers about a removed watch.
#include <gtest/gtest.h>

#include "store/redis/resp.hpp"
#include "store/redis/tail_io.hpp"
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
  t.set_batched(true);
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
  t.set_batched(true);
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
  t.set_batched(true);
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
  t.set_batched(true);
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
  t.set_batched(true);
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
  t.set_batched(true);
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
  t.set_batched(true);
  t.place(t.add_watcher("s"), {});
  t.place(t.add_watcher("ok"), {});
  EXPECT_EQ(t.park(*t.find("s")), 0u);
  EXPECT_EQ(t.batch_size(0), 1u);
  EXPECT_EQ(t.place(*t.find("s"), {}), TailState::none);  // stays out
  EXPECT_EQ(t.batch_size(0), 1u);
}

// --- wake-ups ----------------------------------------------------------------------------------

std::string subs_of(TailState& t) {
  std::string out;
  if (!t.encode_subscriptions(out, 2)) return "(none)";
  return out;
}

std::string wake_read_of(TailState& t, TailTicket& ticket, std::size_t max_keys = 10) {
  std::string out;
  if (!t.encode_wake_read(max_keys, 10, out, ticket)) return "(none)";
  return out;
}

Reply push(std::string_view kind, std::string_view channel, std::string_view third = "") {
  std::string bytes = "*3\r\n$" + std::to_string(kind.size()) + "\r\n" + std::string(kind) +
                      "\r\n$" + std::to_string(channel.size()) + "\r\n" + std::string(channel) +
                      "\r\n";
  if (kind == "message")
    bytes += "$" + std::to_string(third.size()) + "\r\n" + std::string(third) + "\r\n";
  else
    bytes += ":1\r\n";
  return parse(bytes);
}

TEST(TailStateWakeups, SubscriptionsAreWrittenInOrderAndOnlyTheLastOneConfirms) {
  TailState t(100, 3);
  TailWatch& a = t.add_watcher("a");
  t.subscribe(a);
  t.subscribe(t.add_watcher("b"));
  t.subscribe(t.add_watcher("c"));
  EXPECT_EQ(a.sub, TailWatch::Sub::pending);
  std::vector<std::function<void(boost::system::error_code)>> orphans;
  t.remove_watcher("a", orphans);   // UNSUBSCRIBE queued after its SUBSCRIBE
  t.subscribe(t.add_watcher("a"));  // and SUBSCRIBE again after that
  // Runs of one kind become one command (at most 2 channels each here), in order.
  EXPECT_EQ(subs_of(t),
            "*3\r\n$9\r\nSUBSCRIBE\r\n$16\r\n__keyspace@3__:a\r\n$16\r\n__keyspace@3__:b\r\n"
            "*2\r\n$9\r\nSUBSCRIBE\r\n$16\r\n__keyspace@3__:c\r\n"
            "*2\r\n$11\r\nUNSUBSCRIBE\r\n$16\r\n__keyspace@3__:a\r\n"
            "*2\r\n$9\r\nSUBSCRIBE\r\n$16\r\n__keyspace@3__:a\r\n");
  EXPECT_EQ(subs_of(t), "(none)");

  auto on = [&](std::string_view kind, std::string_view key) -> std::string {
    auto r = push(kind, "__keyspace@3__:" + std::string(key));
    TailPush p = t.decode_push(r.get());
    TailWatch* w = t.on_subscription_reply(p.key);
    return w ? w->key : "-";
  };
  // The first SUBSCRIBE of a was for the removed watch: Redis unsubscribes it next, so the new
  // watch is confirmed only by the last reply about it.
  EXPECT_EQ(on("subscribe", "a"), "-");
  EXPECT_EQ(on("subscribe", "b"), "b");
  EXPECT_EQ(on("subscribe", "c"), "c");
  EXPECT_EQ(on("unsubscribe", "a"), "-");
  EXPECT_EQ(t.find("a")->sub, TailWatch::Sub::pending);
  EXPECT_EQ(on("subscribe", "a"), "a");
  EXPECT_EQ(t.find("a")->sub, TailWatch::Sub::confirmed);
  EXPECT_EQ(on("subscribe", "zzz"), "-");  // not ours
}

TEST(TailStateWakeups, PushRepliesAreDecoded) {
  TailState t(100);
  auto m = push("message", "__keyspace@0__:room:1", "xadd");
  TailPush p = t.decode_push(m.get());
  EXPECT_EQ(p.kind, TailPush::Kind::message);
  EXPECT_EQ(p.key, "room:1");
  EXPECT_EQ(p.event, "xadd");
  // Another db's channel is not ours.
  auto other = push("message", "__keyspace@1__:room:1", "xadd");
  EXPECT_EQ(t.decode_push(other.get()).kind, TailPush::Kind::other);
  EXPECT_EQ(t.decode_push(parse("*2\r\n$4\r\npong\r\n$0\r\n\r\n").get()).kind,
            TailPush::Kind::pong);
  EXPECT_EQ(t.decode_push(parse("+PONG\r\n").get()).kind, TailPush::Kind::pong);
  EXPECT_EQ(t.decode_push(parse("-NOPERM no\r\n").get()).kind, TailPush::Kind::other);
}

// Subscribes and confirms `key`, then places it at `pos`.
TailWatch& ready(TailState& t, std::string_view key, StreamId pos) {
  TailWatch& w = t.add_watcher(key);
  t.subscribe(w);
  std::string ignored;
  t.encode_subscriptions(ignored);
  EXPECT_EQ(t.on_subscription_reply(key), &w);
  EXPECT_EQ(t.place(w, pos), TailState::none);  // no batches with wake-ups
  return w;
}

TEST(TailStateWakeups, WokenKeysAreReadOnceFromTheirPositionsWithoutBlocking) {
  TailState t(100);
  TailTicket ticket;
  TailWatch& u = t.add_watcher("unplaced");
  t.subscribe(u);
  t.wake("unplaced");  // its position is being fetched: that read will see everything
  t.wake("unknown");
  EXPECT_EQ(wake_read_of(t, ticket), "(none)");

  ready(t, "a", {5, 0});
  ready(t, "bb", {7, 1});
  ready(t, "quiet", {1, 0});
  t.wake("a");
  t.wake("bb");
  t.wake("a");  // woken twice in one turn: named once
  EXPECT_EQ(wake_read_of(t, ticket),
            "*8\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n$7\r\nSTREAMS\r\n"
            "$1\r\na\r\n$2\r\nbb\r\n$3\r\n5-0\r\n$3\r\n7-1\r\n");
  EXPECT_EQ(ticket.size(), 2u);
  // Woken again while its read is out: not read twice at once, but read again after it.
  t.wake("a");
  TailTicket second;
  EXPECT_EQ(wake_read_of(t, second), "(none)");

  Handed h;
  auto r = parse(
      "*1\r\n*2\r\n$1\r\na\r\n*2\r\n"
      "*2\r\n$3\r\n5-0\r\n*2\r\n$7\r\nmessage\r\n$3\r\nold\r\n"
      "*2\r\n$3\r\n6-0\r\n*2\r\n$7\r\nmessage\r\n$3\r\nnew\r\n");
  ASSERT_TRUE(t.apply_wake_read(ticket, 10, r.get(), h.fn()));
  EXPECT_EQ(h.log, std::vector<std::string>{"a 6-0=new"});
  EXPECT_EQ(*t.find("bb")->position, (StreamId{7, 1}));  // nothing for bb
  EXPECT_EQ(wake_read_of(t, second),
            "*6\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n$7\r\nSTREAMS\r\n"
            "$1\r\na\r\n$3\r\n6-0\r\n");
  // A nil reply (nothing new) settles the keys; none is read again.
  ASSERT_TRUE(t.apply_wake_read(second, 10, parse("*-1\r\n").get(), h.fn()));
  EXPECT_EQ(t.dirty_count(), 0u);
  EXPECT_EQ(h.log.size(), 1u);
}

TEST(TailStateWakeups, AReadStoppedAtCountIsFollowedByAnother) {
  TailState t(100);
  ready(t, "a", {1, 0});
  t.wake("a");
  TailTicket ticket;
  std::string out;
  ASSERT_TRUE(t.encode_wake_read(10, 2, out, ticket));
  Handed h;
  auto r = parse(
      "*1\r\n*2\r\n$1\r\na\r\n*2\r\n"
      "*2\r\n$3\r\n2-0\r\n*2\r\n$7\r\nmessage\r\n$1\r\nx\r\n"
      "*2\r\n$3\r\n3-0\r\n*2\r\n$5\r\nother\r\n$1\r\ny\r\n");
  ASSERT_TRUE(t.apply_wake_read(ticket, 2, r.get(), h.fn()));
  EXPECT_EQ(h.log, std::vector<std::string>{"a 2-0=x"});
  EXPECT_EQ(*t.find("a")->position, (StreamId{3, 0}));  // past the entry without `message`
  EXPECT_EQ(t.dirty_count(), 1u);
}

TEST(TailStateWakeups, AMalformedReplyChangesNothingAndReadsAgain) {
  TailState t(100);
  ready(t, "a", {1, 0});
  t.wake("a");
  TailTicket ticket;
  std::string out;
  ASSERT_TRUE(t.encode_wake_read(10, 10, out, ticket));
  Handed h;
  EXPECT_FALSE(t.apply_wake_read(ticket, 10, parse(":1\r\n").get(), h.fn()));
  EXPECT_EQ(*t.find("a")->position, (StreamId{1, 0}));
  EXPECT_EQ(t.dirty_count(), 1u);
}

TEST(TailStateWakeups, RemovedOrRecreatedWatchesAreNotReadWithAStalePosition) {
  TailState t(100);
  ready(t, "a", {9, 0});
  t.wake("a");
  std::vector<std::function<void(boost::system::error_code)>> orphans;
  t.remove_watcher("a", orphans);
  TailTicket ticket;
  EXPECT_EQ(wake_read_of(t, ticket), "(none)");  // the dirty entry was the old watch's
  TailWatch& again = t.add_watcher("a");
  t.subscribe(again);
  t.wake("a");  // subscribed but not yet placed: ignored
  EXPECT_EQ(wake_read_of(t, ticket), "(none)");
}

TEST(TailStateWakeups, AfterAReconnectEveryKeyIsSubscribedAgainAndReadFromItsPosition) {
  TailState t(100);
  ready(t, "a", {4, 0});
  ready(t, "b", {8, 0});
  t.wake("a");
  TailTicket lost;
  std::string out;
  ASSERT_TRUE(t.encode_wake_read(10, 10, out, lost));  // in flight when the connection died
  t.reset_subscriptions();
  EXPECT_EQ(t.find("a")->sub, TailWatch::Sub::none);
  t.wake("a");  // nothing is subscribed: a wake-up now could miss what comes before SUBSCRIBE
  EXPECT_EQ(t.dirty_count(), 0u);
  t.subscribe_all();
  out.clear();
  ASSERT_TRUE(t.encode_subscriptions(out));
  EXPECT_NE(out.find("__keyspace@0__:a"), std::string::npos);
  EXPECT_NE(out.find("__keyspace@0__:b"), std::string::npos);
  for (std::string_view k : {"a", "b"}) {
    TailWatch* w = t.on_subscription_reply(k);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->position);
    t.wake(k);  // the store's catch-up read
  }
  TailTicket ticket;
  out.clear();
  ASSERT_TRUE(t.encode_wake_read(10, 10, out, ticket));
  EXPECT_NE(out.find("4-0"), std::string::npos);
  EXPECT_NE(out.find("8-0"), std::string::npos);
  EXPECT_EQ(ticket.size(), 2u);
}

TEST(TailStateWakeups, TheSweepWakesEveryConfirmedKeyAndBatchesSplitAtMaxKeys) {
  TailState t(100);
  for (int i = 0; i < 5; ++i) ready(t, "k" + std::to_string(i), {1, 0});
  t.subscribe(t.add_watcher("pending"));
  t.wake_all();
  EXPECT_EQ(t.dirty_count(), 5u);
  TailTicket first, second, third;
  std::string out;
  ASSERT_TRUE(t.encode_wake_read(3, 10, out, first));
  ASSERT_TRUE(t.encode_wake_read(3, 10, out, second));
  EXPECT_FALSE(t.encode_wake_read(3, 10, out, third));
  EXPECT_EQ(first.size() + second.size(), 5u);
  EXPECT_EQ(first.size(), 3u);
}

TEST(TailStateWakeups, SwitchingToBatchesPlacesEveryPositionedWatch) {
  TailState t(2);
  ready(t, "a", {1, 0});
  ready(t, "b", {1, 0});
  ready(t, "c", {1, 0});
  EXPECT_EQ(t.batch_count(), 0u);
  t.set_batched(true);
  EXPECT_EQ(t.batch_count(), 2u);
  EXPECT_EQ(t.batch_size(0) + t.batch_size(1), 3u);
  t.set_batched(false);
  EXPECT_EQ(t.batch_count(), 0u);
  EXPECT_EQ(t.find("a")->batch, TailState::none);
}

TEST(TailStateWakeups, NotifyFlagsKeepWhatIsSetAndAddWhatIsMissing) {
  EXPECT_EQ(notify_flags_needed(""), "Kt");
  EXPECT_EQ(notify_flags_needed("Ex"), "ExKt");
  EXPECT_EQ(notify_flags_needed("AKE"), "");
  EXPECT_EQ(notify_flags_needed("tK"), "");
  EXPECT_EQ(notify_flags_needed("Kg"), "Kgt");
}

}  // namespace
}  // namespace forrealtime::redis
