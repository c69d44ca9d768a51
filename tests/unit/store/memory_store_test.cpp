// The memory store's contract (store.hpp) and its bounds (memory_store.hpp), driven
// synchronously: it completes inline.
#include "forrealtime/memory_store.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "forrealtime/errors.hpp"

using namespace forrealtime;

namespace {

struct Sink : TailSink {
  std::vector<std::pair<std::string, StreamId>> seen;
  void on_entries(std::string_view ch, std::span<const StoredEntry> es) override {
    for (auto& e : es) seen.emplace_back(std::string(ch), e.id);
  }
  void on_tail_error(boost::system::error_code) override {}
};

Store::Result<StreamId> try_append(Store& s, std::string_view ch, std::string msg,
                                   AppendOptions o = {}) {
  Store::Result<StreamId> out = make_error_code(store_errc::protocol);
  s.async_append(ch, std::move(msg), o, [&](Store::Result<StreamId> r) { out = r; });
  return out;
}

StreamId append(Store& s, std::string_view ch, std::string msg, AppendOptions o = {}) {
  return try_append(s, ch, std::move(msg), o).value();
}

std::vector<StoredEntry> range(Store& s, std::string_view ch, RangeQuery q) {
  std::vector<StoredEntry> out;
  s.async_range(ch, q, [&](auto r) { out = r.value(); });
  return out;
}

StreamInfo info(Store& s, std::string_view ch) {
  StreamInfo out;
  s.async_info(ch, [&](auto r) { out = r.value(); });
  return out;
}

}  // namespace

TEST(MemoryStore, IdsGrowStrictlyAcrossChannels) {
  auto s = make_memory_store();
  StreamId last{};
  for (int i = 0; i < 1000; ++i) {
    auto id = append(*s, i % 2 ? "a" : "b", "{}");
    EXPECT_GT(id, last);
    last = id;
  }
}

TEST(MemoryStore, RangeLatestAndExclusiveStart) {
  auto s = make_memory_store();
  std::vector<StreamId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(append(*s, "c", "m" + std::to_string(i)));
  StreamId latest;
  s->async_latest("c", [&](auto r) { latest = r.value(); });
  EXPECT_EQ(latest, ids.back());
  s->async_latest("nothing", [&](auto r) { latest = r.value(); });
  EXPECT_TRUE(latest.is_zero());

  auto all = range(*s, "c", {});
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all[3].message, "m3");
  auto after = range(*s, "c", {ids[4], true, StreamId::max(), 3});
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].id, ids[5]);
  auto incl = range(*s, "c", {ids[4], false, ids[6], 1000});
  ASSERT_EQ(incl.size(), 3u);
  EXPECT_EQ(incl[0].id, ids[4]);
}

TEST(MemoryStore, NewestFirstGivesTheNewestOfTheRangeNewestFirst) {
  auto s = make_memory_store();
  std::vector<StreamId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(append(*s, "c", "m" + std::to_string(i)));
  auto ids_of = [](const std::vector<StoredEntry>& es) {
    std::vector<StreamId> out;
    for (auto& e : es) out.push_back(e.id);
    return out;
  };
  auto newest = range(*s, "c", {.limit = 3, .newest_first = true});
  EXPECT_EQ(ids_of(newest), (std::vector<StreamId>{ids[9], ids[8], ids[7]}));
  EXPECT_EQ(newest[0].message, "m9");
  // Bounded on both sides: an exclusive start stops the walk, the end is inclusive.
  auto bounded = range(*s, "c", {ids[5], true, ids[8], 10, true});
  EXPECT_EQ(ids_of(bounded), (std::vector<StreamId>{ids[8], ids[7], ids[6]}));
  auto inclusive = range(*s, "c", {ids[5], false, ids[6], 10, true});
  EXPECT_EQ(ids_of(inclusive), (std::vector<StreamId>{ids[6], ids[5]}));
  // An end between two ids, an end before everything, a start past the end, and more asked
  // for than there is.
  auto between = range(*s, "c", {{}, false, StreamId{ids[4].ms, ids[4].seq + 1}, 2, true});
  if (ids[5] > StreamId{ids[4].ms, ids[4].seq + 1}) {
    EXPECT_EQ(ids_of(between), (std::vector<StreamId>{ids[4], ids[3]}));
  }
  EXPECT_TRUE(range(*s, "c", {{}, false, StreamId{0, 1}, 5, true}).empty());
  EXPECT_TRUE(range(*s, "c", {ids[9], true, StreamId::max(), 5, true}).empty());
  EXPECT_EQ(range(*s, "c", {.limit = 1000, .newest_first = true}).size(), 10u);
  EXPECT_TRUE(range(*s, "c", {.limit = 0, .newest_first = true}).empty());
  EXPECT_TRUE(range(*s, "nothing", {.limit = 5, .newest_first = true}).empty());
}

