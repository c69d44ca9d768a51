// The memory store's contract (store.hpp), driven synchronously: it completes inline.
#include "forrealtime/memory_store.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace forrealtime;

namespace {

struct Sink : TailSink {
  std::vector<std::pair<std::string, StreamId>> seen;
  void on_entries(std::string_view ch, std::span<const StoredEntry> es) override {
    for (auto& e : es) seen.emplace_back(std::string(ch), e.id);
  }
  void on_tail_error(boost::system::error_code) override {}
};

StreamId append(Store& s, std::string_view ch, std::string msg, AppendOptions o = {}) {
  StreamId id;
  s.async_append(ch, std::move(msg), o, [&](Store::Result<StreamId> r) { id = r.value(); });
  return id;
}

std::vector<StoredEntry> range(Store& s, std::string_view ch, RangeQuery q) {
  std::vector<StoredEntry> out;
  s.async_range(ch, q, [&](auto r) { out = r.value(); });
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

TEST(MemoryStore, TrimsAndRemembersWhatItTrimmed) {
  auto s = make_memory_store();
  std::vector<StreamId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(append(*s, "c", "{}", {.max_length = 4}));
  StreamInfo info;
  s->async_info("c", [&](auto r) { info = r.value(); });
  EXPECT_EQ(info.length, 4u);
  EXPECT_EQ(info.entries_added, 10u);
  EXPECT_EQ(info.first, ids[6]);
  EXPECT_EQ(info.last, ids[9]);
  EXPECT_TRUE(info.max_trimmed_known);
  EXPECT_EQ(info.max_trimmed, ids[5]);
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

TEST(MemoryStore, ExpiryLeavesATombstone) {
  auto s = make_memory_store();
  auto id = append(*s, "e", "{}", {.expire_after_secs = 1});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  StreamInfo info;
  s->async_info("e", [&](auto r) { info = r.value(); });
  EXPECT_EQ(info.length, 0u);
  EXPECT_EQ(info.max_trimmed, id);
  EXPECT_TRUE(range(*s, "e", {}).empty());
}
