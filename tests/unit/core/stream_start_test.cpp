// The stream-start machine without a hub or a store: feed it the answers a shell would get and
// assert the actions, written as short strings ("latest 0", "deliver 0 7-0 live", ...). Covers
// the join of replay and live (no gap, no duplicate), paging, history_lost, errors, stale
// answers and the pending buffer's limits.
#include <gtest/gtest.h>

#include "core/stream_start.hpp"

namespace forrealtime::core {
namespace {

struct Entry {
  StreamId id;
};
using EntryPtr = std::shared_ptr<const Entry>;
using Machine = StreamStart<EntryPtr>;
using Kind = Machine::Kind;
using boost::system::error_code;

StreamId id(std::uint64_t ms) {
  return StreamId{ms, 0};
}

std::string describe(const Machine::Action& a) {
  std::string c = std::to_string(a.channel);
  switch (a.kind) {
    case Kind::watch:
      return "watch " + c;
    case Kind::read_latest:
      return "latest " + c;
    case Kind::read_info:
      return "info " + c;
    case Kind::read_page:
      return "page " + c + " " + (a.range.start_exclusive ? "(" : "[") + a.range.start.to_string() +
             "," + a.range.end.to_string() + "] " + std::to_string(a.range.limit);
    case Kind::connected:
      return "connected " + c + " " + a.id.to_string();
    case Kind::history_lost:
      return "history_lost " + c + " " + a.id.to_string() + " " + a.oldest.to_string();
    case Kind::deliver:
      return "deliver " + c + " " +
             (a.live ? a.live->id.to_string() + " live" : a.stored->id.to_string() + " replay");
    case Kind::live:
      return "live";
    case Kind::fail:
      return std::string("fail ") + c + " " +
             (a.step == StartStep::watch    ? "watch"
              : a.step == StartStep::latest ? "latest"
              : a.step == StartStep::page   ? "page"
                                            : "pending_full");
  }
  return "?";
}

using Log = std::vector<std::string>;
Log log(Machine::Actions actions) {
  Log out;
  for (auto& a : actions) out.push_back(describe(a));
  return out;
}

std::vector<StoredEntry> page(std::initializer_list<std::uint64_t> ms) {
  std::vector<StoredEntry> out;
  for (auto m : ms) out.push_back({id(m), "m" + std::to_string(m)});
  return out;
}

std::vector<EntryPtr> live(std::initializer_list<std::uint64_t> ms) {
  std::vector<EntryPtr> out;
  for (auto m : ms) out.push_back(std::make_shared<Entry>(Entry{id(m)}));
  return out;
}

std::optional<Replay> ack(std::uint64_t ms) {
  return Replay{id(ms), true, StreamId::max(), true};
}

StreamInfo info(std::size_t length, std::uint64_t first, std::uint64_t added) {
  StreamInfo i;
  i.length = length;
  i.first = id(first);
  i.entries_added = added;
  return i;
}

const error_code down = make_error_code(store_errc::unavailable);

TEST(StreamStart, NoAckWatchesEveryChannelThenConnectsEachInOrderAndGoesLive) {
  Machine m({std::nullopt, std::nullopt}, {});
  EXPECT_EQ(log(m.start()), (Log{"watch 0", "watch 1"}));
  EXPECT_EQ(log(m.on_armed(1, {})), Log{});  // waits for every watch
  EXPECT_EQ(log(m.on_armed(0, {})), Log{"latest 0"});
  EXPECT_EQ(log(m.on_latest(0, id(5))), (Log{"connected 0 5-0", "latest 1"}));
  EXPECT_EQ(log(m.on_latest(1, StreamId{})), (Log{"connected 1 0-0", "live"}));
  EXPECT_TRUE(m.live());
  // Live entries at or below the latest id were in the store already: not new.
  auto l = live({5, 6});
  EXPECT_EQ(log(m.on_live(0, l, 0)), Log{"deliver 0 6-0 live"});
  EXPECT_FALSE(m.accept(0, id(6)));
  EXPECT_TRUE(m.accept(0, id(7)));
  EXPECT_TRUE(m.accept(1, id(1)));
}

TEST(StreamStart, ReplaysAfterTheAckAndJoinsLiveEntriesWithNoGapAndNoDuplicate) {
  Machine m({ack(2)}, {.page_size = 3});
  EXPECT_EQ(log(m.start()), Log{"watch 0"});
  // Live entries arrive from the watch on: 4 is also in the store when `latest` is read.
  auto early = live({4});
  EXPECT_EQ(log(m.on_live(0, early, 10)), Log{});
  EXPECT_EQ(log(m.on_armed(0, {})), Log{"latest 0"});
  EXPECT_EQ(log(m.on_latest(0, id(6))), (Log{"connected 0 6-0", "info 0"}));
  EXPECT_EQ(log(m.on_info(0, info(6, 1, 6))), Log{"page 0 (2-0,6-0] 3"});
  auto during = live({7, 8});  // appended during the replay
  EXPECT_EQ(log(m.on_live(0, during, 20)), Log{});
  EXPECT_EQ(m.pending_bytes(), 30u);
  auto p1 = page({3, 4, 5});
  EXPECT_EQ(log(m.on_page(0, p1)), (Log{"deliver 0 3-0 replay", "deliver 0 4-0 replay",
                                        "deliver 0 5-0 replay", "page 0 (5-0,6-0] 3"}));
  auto p2 = page({6});
  EXPECT_EQ(log(m.on_page(0, p2)),
            (Log{"deliver 0 6-0 replay", "deliver 0 7-0 live", "deliver 0 8-0 live", "live"}));
  EXPECT_EQ(m.pending_bytes(), 0u);
  auto again = live({8, 9});
  EXPECT_EQ(log(m.on_live(0, again, 0)), Log{"deliver 0 9-0 live"});
  EXPECT_EQ(m.last(0), id(9));
}

TEST(StreamStart, AFullLastPageEndsTheReplayAtTheLatestId) {
  Machine m({ack(0)}, {.page_size = 2, .watched = true});
  EXPECT_EQ(log(m.start()), Log{"latest 0"});  // already watched: no watch
  EXPECT_EQ(log(m.on_latest(0, id(2))), (Log{"connected 0 2-0", "info 0"}));
  EXPECT_EQ(log(m.on_info(0, down)), Log{"page 0 (0-0,2-0] 2"});  // no info: no check
  auto p = page({1, 2});
  EXPECT_EQ(log(m.on_page(0, p)), (Log{"deliver 0 1-0 replay", "deliver 0 2-0 replay", "live"}));
}

TEST(StreamStart, SaysHistoryLostWhenEntriesAfterTheAckWereTrimmed) {
  Machine m({ack(2)}, {.watched = true});
  m.start();
  m.on_latest(0, id(20));
  // 20 appended, 10 kept from 11 on: 3..10 are gone.
  EXPECT_EQ(log(m.on_info(0, info(10, 11, 20))),
            (Log{"history_lost 0 2-0 11-0", "page 0 (2-0,20-0] 1000"}));

  Machine exact({ack(2)}, {.watched = true});
  exact.start();
  exact.on_latest(0, id(20));
  StreamInfo i = info(10, 11, 20);
  i.max_trimmed = id(2);  // the store knows exactly: nothing after the ack was trimmed
  i.max_trimmed_known = true;
  EXPECT_EQ(log(exact.on_info(0, i)), Log{"page 0 (2-0,20-0] 1000"});

  Machine kept({ack(2)}, {.watched = true});
  kept.start();
  kept.on_latest(0, id(20));
  EXPECT_EQ(log(kept.on_info(0, info(20, 1, 20))), Log{"page 0 (2-0,20-0] 1000"});
}

TEST(StreamStart, NothingToReplayWhenTheAckIsTheLatestOrTheStreamIsEmpty) {
  Machine m({ack(5), ack(5)}, {.watched = true});
  m.start();
  EXPECT_EQ(log(m.on_latest(0, id(5))), (Log{"connected 0 5-0", "latest 1"}));
  EXPECT_EQ(log(m.on_latest(1, StreamId{})), (Log{"connected 1 0-0", "live"}));
}

TEST(StreamStart, AReplayWithoutAnAckIsNotCheckedForLoss) {
  // Server-side `history` by time: inclusive start, an end before the latest id.
  Machine m({Replay{id(3), false, id(4), false}}, {.watched = true});
  m.start();
  EXPECT_EQ(log(m.on_latest(0, id(9))), (Log{"connected 0 9-0", "page 0 [3-0,4-0] 1000"}));
  auto p = page({3, 4});
  EXPECT_EQ(log(m.on_page(0, p)), (Log{"deliver 0 3-0 replay", "deliver 0 4-0 replay", "live"}));
  // Live from the latest id read: 5..9 were before it.
  auto l = live({9, 10});
  EXPECT_EQ(log(m.on_live(0, l, 0)), Log{"deliver 0 10-0 live"});
}

TEST(StreamStart, LiveEntriesOfALaterChannelWaitForItsReplay) {
  Machine m({std::nullopt, ack(1)}, {.watched = true});
  m.start();
  auto l1 = live({3});
  m.on_live(1, l1, 0);
  EXPECT_EQ(log(m.on_latest(0, id(1))), (Log{"connected 0 1-0", "latest 1"}));
  EXPECT_EQ(log(m.on_latest(1, id(2))), (Log{"connected 1 2-0", "info 1"}));
  EXPECT_EQ(log(m.on_info(1, info(2, 1, 2))), Log{"page 1 (1-0,2-0] 1000"});
  auto p = page({2});
  EXPECT_EQ(log(m.on_page(1, p)), (Log{"deliver 1 2-0 replay", "deliver 1 3-0 live", "live"}));
}

TEST(StreamStart, StoreErrorsEndTheStartAndLaterAnswersAreIgnored) {
  Machine w({std::nullopt, std::nullopt}, {});
  w.start();
  EXPECT_EQ(log(w.on_armed(0, down)), Log{"fail 0 watch"});
  EXPECT_TRUE(w.failed());
  EXPECT_EQ(log(w.on_armed(1, {})), Log{});

  Machine l({std::nullopt}, {.watched = true});
  l.start();
  EXPECT_EQ(log(l.on_latest(0, down)), Log{"fail 0 latest"});
  EXPECT_EQ(log(l.on_latest(0, id(1))), Log{});

  Machine p({ack(1)}, {.watched = true});
  p.start();
  p.on_latest(0, id(9));
  p.on_info(0, info(9, 1, 9));
  auto pending = live({10});
  p.on_live(0, pending, 1);
  EXPECT_EQ(log(p.on_page(0, down)), Log{"fail 0 page"});
  EXPECT_EQ(p.pending_bytes(), 0u);
  auto more = live({11});
  EXPECT_EQ(log(p.on_live(0, more, 1)), Log{});
}

TEST(StreamStart, AnswersNobodyAskedForAreIgnored) {
  Machine m({ack(1), std::nullopt}, {.watched = true});
  m.start();
  EXPECT_EQ(log(m.on_latest(1, id(3))), Log{});        // channel 1 was not asked yet
  EXPECT_EQ(log(m.on_info(0, info(1, 1, 1))), Log{});  // no info asked yet
  auto p = page({2});
  EXPECT_EQ(log(m.on_page(0, p)), Log{});
  EXPECT_EQ(log(m.on_armed(0, {})), Log{});  // not arming
  EXPECT_EQ(log(m.on_latest(0, id(3))), (Log{"connected 0 3-0", "info 0"}));
  EXPECT_EQ(log(m.start()), Log{});  // once only
}

TEST(StreamStart, ThePendingBufferIsBounded) {
  Machine bytes({std::nullopt}, {.pending_max_bytes = 100});
  bytes.start();
  auto a = live({1});
  EXPECT_EQ(log(bytes.on_live(0, a, 60)), Log{});
  auto b = live({2});
  EXPECT_EQ(log(bytes.on_live(0, b, 60)), Log{"fail 0 pending_full"});
  EXPECT_EQ(bytes.pending_bytes(), 0u);
  EXPECT_EQ(log(bytes.on_armed(0, {})), Log{});

  Machine count({std::nullopt}, {.pending_max_entries = 2, .watched = true});
  count.start();
  auto three = live({1, 2, 3});
  EXPECT_EQ(log(count.on_live(0, three, 0)), Log{"fail 0 pending_full"});
}

TEST(StreamStart, PagesEndAtTheReplayEndEvenIfTheStoreSendsMore) {
  Machine m({ack(0)}, {.page_size = 2, .watched = true});
  m.start();
  m.on_latest(0, id(3));
  m.on_info(0, info(3, 1, 3));
  auto p1 = page({1, 2});
  EXPECT_EQ(log(m.on_page(0, p1)),
            (Log{"deliver 0 1-0 replay", "deliver 0 2-0 replay", "page 0 (2-0,3-0] 2"}));
  auto p2 = page({3, 4});  // 4 is past the end: it comes live
  EXPECT_EQ(log(m.on_page(0, p2)), (Log{"deliver 0 3-0 replay", "live"}));
  auto l = live({4});
  EXPECT_EQ(log(m.on_live(0, l, 0)), Log{"deliver 0 4-0 live"});
}

}  // namespace
}  // namespace forrealtime::core