TEST(MemoryStore, TrimsAndRemembersWhatItTrimmed) {
  auto s = make_memory_store();
  std::vector<StreamId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(append(*s, "c", "{}", {.max_length = 4}));
  auto in = info(*s, "c");
  EXPECT_EQ(in.length, 4u);
  EXPECT_EQ(in.entries_added, 10u);
  EXPECT_EQ(in.first, ids[6]);
  EXPECT_EQ(in.last, ids[9]);
  EXPECT_TRUE(in.max_trimmed_known);
  EXPECT_EQ(in.max_trimmed, ids[5]);
}

TEST(MemoryStore, TailSeesEveryAppendInOrder) {
  auto s = make_memory_store();
  Sink sink;
  s->start_tail(sink);
  bool armed = false;
  s->watch("x", [&](auto ec) { armed = !ec; });
  EXPECT_TRUE(armed);
  auto a = append(*s, "x", "{}");
  auto b = append(*s, "y", "{}");
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_EQ(sink.seen[0], (std::pair<std::string, StreamId>{"x", a}));
  EXPECT_EQ(sink.seen[1], (std::pair<std::string, StreamId>{"y", b}));
  s->stop();
}

// Defect 6: by default a channel keeps a bounded number of entries (it kept all of them).
TEST(MemoryStore, DefaultMaxLengthBoundsAChannel) {
  auto s = make_memory_store();
  for (int i = 0; i < 1500; ++i) append(*s, "c", "0123456789");
  auto in = info(*s, "c");
  EXPECT_EQ(in.length, MemoryStoreOptions{}.max_length);
  EXPECT_EQ(in.entries_added, 1500u);
  EXPECT_EQ(s->stats().bytes, 10 * MemoryStoreOptions{}.max_length);
  // An append that asks for its own cap gets it.
  auto t = make_memory_store({.max_length = 5});
  for (int i = 0; i < 20; ++i) append(*t, "c", "{}");
  for (int i = 0; i < 20; ++i) append(*t, "d", "{}", {.max_length = 8});
  EXPECT_EQ(info(*t, "c").length, 5u);
  EXPECT_EQ(info(*t, "d").length, 8u);
}

// Defect 6: one batch to 20,000 new channels used to create them all, for ever. Now the cap
// refuses the excess with limit_reached (the gateway's 507), storing nothing for it.
TEST(MemoryStore, ChannelCapRefusesNewChannelsWithLimitReached) {
  auto s = make_memory_store({.max_channels = 100});
  int refused = 0;
  for (int i = 0; i < 20000; ++i) {
    auto r = try_append(*s, "c" + std::to_string(i), "{}");
    if (!r) {
      ++refused;
      EXPECT_EQ(r.error(), condition::limit_reached);
      EXPECT_EQ(r.error(), condition::store_failed);
      EXPECT_NE(r.error(), condition::invalid_input);
    }
  }
  EXPECT_EQ(refused, 20000 - 100);
  auto st = s->stats();
  EXPECT_EQ(st.channels, 100u);
  EXPECT_EQ(st.appends_refused, 19900u);
  EXPECT_TRUE(range(*s, "c150", {}).empty());
  // Existing channels still take appends at the cap.
  EXPECT_TRUE(try_append(*s, "c5", "{}"));
}

TEST(MemoryStore, ByteCapRefusesAndTrimmingMakesRoom) {
  auto s = make_memory_store({.max_length = 2, .max_bytes = 1000});
  std::string hundred(100, 'x');
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(try_append(*s, "c" + std::to_string(i), hundred));
  EXPECT_EQ(s->stats().bytes, 900u);
  auto r = try_append(*s, "big", std::string(200, 'y'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), condition::limit_reached);
  EXPECT_EQ(s->stats().bytes, 900u);
  ASSERT_TRUE(try_append(*s, "c0", hundred));   // 1000: at the cap, c0 at its max length
  EXPECT_FALSE(try_append(*s, "c1", hundred));  // would be 1100
  EXPECT_TRUE(try_append(*s, "c0", hundred));   // trims c0's oldest: stays 1000
  EXPECT_EQ(s->stats().bytes, 1000u);
  EXPECT_EQ(s->stats().appends_refused, 2u);
}

// Defect 6: expiry left an empty tombstone per channel; now the channel and its memory go, and
// a channel created again still reports that its old entries are gone.
TEST(MemoryStore, ExpiredChannelsAreErasedAndTheirLossStillReported) {
  auto s = make_memory_store();
  StreamId last{};
  for (int i = 0; i < 2000; ++i)
    last =
        append(*s, "e" + std::to_string(i % 500), std::string(64, 'z'), {.expire_after_secs = 1});
  auto kept = append(*s, "kept", "{}");
  auto before = s->stats();
  EXPECT_EQ(before.channels, 501u);
  EXPECT_EQ(before.bytes, 2000u * 64 + 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto after = s->stats();
  EXPECT_EQ(after.channels, 1u);
  EXPECT_EQ(after.entries, 1u);
  EXPECT_EQ(after.bytes, 2u);
  EXPECT_EQ(after.channels_erased, 500u);
  EXPECT_TRUE(range(*s, "e7", {}).empty());
  EXPECT_EQ(info(*s, "e7").length, 0u);
  // Re-created: a client resuming from before the expiry learns that history was lost.
  auto again = append(*s, "e499", "{}");
  auto in = info(*s, "e499");
  EXPECT_EQ(in.length, 1u);
  EXPECT_TRUE(in.max_trimmed_known);
  EXPECT_GE(in.max_trimmed, last);
  EXPECT_LT(in.max_trimmed, again);
  EXPECT_EQ(range(*s, "kept", {})[0].id, kept);
}

TEST(MemoryStore, IdleChannelsAreErasedAndTheCapMakesRoomAgain) {
  auto s = make_memory_store({.max_channels = 10, .idle_expire_secs = 1});
  for (int i = 0; i < 10; ++i) append(*s, "idle" + std::to_string(i), "{}");
  auto r = try_append(*s, "new", "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), condition::limit_reached);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_TRUE(try_append(*s, "new", "{}"));  // the idle ones were swept to make room
  auto st = s->stats();
  EXPECT_EQ(st.channels, 1u);
  EXPECT_EQ(st.channels_erased, 10u);
  // With idle expiry off, idle channels stay.
  auto keep = make_memory_store({.idle_expire_secs = 0});
  append(*keep, "a", "{}");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(keep->stats().channels, 1u);
}

// Defect 11: a repeated idempotency key within the window stores nothing and answers the first
// id; per channel; after the window the key stores again.
TEST(MemoryStore, IdempotencyKeyStoresOncePerWindow) {
  auto s = make_memory_store();
  Sink sink;
  s->start_tail(sink);
  AppendOptions o;
  o.idempotency_key = "k1";
  o.idempotency_window = std::chrono::milliseconds(300);
  auto first = append(*s, "c", "a", o);
  EXPECT_EQ(append(*s, "c", "b", o), first);
  EXPECT_NE(append(*s, "other", "a", o), first);  // another channel, another record
  auto plain = append(*s, "c", "c");
  EXPECT_NE(plain, first);
  auto all = range(*s, "c", {});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].message, "a");
  EXPECT_EQ(sink.seen.size(), 3u);  // the repeat reached no subscriber
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  auto again = append(*s, "c", "d", o);
  EXPECT_GT(again, plain);
  EXPECT_EQ(range(*s, "c", {}).size(), 3u);
  s->stop();
}
