// The Redis store against a real redis-server: every operation, the storage format byte for
// byte (read back with hiredis's own blocking client, as a TypeScript peer or redis-cli
// would), the live tail (entries written by another client, watch/unwatch taking effect at
// once, hot channels among thousands of quiet ones), and losing Redis mid-tail.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "forrealtime/redis_store.hpp"
#include "redis_server.hpp"

namespace forrealtime {
namespace {

using namespace std::chrono_literals;
using testing::RedisClient;
using testing::RedisServer;
using Clock = std::chrono::steady_clock;

template <class T>
T wait_result(std::shared_ptr<std::promise<T>> p, std::chrono::milliseconds limit = 10s) {
  auto f = p->get_future();
  if (f.wait_for(limit) != std::future_status::ready)
    throw std::runtime_error("a store call did not complete");
  return f.get();
}

Store::Result<StreamId> append(Store& s, std::string_view ch, std::string msg,
                               AppendOptions o = {}) {
  auto p = std::make_shared<std::promise<Store::Result<StreamId>>>();
  s.async_append(ch, std::move(msg), o, [p](auto r) { p->set_value(std::move(r)); });
  return wait_result(p);
}
Store::Result<std::vector<StoredEntry>> range(Store& s, std::string_view ch, RangeQuery q = {}) {
  auto p = std::make_shared<std::promise<Store::Result<std::vector<StoredEntry>>>>();
  s.async_range(ch, q, [p](auto r) { p->set_value(std::move(r)); });
  return wait_result(p);
}
Store::Result<StreamId> latest(Store& s, std::string_view ch) {
  auto p = std::make_shared<std::promise<Store::Result<StreamId>>>();
  s.async_latest(ch, [p](auto r) { p->set_value(std::move(r)); });
  return wait_result(p);
}
Store::Result<StreamInfo> info(Store& s, std::string_view ch) {
  auto p = std::make_shared<std::promise<Store::Result<StreamInfo>>>();
  s.async_info(ch, [p](auto r) { p->set_value(std::move(r)); });
  return wait_result(p);
}
boost::system::error_code watch(Store& s, std::string_view ch) {
  auto p = std::make_shared<std::promise<boost::system::error_code>>();
  s.watch(ch, [p](auto ec) { p->set_value(ec); });
  return wait_result(p);
}

std::string message(std::string_view channel, int n) {
  return R"({"channel":")" + std::string(channel) + R"(","event":"test.n","data":)" +
         std::to_string(n) + "}";
}

/** Captures what the library logs through spdlog's default logger while it lives. */
class LogCapture {
 public:
  LogCapture() : old_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(old_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> old_;
  std::ostringstream out_;
};

Store::Result<StreamId> append_once(Store& s, std::string_view ch, std::string msg, std::string key,
                                    std::chrono::milliseconds window = 600s,
                                    std::uint64_t expire = 0) {
  AppendOptions o;
  o.idempotency_key = std::move(key);
  o.idempotency_window = window;
  o.expire_after_secs = expire;
  auto p = std::make_shared<std::promise<Store::Result<StreamId>>>();
  s.async_append(ch, std::move(msg), o, [p](auto r) { p->set_value(std::move(r)); });
  return wait_result(p);
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class TestSink : public TailSink {
 public:
  void on_entries(std::string_view channel, std::span<const StoredEntry> entries) override {
    std::lock_guard lock(mu_);
    auto& v = got_[std::string(channel)];
    for (const auto& e : entries) {
      if (!v.empty() && !(v.back().id < e.id)) out_of_order_ = true;
      v.push_back(e);
    }
    total_ += entries.size();
    cv_.notify_all();
  }
  void on_tail_error(boost::system::error_code ec) override {
    std::lock_guard lock(mu_);
    ++errors_;
    cv_.notify_all();
  }
  void on_tail_resumed() override {
    std::lock_guard lock(mu_);
    ++resumed_;
    cv_.notify_all();
  }

  std::vector<StoredEntry> entries(const std::string& ch) {
    std::lock_guard lock(mu_);
    return got_[ch];
  }
  std::size_t count(const std::string& ch) {
    std::lock_guard lock(mu_);
    return got_[ch].size();
  }
  std::size_t total() {
    std::lock_guard lock(mu_);
    return total_;
  }
  int errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  int resumed() {
    std::lock_guard lock(mu_);
    return resumed_;
  }
  bool out_of_order() {
    std::lock_guard lock(mu_);
    return out_of_order_;
  }
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds limit = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return pred(); });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<StoredEntry>> got_;
  std::size_t total_ = 0;
  int errors_ = 0;
  int resumed_ = 0;
  bool out_of_order_ = false;
};

// Stops the store's tail before the sink above it is destroyed, also when an ASSERT returns
// early (the store's thread may still be reporting to the sink; TSan saw it).
struct StopsFirst {
  Store& store;
  ~StopsFirst() { store.stop(); }
};

RedisOptions options_for(const RedisServer& server, std::string prefix = "",
                         RedisOptions::TailWakeup wakeup = RedisOptions::TailWakeup::automatic) {
  RedisOptions o;
  o.tail_wakeup = wakeup;
  o.url = server.url();
  o.key_prefix = std::move(prefix);
  o.connect_timeout = 1000ms;
  o.command_timeout = 2000ms;
  o.reconnect_min = 50ms;
  o.reconnect_max = 400ms;
  // Long on purpose: watch/unwatch must interrupt the parked read, not wait for it.
  o.tail_block = 20000ms;
  return o;
}

std::shared_ptr<Store> connected_store(const RedisOptions& o) {
  auto s = make_redis_store(o);
  EXPECT_TRUE(eventually([&] { return s->healthy(); })) << "store never became healthy";
  return s;
}

long long blocked_clients(RedisClient& c) {
  std::string info = c.str({"INFO", "clients"});
  auto pos = info.find("blocked_clients:");
  return std::stoll(info.substr(pos + 16));
}

// --- operations --------------------------------------------------------------------------------

TEST(RedisStore, AppendRangeLatestInfo) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  EXPECT_EQ(store->name(), "redis");

  // Absent stream: empty, not an error.
  EXPECT_EQ(*latest(*store, "c"), StreamId{});
  EXPECT_TRUE(range(*store, "c")->empty());
  auto none = info(*store, "c");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->length, 0u);
  EXPECT_EQ(none->entries_added, 0u);
  EXPECT_TRUE(none->first.is_zero() && none->last.is_zero());

  std::vector<StreamId> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = append(*store, "c", message("c", i));
    ASSERT_TRUE(id) << id.error().message();
    if (!ids.empty()) {
      EXPECT_LT(ids.back(), *id);
    }
    ids.push_back(*id);
  }
  EXPECT_EQ(*latest(*store, "c"), ids.back());

  auto all = range(*store, "c");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ((*all)[i].id, ids[i]);
    EXPECT_EQ((*all)[i].message, message("c", i));
  }
  auto after = range(*store, "c", RangeQuery{ids[1], true, StreamId::max(), 2});
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, ids[2]);
  EXPECT_EQ((*after)[1].id, ids[3]);
  auto inclusive = range(*store, "c", RangeQuery{ids[1], false, ids[2], 100});
  ASSERT_EQ(inclusive->size(), 2u);
  EXPECT_EQ((*inclusive)[0].id, ids[1]);
  EXPECT_TRUE(range(*store, "c", RangeQuery{ids[4], true, StreamId::max(), 10})->empty());
  EXPECT_TRUE(range(*store, "c", RangeQuery{{}, false, StreamId::max(), 0})->empty());
  // Newest first: the newest of the range, newest first (XREVRANGE).
  auto newest = range(*store, "c", RangeQuery{.limit = 2, .newest_first = true});
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].id, ids[4]);
  EXPECT_EQ((*newest)[1].id, ids[3]);
  EXPECT_EQ((*newest)[0].message, message("c", 4));
  auto within = range(*store, "c", RangeQuery{ids[1], true, ids[3], 10, true});
  ASSERT_EQ(within->size(), 2u);
  EXPECT_EQ((*within)[0].id, ids[3]);
  EXPECT_EQ((*within)[1].id, ids[2]);
  auto from = range(*store, "c", RangeQuery{ids[1], false, StreamId::max(), 10, true});
  ASSERT_EQ(from->size(), 4u);
  EXPECT_EQ(from->back().id, ids[1]);
  EXPECT_TRUE(range(*store, "c", RangeQuery{ids[4], true, StreamId::max(), 10, true})->empty());

  auto i = info(*store, "c");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->length, 5u);
  EXPECT_EQ(i->entries_added, 5u);
  EXPECT_EQ(i->first, ids.front());
  EXPECT_EQ(i->last, ids.back());
}

TEST(RedisStore, StorageFormatByteForByte) {
  RedisServer server;
  auto store = connected_store(options_for(server, "fr:"));
  const std::string json =
      R"({"channel":"room:1","event":"chat.message","data":{"text":"héllo \"you\"\n"}})";
  auto id = append(*store, "room:1", json);
  ASSERT_TRUE(id);

  RedisClient raw(server.port());
  EXPECT_EQ(raw.str({"TYPE", "fr:room:1"}), "stream");
  EXPECT_EQ(raw.integer({"EXISTS", "room:1"}), 0);   // the prefix is part of the key
  EXPECT_EQ(raw.integer({"TTL", "fr:room:1"}), -1);  // no expiry unless asked
  auto r = raw.cmd({"XRANGE", "fr:room:1", "-", "+"});
  ASSERT_EQ(r->elements, 1u);
  redisReply* entry = r->element[0];
  EXPECT_EQ(std::string(entry->element[0]->str), id->to_string());
  redisReply* fields = entry->element[1];
  ASSERT_EQ(fields->elements, 2u);  // exactly one field
  EXPECT_EQ(std::string(fields->element[0]->str, fields->element[0]->len), "message");
  EXPECT_EQ(std::string(fields->element[1]->str, fields->element[1]->len), json);
}

TEST(RedisStore, MaxlenTrimsApproximatelyAndInfoTellsHistoryWasLost) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  StreamId first_id;
  for (int i = 0; i < 1000; ++i) {
    auto id = append(*store, "t", message("t", i), AppendOptions{50, 0});
    ASSERT_TRUE(id);
    if (i == 0) first_id = *id;
  }
  RedisClient raw(server.port());
  long long len = raw.integer({"XLEN", "t"});
  EXPECT_GE(len, 50);
  EXPECT_LT(len, 1000);  // "~": whole nodes go, so somewhat more than 50 may stay
  auto i = info(*store, "t");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->length, static_cast<std::size_t>(len));
  EXPECT_EQ(i->entries_added, 1000u);
  EXPECT_GT(i->first, first_id);  // a client whose last_ack is first_id lost history
  EXPECT_FALSE(i->max_trimmed_known);
}

TEST(RedisStore, ExpireIsSetAfterEachAppend) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  ASSERT_TRUE(append(*store, "e", message("e", 1), AppendOptions{0, 300}));
  RedisClient raw(server.port());
  long long ttl = raw.integer({"TTL", "e"});
  EXPECT_GT(ttl, 290);
  EXPECT_LE(ttl, 300);
  raw.cmd({"EXPIRE", "e", "5"});
  ASSERT_TRUE(append(*store, "e", message("e", 2), AppendOptions{0, 300}));
  EXPECT_GT(raw.integer({"TTL", "e"}), 290);  // refreshed
}

TEST(RedisStore, EntriesWrittenByOtherPeersAreRead) {
  RedisServer server;
  auto store = connected_store(options_for(server, "p:"));
  RedisClient raw(server.port());
  // What a TypeScript forrealtime server writes.
  std::string ts_json = R"({"channel":"x","event":"a.b","data":[1,2]})";
  std::string id = raw.str({"XADD", "p:x", "MAXLEN", "~", "100", "*", "message", ts_json});
  raw.str({"XADD", "p:x", "*", "foreign", "field"});  // not an event: skipped
  auto all = range(*store, "x");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id.to_string(), id);
  EXPECT_EQ((*all)[0].message, ts_json);
}

TEST(RedisStore, NotAStreamIsAnErrorNotACrash) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  RedisClient raw(server.port());
  raw.cmd({"SET", "s", "plain"});
  auto a = append(*store, "s", message("s", 1));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), make_error_code(store_errc::protocol));
  EXPECT_FALSE(latest(*store, "s"));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  EXPECT_TRUE(watch(*store, "s"));  // armed with an error
  // The tail still serves other channels.
  ASSERT_FALSE(watch(*store, "ok"));
  raw.str({"XADD", "ok", "*", "message", "{}"});
  EXPECT_TRUE(sink.wait([&] { return sink.got_["ok"].size() == 1; }));
}

// --- the tail ------------------------------------------------------------------------------------

TEST(RedisStoreTail, DeliversEntriesAddedByAnotherClientOnceInOrder) {
  RedisServer server;
  auto store = connected_store(options_for(server, "k:"));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  RedisClient raw(server.port());
  raw.str({"XADD", "k:a", "*", "message", "old"});  // before watch: not required, not expected
  ASSERT_FALSE(watch(*store, "a"));
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(raw.str({"XADD", "k:a", "*", "message", message("a", i)}));
  ASSERT_TRUE(sink.wait([&] { return sink.got_["a"].size() >= 20; })) << sink.count("a");
  std::this_thread::sleep_for(100ms);
  auto got = sink.entries("a");
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(got[i].id.to_string(), ids[i]);
    EXPECT_EQ(got[i].message, message("a", i));
  }
  EXPECT_FALSE(sink.out_of_order());
}

TEST(RedisStoreTail, OwnAppendsComeThroughTheTailToo) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "own"));
  auto id = append(*store, "own", message("own", 1));
  ASSERT_TRUE(id);
  ASSERT_TRUE(sink.wait([&] { return sink.got_["own"].size() == 1; }));
  EXPECT_EQ(sink.entries("own")[0].id, *id);
}

constexpr auto blocking = RedisOptions::TailWakeup::blocking;

// Blocking batches: a watch change interrupts the parked XREAD (CLIENT UNBLOCK).
TEST(RedisStoreTail, WatchAndUnwatchTakeEffectAtOnce) {
  RedisServer server;
  auto store = connected_store(options_for(server, "", blocking));  // tail_block is 20 s
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  RedisClient raw(server.port());
  ASSERT_FALSE(watch(*store, "first"));
  ASSERT_TRUE(eventually([&] { return blocked_clients(raw) == 1; }));

  // A second channel joins while the read is parked: its entries arrive at once.
  auto t0 = Clock::now();
  ASSERT_FALSE(watch(*store, "second"));
  raw.str({"XADD", "second", "*", "message", "{}"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["second"].size() == 1; }, 3s));
  EXPECT_LT(Clock::now() - t0, 1s);

  // Counted: two watches need two unwatches.
  ASSERT_FALSE(watch(*store, "second"));
  store->unwatch("second");
  raw.str({"XADD", "second", "*", "message", "{}"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["second"].size() == 2; }, 3s));

  // Everyone leaves: no blocked read stays behind in Redis.
  store->unwatch("second");
  store->unwatch("first");
  t0 = Clock::now();
  EXPECT_TRUE(eventually([&] { return blocked_clients(raw) == 0; }, 3s));
  EXPECT_LT(Clock::now() - t0, 1s);
  raw.str({"XADD", "first", "*", "message", "{}"});
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sink.count("first"), 0u);

  // And a channel watched again starts from its latest entry.
  ASSERT_FALSE(watch(*store, "first"));
  raw.str({"XADD", "first", "*", "message", "again"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["first"].size() == 1; }, 3s));
  EXPECT_EQ(sink.entries("first")[0].message, "again");
}

TEST(RedisStoreTail, ArmedMeansNothingAppendedAfterwardsIsMissed) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  RedisClient raw(server.port());
  // Many channels joining while another client appends to each right after `armed`.
  for (int i = 0; i < 200; ++i) {
    std::string ch = "arm" + std::to_string(i);
    ASSERT_FALSE(watch(*store, ch));
    raw.str({"XADD", ch, "*", "message", ch});
  }
  EXPECT_TRUE(sink.wait([&] { return sink.total_ >= 200; }, 10s)) << sink.total();
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sink.count("arm" + std::to_string(i)), 1u) << i;
}

TEST(RedisStoreTail, HotChannelsAmongThousandsOfQuietOnes) {
  RedisServer server;
  auto o = options_for(server);
  o.tail_keys_per_connection = 500;  // several batches
  auto store = connected_store(o);
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};

  // 2,000 quiet channels, then 10 hot ones behind them.
  std::atomic<int> armed{0}, failed{0};
  for (int i = 0; i < 2000; ++i)
    store->watch("quiet:" + std::to_string(i), [&](auto ec) { ++(ec ? failed : armed); });
  for (int i = 0; i < 10; ++i)
    store->watch("hot:" + std::to_string(i), [&](auto ec) { ++(ec ? failed : armed); });
  ASSERT_TRUE(eventually([&] { return armed + failed == 2010; }, 20s));
  ASSERT_EQ(failed, 0);

  RedisClient raw(server.port());
  std::mt19937 rng(42);
  const int n = 4000;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    raw.append({"XADD", "hot:" + std::to_string(rng() % 10), "*", "message", std::to_string(i)});
  for (int i = 0; i < n; ++i) raw.get_reply();
  ASSERT_TRUE(sink.wait([&] { return sink.total_ >= n; }, 10s)) << sink.total() << " of " << n;
  auto elapsed = Clock::now() - t0;
  EXPECT_LT(elapsed, 5s);
  EXPECT_FALSE(sink.out_of_order());
  std::cout << "[   info   ] " << n << " events on 10 hot of 2010 watched channels delivered in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";

  // A quiet channel deep in the set is served just as well.
  raw.str({"XADD", "quiet:1999", "*", "message", "late"});
  EXPECT_TRUE(sink.wait([&] { return sink.got_["quiet:1999"].size() == 1; }, 2s));
}

TEST(RedisStoreTail, TenThousandChannelsEventsOnRandomOnes) {
  RedisServer server;
  auto o = options_for(server, "ten:", blocking);
  o.tail_keys_per_connection = 1000;
  auto store = connected_store(o);
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  const int channels = 10000;
  std::atomic<int> armed{0}, failed{0};
  auto t0 = Clock::now();
  for (int i = 0; i < channels; ++i)
    store->watch("c" + std::to_string(i), [&](auto ec) { ++(ec ? failed : armed); });
  ASSERT_TRUE(eventually([&] { return armed + failed == channels; }, 30s));
  ASSERT_EQ(failed, 0);
  auto armed_in = Clock::now() - t0;

  RedisClient raw(server.port());
  std::mt19937 rng(7);
  const int n = 5000;
  std::map<std::string, int> expected;
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    std::string ch = "c" + std::to_string(rng() % channels);
    ++expected[ch];
    raw.append({"XADD", "ten:" + ch, "*", "message", std::to_string(i)});
  }
  for (int i = 0; i < n; ++i) raw.get_reply();
  ASSERT_TRUE(sink.wait([&] { return sink.total_ >= n; }, 20s)) << sink.total() << " of " << n;
  auto elapsed = Clock::now() - t0;
  EXPECT_FALSE(sink.out_of_order());
  for (auto& [ch, count] : expected)
    EXPECT_EQ(sink.count(ch), static_cast<std::size_t>(count)) << ch;
  std::cout << "[   info   ] " << channels << " channels armed in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(armed_in).count() << " ms; "
            << n << " events on random ones delivered in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
  // One connection per batch of 1,000 keys plus the command connection, whatever the count of
  // watchers.
  std::string list = raw.str({"CLIENT", "LIST"});
  std::size_t tails = 0;
  for (std::size_t pos = 0; (pos = list.find("name=forrealtime-tail-", pos)) != std::string::npos;
       ++pos)
    ++tails;
  EXPECT_EQ(tails, 10u);
}

// --- failure -------------------------------------------------------------------------------------

TEST(RedisStoreFailure, UnreachableAtStartRetriesUntilRedisComes) {
  auto port = RedisServer::free_port();
  RedisOptions o;
  o.url = "redis://127.0.0.1:" + std::to_string(port);
  o.reconnect_min = 50ms;
  o.reconnect_max = 200ms;
  auto store = make_redis_store(o);
  EXPECT_FALSE(store->healthy());
  auto t0 = Clock::now();
  auto r = append(*store, "c", "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(store_errc::unavailable));
  EXPECT_LT(Clock::now() - t0, 500ms);  // fails fast
  // (The fixture picks its own port, so start a server by hand on ours.)
  std::string dir = "/tmp/forrealtime-redis-late-" + std::to_string(port);
  std::filesystem::create_directories(dir);
  pid_t pid = fork();
  if (pid == 0) {
    execlp("redis-server", "redis-server", "--port", std::to_string(port).c_str(), "--bind",
           "127.0.0.1", "--dir", dir.c_str(), "--save", "", "--appendonly", "no", "--logfile",
           (dir + "/redis.log").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool healthy = eventually([&] { return store->healthy(); }, 5s);
  EXPECT_TRUE(healthy);
  if (healthy) {
    EXPECT_TRUE(append(*store, "c", "{}"));
  }
  store->stop();
  ::kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
}

TEST(RedisStoreFailure, KillAndRestartMidTailLosesNothing) {
  RedisServer server(RedisServer::Options{.appendonly = true, .extra_args = {}});
  auto store = connected_store(options_for(server));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "x"));
  std::vector<StreamId> before;
  for (int i = 0; i < 5; ++i) before.push_back(*append(*store, "x", message("x", i)));
  ASSERT_TRUE(sink.wait([&] { return sink.got_["x"].size() == 5; }));

  server.kill();
  ASSERT_TRUE(sink.wait([&] { return sink.errors_ == 1; }, 3s));
  EXPECT_FALSE(store->healthy());
  auto t0 = Clock::now();
  auto failed = append(*store, "x", "{}");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), make_error_code(store_errc::unavailable));
  EXPECT_LT(Clock::now() - t0, 500ms);
  EXPECT_TRUE(watch(*store, "y"));  // fails fast too, but stays counted

  server.start();
  // Appended by another peer before our tail is back: must still be delivered.
  std::vector<std::string> during;
  {
    RedisClient raw(server.port());
    for (int i = 0; i < 3; ++i) during.push_back(raw.str({"XADD", "x", "*", "message", "during"}));
  }
  ASSERT_TRUE(sink.wait([&] { return sink.resumed_ == 1; }, 5s));
  EXPECT_TRUE(eventually([&] { return store->healthy(); }));
  EXPECT_EQ(sink.errors(), 1);  // once

  // History survived (appendonly) and the tail picks up where it stopped.
  auto all = range(*store, "x");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 8u);
  ASSERT_TRUE(sink.wait([&] { return sink.got_["x"].size() == 8; }, 5s)) << sink.count("x");
  auto got = sink.entries("x");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[5 + i].id.to_string(), during[i]);
  EXPECT_FALSE(sink.out_of_order());
  auto after = append(*store, "x", message("x", 99));
  ASSERT_TRUE(after);
  ASSERT_TRUE(sink.wait([&] { return sink.got_["x"].size() == 9; }, 3s));

  // The watch made while Redis was down is established on return.
  RedisClient raw(server.port());
  raw.str({"XADD", "y", "*", "message", "y"});
  EXPECT_TRUE(sink.wait([&] { return sink.got_["y"].size() == 1; }, 3s));
}

TEST(RedisStoreFailure, AuthAndSelectFromTheUrl) {
  RedisServer server(
      RedisServer::Options{.appendonly = false,
                           .extra_args = {"--requirepass", "p@ss word", "--user", "app", "on",
                                          ">apppw", "~*", "&*", "+@all"}});
  auto o = options_for(server);
  o.url = "redis://:p%40ss%20word@127.0.0.1:" + std::to_string(server.port()) + "/2";
  auto store = connected_store(o);
  ASSERT_TRUE(append(*store, "db2", "{}"));
  o.url = "redis://app:apppw@127.0.0.1:" + std::to_string(server.port()) + "/3";
  auto as_user = connected_store(o);
  ASSERT_TRUE(append(*as_user, "db3", "{}"));
  TestSink sink;
  as_user->start_tail(sink);
  StopsFirst stop_first{*as_user};
  ASSERT_FALSE(watch(*as_user, "db3"));
  ASSERT_TRUE(append(*as_user, "db3", "[]"));
  EXPECT_TRUE(sink.wait([&] { return sink.got_["db3"].size() == 1; }));

  RedisClient raw(server.port());
  raw.cmd({"AUTH", "p@ss word"});
  EXPECT_EQ(raw.integer({"EXISTS", "db2"}), 0);
  raw.cmd({"SELECT", "2"});
  EXPECT_EQ(raw.integer({"XLEN", "db2"}), 1);
  raw.cmd({"SELECT", "3"});
  EXPECT_EQ(raw.integer({"XLEN", "db3"}), 2);

  o.url = "redis://:wrong@127.0.0.1:" + std::to_string(server.port());
  auto refused = make_redis_store(o);
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(refused->healthy());
  auto r = append(*refused, "x", "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(store_errc::unavailable));
}

TEST(RedisStoreFailure, ConnectTimeoutWhenNothingAnswers) {
  // A socket that completes TCP handshakes (the backlog) but never says a word.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  RedisOptions o;
  o.url = "redis://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.connect_timeout = 200ms;
  o.reconnect_min = 50ms;
  auto store = make_redis_store(o);
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(store->healthy());
  auto t0 = Clock::now();
  auto r = append(*store, "x", "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(store_errc::unavailable));
  EXPECT_LT(Clock::now() - t0, 100ms);
  store->stop();
  ::close(fd);
}

TEST(RedisStoreFailure, PendingCommandsFailFastWhenRedisIsLost) {
  RedisServer server(
      RedisServer::Options{.appendonly = false, .extra_args = {"--enable-debug-command", "yes"}});
  auto o = options_for(server);
  o.command_timeout = 5000ms;
  auto store = connected_store(o);
  std::thread sleeper([&] {
    try {
      RedisClient raw(server.port(), 5000);
      raw.cmd({"DEBUG", "SLEEP", "2"});
    } catch (const std::exception&) {
      // killed under it
    }
  });
  std::this_thread::sleep_for(100ms);
  auto p = std::make_shared<std::promise<Store::Result<StreamId>>>();
  store->async_append("c", "{}", {}, [p](auto r) { p->set_value(std::move(r)); });
  std::this_thread::sleep_for(100ms);  // queued behind the sleep
  auto t0 = Clock::now();
  server.kill();
  auto r = wait_result(p);
  sleeper.join();
  ASSERT_FALSE(r);
  // It was sent: Redis may have run it before dying, so the outcome is unknown (not
  // "unavailable", which promises that nothing was stored).
  EXPECT_EQ(r.error(), make_error_code(store_errc::timeout));
  EXPECT_LT(Clock::now() - t0, 1s);
}

TEST(RedisStoreFailure, KilledTailConnectionIsReportedAndReestablished) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "k"));
  RedisClient raw(server.port());
  raw.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  raw.cmd({"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_TRUE(sink.wait([&] { return sink.errors_ == 1; }, 3s));
  ASSERT_TRUE(sink.wait([&] { return sink.resumed_ == 1; }, 3s));
  raw.str({"XADD", "k", "*", "message", "after"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["k"].size() == 1; }, 3s));
  EXPECT_EQ(sink.entries("k")[0].message, "after");
  EXPECT_EQ(sink.errors(), 1);
}

TEST(RedisStoreFailure, StopCompletesEverythingAndRefusesMore) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  store->stop();
  EXPECT_FALSE(store->healthy());
  auto r = append(*store, "c", "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(store_errc::stopped));
  EXPECT_TRUE(watch(*store, "c"));
}

TEST(RedisStoreFailure, SlowCommandTimesOut) {
  RedisServer server(
      RedisServer::Options{.appendonly = false, .extra_args = {"--enable-debug-command", "yes"}});
  auto o = options_for(server);
  o.command_timeout = 200ms;
  auto store = connected_store(o);
  std::thread sleeper([&] {
    RedisClient raw(server.port(), 5000);
    raw.cmd({"DEBUG", "SLEEP", "1"});
  });
  std::this_thread::sleep_for(100ms);
  auto t0 = Clock::now();
  auto r = append(*store, "c", "{}");
  auto took = Clock::now() - t0;
  sleeper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(store_errc::timeout));
  EXPECT_LT(took, 800ms);
  // The store recovers by itself.
  EXPECT_TRUE(
      eventually([&] { return store->healthy() && append(*store, "c", "{}").has_value(); }));
}

// --- handshake, expiry and idempotency (issue 10: defects 8, 2, 11) ------------------------------

// Defect 8: a Redis that wants AUTH answers PING with NOAUTH; that is not a healthy store.
TEST(RedisStoreFailure, ServerThatRequiresAuthIsNotHealthyWithoutAPassword) {
  RedisServer server(
      RedisServer::Options{.appendonly = false, .extra_args = {"--requirepass", "pw"}});
  LogCapture log;
  auto store = make_redis_store(options_for(server));  // no password in the URL
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(store->healthy());
  auto r = append(*store, "c", "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(store_errc::unavailable));
  store->stop();
  auto text = log.text();
  EXPECT_NE(text.find("handshake refused"), std::string::npos) << text;
  EXPECT_NE(text.find("NOAUTH"), std::string::npos) << text;
}

// Defect 2: EXPIRE used to be pipelined after XADD whatever XADD answered, so an emit on a
// channel named like another application's key gave that key a TTL.
TEST(RedisStore, ExpiryNeverTouchesAKeyThatXaddRefused) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  RedisClient raw(server.port());
  raw.cmd({"SET", "theirs:string", "v"});
  raw.cmd({"HSET", "theirs:hash", "f", "v"});
  for (const char* key : {"theirs:string", "theirs:hash"}) {
    auto r = append(*store, key, "{}", AppendOptions{0, 300});
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error(), make_error_code(store_errc::protocol));
    EXPECT_EQ(raw.integer({"TTL", key}), -1) << key;  // no expiry was set
  }
  EXPECT_EQ(raw.str({"GET", "theirs:string"}), "v");
  // And with an idempotency key: no record is left behind either.
  ASSERT_FALSE(append_once(*store, "theirs:string", "{}", "k", 600s, 300));
  EXPECT_EQ(raw.integer({"TTL", "theirs:string"}), -1);
  EXPECT_EQ(raw.cmd({"KEYS", "*forrealtime-idem*"})->elements, 0u);
  // A stream still gets its expiry, sent once its XADD succeeded.
  ASSERT_TRUE(append(*store, "ours", "{}", AppendOptions{0, 300}));
  EXPECT_GT(raw.integer({"TTL", "ours"}), 290);
}

TEST(RedisStore, IdempotencyKeyStoresOnceWithinTheWindow) {
  RedisServer server;
  auto store = connected_store(options_for(server, "fr:"));
  RedisClient raw(server.port());
  auto first = append_once(*store, "room", message("room", 1), "k1", 400ms);
  ASSERT_TRUE(first) << first.error().message();
  auto repeat = append_once(*store, "room", message("room", 2), "k1", 400ms);
  ASSERT_TRUE(repeat);
  EXPECT_EQ(*repeat, *first);
  auto other_channel = append_once(*store, "lobby", message("lobby", 1), "k1", 400ms);
  ASSERT_TRUE(other_channel);
  EXPECT_EQ(raw.integer({"XLEN", "fr:room"}), 1);
  // The stream holds exactly what PROTOCOL.md section 6 says (a TypeScript peer sees nothing
  // new); the record is a key of its own, in the stream's cluster slot, expiring with the window.
  auto entries = range(*store, "room");
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].message, message("room", 1));
  std::string record = "fr:forrealtime-idem:{fr:room}4:room:k1";
  EXPECT_EQ(raw.str({"GET", record}), first->to_string());
  auto pttl = raw.integer({"PTTL", record});
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 400);
  // After the window the key stores again.
  std::this_thread::sleep_for(500ms);
  auto later = append_once(*store, "room", message("room", 3), "k1", 400ms);
  ASSERT_TRUE(later);
  EXPECT_GT(*later, *first);
  EXPECT_EQ(raw.integer({"XLEN", "fr:room"}), 2);
}

TEST(RedisStore, ScriptCacheFlushedFallsBackToEval) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  RedisClient raw(server.port());
  ASSERT_TRUE(append_once(*store, "c", "{}", "a"));
  raw.cmd({"SCRIPT", "FLUSH"});
  auto r = append_once(*store, "c", "{}", "b");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*append_once(*store, "c", "{}", "b"), *r);
  EXPECT_EQ(raw.integer({"XLEN", "c"}), 2);
}

// Defect 11: with Redis paused past the command timeout the append is answered `timeout`
// (outcome unknown: the event is in fact stored once Redis resumes), and a retry with the same
// idempotency key afterwards answers the stored id without storing it again.
TEST(RedisStoreFailure, TimedOutAppendRetriedWithItsKeyIsStoredOnce) {
  RedisServer server;
  auto o = options_for(server);
  o.command_timeout = 500ms;  // the connection is dropped only when 1 s late
  auto store = connected_store(o);
  RedisClient raw(server.port());
  raw.cmd({"CLIENT", "PAUSE", "800", "WRITE"});
  auto t0 = Clock::now();
  auto r = append_once(*store, "paused", message("paused", 1), "retry-me");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(store_errc::timeout));
  EXPECT_LT(Clock::now() - t0, 800ms);
  ASSERT_TRUE(eventually(
      [&] {
        return raw.integer({"XLEN", "paused"}) == 1;
      },
      3s))
      << "the timed-out append was not stored after all";
  auto retry = append_once(*store, "paused", message("paused", 1), "retry-me");
  ASSERT_TRUE(retry) << retry.error().message();
  auto all = range(*store, "paused");
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, *retry);
}

// --- the tail's connections (issue 10: defect 7) -------------------------------------------------

std::size_t tail_connections(RedisClient& raw) {
  std::string list = raw.str({"CLIENT", "LIST"});
  std::size_t n = 0;
  for (std::size_t pos = 0; (pos = list.find("name=forrealtime-tail-", pos)) != std::string::npos;
       ++pos)
    ++n;
  return n;
}

// Defect 7: a batch whose keys all left kept its blocking connection forever, so connections
// followed the peak of channels ever watched.
TEST(RedisStoreTail, EmptiedBatchesReleaseTheirConnections) {
  RedisServer server;
  auto o = options_for(server, "", blocking);
  o.tail_keys_per_connection = 10;
  auto store = connected_store(o);
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  RedisClient raw(server.port());
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(watch(*store, "w" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return tail_connections(raw) == 10; })) << tail_connections(raw);
  for (int i = 0; i < 95; ++i) store->unwatch("w" + std::to_string(i));
  // Five keys remain, in one or more batches; every empty batch lets its connection go.
  EXPECT_TRUE(eventually([&] { return tail_connections(raw) <= 1; }, 5s)) << tail_connections(raw);
  for (int i = 95; i < 100; ++i) store->unwatch("w" + std::to_string(i));
  EXPECT_TRUE(eventually([&] { return tail_connections(raw) == 0; }, 5s)) << tail_connections(raw);
  EXPECT_EQ(blocked_clients(raw), 0);
  // Watching again brings a connection back, and it reads.
  ASSERT_FALSE(watch(*store, "again"));
  raw.str({"XADD", "again", "*", "message", "x"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["again"].size() == 1; }, 3s));
  EXPECT_EQ(tail_connections(raw), 1u);
}

TEST(RedisStoreTail, WatchedChannelsAreCappedWithAnErrorAndALogLine) {
  RedisServer server;
  auto o = options_for(server);
  o.max_watched_channels = 5;
  auto store = connected_store(o);
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  LogCapture log;
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(watch(*store, "c" + std::to_string(i)));
  EXPECT_EQ(watch(*store, "c5"), make_error_code(store_errc::limit_reached));
  EXPECT_EQ(watch(*store, "c5"), make_error_code(store_errc::limit_reached));
  EXPECT_FALSE(watch(*store, "c0"));  // a channel already watched is no new one
  auto text = log.text();
  EXPECT_NE(text.find("cannot watch 'c5'"), std::string::npos) << text;
  EXPECT_NE(text.find("max_watched_channels = 5"), std::string::npos) << text;
  // Refused watches are counted, so their unwatch calls balance; room made is room to use.
  store->unwatch("c5");
  store->unwatch("c5");
  store->unwatch("c1");
  ASSERT_FALSE(watch(*store, "c6"));
  RedisClient raw(server.port());
  raw.str({"XADD", "c6", "*", "message", "x"});
  EXPECT_TRUE(sink.wait([&] { return sink.got_["c6"].size() == 1; }, 3s));
}

// --- wake-ups by keyspace notifications (issue 15) -----------------------------------------------

std::size_t clients_named(RedisClient& raw, std::string_view name) {
  std::string list = raw.str({"CLIENT", "LIST"});
  std::string needle = "name=" + std::string(name) + " ";
  std::size_t n = 0;
  for (std::size_t pos = 0; (pos = list.find(needle, pos)) != std::string::npos; ++pos) ++n;
  return n;
}

long long client_id_named(RedisClient& raw, std::string_view name) {
  std::string list = raw.str({"CLIENT", "LIST"});
  auto at = list.find("name=" + std::string(name) + " ");
  if (at == std::string::npos) return -1;
  auto line = list.rfind('\n', at);
  line = line == std::string::npos ? 0 : line + 1;
  return std::stoll(list.substr(line + 3));  // "id=<n> ..."
}

std::size_t keyspace_subscriptions(RedisClient& raw) {
  auto r = raw.cmd({"PUBSUB", "CHANNELS", "__keyspace@*"});
  return r->elements;
}

TEST(RedisStoreWakeups, ForeignWriterViaRedisCliIsSeenAndFlagsAreKept) {
  // An operator's flags (expired events) stay; K and t are added.
  RedisServer server(
      RedisServer::Options{.appendonly = false, .extra_args = {"--notify-keyspace-events", "Ex"}});
  LogCapture log;
  auto store = connected_store(options_for(server, "p:"));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "cli"));
  RedisClient raw(server.port());
  std::string flags = raw.cmd({"CONFIG", "GET", "notify-keyspace-events"})->element[1]->str;
  for (char c : {'E', 'x', 'K', 't'}) EXPECT_NE(flags.find(c), std::string::npos) << flags;
  EXPECT_NE(log.text().find("woken by keyspace notifications"), std::string::npos) << log.text();

  std::string cmd = "redis-cli -p " + std::to_string(server.port()) +
                    " XADD p:cli '*' message '{\"channel\":\"cli\",\"event\":\"a.b\",\"data\":1}'"
                    " > /dev/null";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(sink.wait([&] { return sink.got_["cli"].size() == 3; }, 3s)) << sink.count("cli");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(sink.count("cli"), 3u);
  EXPECT_FALSE(sink.out_of_order());
  // Nothing parked in Redis: no blocked reads at all with wake-ups.
  EXPECT_EQ(blocked_clients(raw), 0);
}

TEST(RedisStoreWakeups, TwentyThousandChannelsOnTwoConnectionsAndUnwatchReleases) {
  RedisServer server(
      RedisServer::Options{.appendonly = false, .extra_args = {"--maxclients", "200"}});
  auto o = options_for(server, "tw:");
  o.max_watched_channels = 50000;
  auto store = connected_store(o);
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  const int channels = 20000;
  std::atomic<int> armed{0}, failed{0};
  auto t0 = Clock::now();
  for (int i = 0; i < channels; ++i)
    store->watch("c" + std::to_string(i), [&](auto ec) { ++(ec ? failed : armed); });
  ASSERT_TRUE(eventually([&] { return armed + failed == channels; }, 60s));
  ASSERT_EQ(failed, 0);
  auto armed_in = Clock::now() - t0;

  RedisClient raw(server.port());
  // The tail's connections do not grow with the channels: one subscriber, one reader.
  EXPECT_EQ(clients_named(raw, "forrealtime-tailsub"), 1u);
  EXPECT_EQ(clients_named(raw, "forrealtime-tailread"), 1u);
  EXPECT_EQ(tail_connections(raw), 0u);  // no blocking batch
  EXPECT_EQ(blocked_clients(raw), 0);
  EXPECT_EQ(keyspace_subscriptions(raw), static_cast<std::size_t>(channels));

  std::mt19937 rng(11);
  const int n = 5000;
  std::map<std::string, int> expected;
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    std::string ch = "c" + std::to_string(rng() % channels);
    ++expected[ch];
    raw.append({"XADD", "tw:" + ch, "*", "message", std::to_string(i)});
  }
  for (int i = 0; i < n; ++i) raw.get_reply();
  ASSERT_TRUE(sink.wait([&] { return sink.total_ >= n; }, 20s)) << sink.total() << " of " << n;
  auto elapsed = Clock::now() - t0;
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sink.total(), static_cast<std::size_t>(n));
  EXPECT_FALSE(sink.out_of_order());
  for (auto& [ch, count] : expected)
    EXPECT_EQ(sink.count(ch), static_cast<std::size_t>(count)) << ch;
  std::cout << "[   info   ] " << channels << " channels armed in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(armed_in).count() << " ms; "
            << n << " events on random ones delivered in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";

  // Unwatch releases: every subscription leaves Redis, nothing more is read.
  for (int i = 0; i < channels; ++i) store->unwatch("c" + std::to_string(i));
  EXPECT_TRUE(eventually([&] { return keyspace_subscriptions(raw) == 0; }, 10s))
      << keyspace_subscriptions(raw);
  std::size_t before = sink.total();
  raw.str({"XADD", "tw:c1", "*", "message", "late"});
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sink.total(), before);
  EXPECT_EQ(blocked_clients(raw), 0);
}

// Either tail connection killed while another writer appends every millisecond until the tail
// is back: every entry is delivered once, in order.
void kill_one_mid_stream(std::string_view victim) {
  RedisServer server;
  auto store = connected_store(options_for(server));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "s"));
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    RedisClient w(server.port());
    while (!stop) {
      w.str({"XADD", "s", "*", "message", std::to_string(written.load())});
      ++written;
      std::this_thread::sleep_for(1ms);
    }
  });
  std::this_thread::sleep_for(150ms);
  RedisClient raw(server.port());
  long long id = client_id_named(raw, victim);
  ASSERT_GT(id, 0);
  raw.cmd({"CLIENT", "KILL", "ID", std::to_string(id)});
  EXPECT_TRUE(sink.wait([&] { return sink.errors_ == 1; }, 3s));
  EXPECT_TRUE(sink.wait([&] { return sink.resumed_ == 1; }, 5s));
  // Stop writing as the tail comes back: the last entries were written before it subscribed
  // again, so no notification will ever name them; the read after the SUBSCRIBE must.
  stop = true;
  writer.join();
  int n = written.load();
  ASSERT_TRUE(sink.wait([&] { return sink.got_["s"].size() >= static_cast<std::size_t>(n); }, 5s))
      << sink.count("s") << " of " << n;
  std::this_thread::sleep_for(100ms);
  auto got = sink.entries("s");
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(got[i].message, std::to_string(i)) << i;
  EXPECT_FALSE(sink.out_of_order());
}

TEST(RedisStoreWakeups, SubscriberKilledMidStreamLosesNothingAndRepeatsNothing) {
  kill_one_mid_stream("forrealtime-tailsub");
}

TEST(RedisStoreWakeups, ReaderKilledMidStreamLosesNothingAndRepeatsNothing) {
  kill_one_mid_stream("forrealtime-tailread");
}

TEST(RedisStoreWakeups, NotificationsSwitchedOffMidRunLoseNothing) {
  RedisServer server;
  auto o = options_for(server);
  o.tail_block = 300ms;  // the sweep
  auto store = connected_store(o);
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "off"));
  RedisClient raw(server.port());
  raw.cmd({"CONFIG", "SET", "notify-keyspace-events", ""});
  for (int i = 0; i < 3; ++i) raw.str({"XADD", "off", "*", "message", std::to_string(i)});
  // No notification came: the sweep reads them, and the flags are set again.
  ASSERT_TRUE(sink.wait([&] { return sink.got_["off"].size() == 3; }, 3s)) << sink.count("off");
  EXPECT_TRUE(eventually([&] {
    std::string f = raw.cmd({"CONFIG", "GET", "notify-keyspace-events"})->element[1]->str;
    return f.find('K') != std::string::npos && f.find('t') != std::string::npos;
  }));
  raw.str({"XADD", "off", "*", "message", "3"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["off"].size() == 4; }, 3s));
  std::this_thread::sleep_for(700ms);  // two more sweeps find nothing new
  EXPECT_EQ(sink.count("off"), 4u);
  EXPECT_FALSE(sink.out_of_order());
}

TEST(RedisStoreWakeups, ConfigRefusedFallsBackToBlockingBatchesAndSaysSo) {
  // What a managed Redis does: CONFIG is not a command there.
  RedisServer server(
      RedisServer::Options{.appendonly = false, .extra_args = {"--rename-command", "CONFIG", ""}});
  LogCapture log;
  auto store = connected_store(options_for(server));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "m"));
  RedisClient raw(server.port());
  EXPECT_TRUE(eventually([&] { return blocked_clients(raw) == 1; }));
  raw.str({"XADD", "m", "*", "message", "x"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["m"].size() == 1; }, 3s));
  auto text = log.text();
  EXPECT_NE(text.find("blocking XREAD batches"), std::string::npos) << text;
  EXPECT_NE(text.find("notify-keyspace-events"), std::string::npos) << text;
  EXPECT_EQ(clients_named(raw, "forrealtime-tailsub"), 0u);
}

TEST(RedisStoreWakeups, ForcedNotificationsWithoutConfigTrustTheServersFlags) {
  RedisServer server(RedisServer::Options{
      .appendonly = false,
      .extra_args = {"--rename-command", "CONFIG", "", "--notify-keyspace-events", "Kt"}});
  auto store = connected_store(options_for(server, "", RedisOptions::TailWakeup::notifications));
  TestSink sink;
  store->start_tail(sink);
  StopsFirst stop_first{*store};
  ASSERT_FALSE(watch(*store, "f"));
  RedisClient raw(server.port());
  raw.str({"XADD", "f", "*", "message", "x"});
  ASSERT_TRUE(sink.wait([&] { return sink.got_["f"].size() == 1; }, 3s));
  EXPECT_EQ(blocked_clients(raw), 0);
  EXPECT_EQ(clients_named(raw, "forrealtime-tailsub"), 1u);
}

}  // namespace
}  // namespace forrealtime

namespace forrealtime {
namespace {

// Store::add_worker: calls made on a worker's loop are served by a command connection of that
// loop (issue 15: no thread hop per emit) and complete on the loop's own thread; expiry and
// idempotency keys keep their promises there; remove_worker completes what was pending and the
// store keeps serving other threads.
TEST(RedisStoreWorkers, CallsOnAWorkerLoopCompleteOnItsThread) {
  RedisServer server;
  auto store = connected_store(options_for(server, "w:"));
  RedisClient raw(server.port());
  boost::asio::io_context loop(1);
  auto guard = boost::asio::make_work_guard(loop);
  store->add_worker(loop);
  std::thread worker([&] { loop.run(); });
  struct Seen {
    Store::Result<StreamId> id = make_error_code(store_errc::protocol);
    std::thread::id thread;
  };
  auto append_on_loop = [&](std::string ch, AppendOptions o) {
    auto p = std::make_shared<std::promise<Seen>>();
    boost::asio::post(loop, [&, p, ch, o] {
      store->async_append(ch, message(ch, 1), o, [p](Store::Result<StreamId> r) {
        p->set_value(Seen{r, std::this_thread::get_id()});
      });
    });
    return wait_result(p);
  };
  // The first calls may wait for the link to connect; they complete all the same.
  for (int i = 0; i < 3; ++i) {
    auto seen = append_on_loop("plain", {});
    ASSERT_TRUE(seen.id) << seen.id.error().message();
    EXPECT_EQ(seen.thread, worker.get_id());
  }
  EXPECT_EQ(raw.integer({"XLEN", "w:plain"}), 3);
  // Its own connection, named for CLIENT LIST.
  auto clients = raw.cmd({"CLIENT", "LIST"});
  EXPECT_NE(std::string(clients->str, clients->len).find("name=forrealtime-worker-0"),
            std::string::npos);

  // The expiry is set when the append completes, and only on a key XADD accepted.
  auto e = append_on_loop("exp", AppendOptions{0, 300});
  ASSERT_TRUE(e.id);
  EXPECT_GT(raw.integer({"TTL", "w:exp"}), 290);
  raw.cmd({"SET", "w:theirs", "v"});
  auto refused = append_on_loop("theirs", AppendOptions{0, 300});
  EXPECT_EQ(refused.id.error(), make_error_code(store_errc::protocol));
  EXPECT_EQ(raw.integer({"TTL", "w:theirs"}), -1);
  // An idempotency key on the worker's connection answers the first id.
  AppendOptions keyed;
  keyed.idempotency_key = "k";
  auto k1 = append_on_loop("keyed", keyed);
  auto k2 = append_on_loop("keyed", keyed);
  ASSERT_TRUE(k1.id && k2.id);
  EXPECT_EQ(*k1.id, *k2.id);
  EXPECT_EQ(raw.integer({"XLEN", "w:keyed"}), 1);

  // Reads on the loop too.
  auto rp = std::make_shared<std::promise<std::pair<std::size_t, std::thread::id>>>();
  boost::asio::post(loop, [&, rp] {
    store->async_range("plain", {}, [rp](Store::Result<std::vector<StoredEntry>> r) {
      rp->set_value({r ? r->size() : 0, std::this_thread::get_id()});
    });
  });
  auto [n, range_thread] = wait_result(rp);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(range_thread, worker.get_id());

  // A call in flight when the loop stops completes when the worker is removed: Redis is paused,
  // so the append was sent and its outcome is unknown (timeout), or it never left (stopped).
  raw.cmd({"CLIENT", "PAUSE", "1500", "WRITE"});
  auto pending = std::make_shared<std::promise<Store::Result<StreamId>>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  boost::asio::post(loop, [&, pending, calls] {
    store->async_append("late", "{}", {}, [pending, calls](Store::Result<StreamId> r) {
      if (calls->fetch_add(1) == 0) pending->set_value(r);
    });
  });
  std::this_thread::sleep_for(100ms);
  guard.reset();
  loop.stop();
  worker.join();
  store->remove_worker(loop);
  auto late = wait_result(pending, 1s);
  ASSERT_FALSE(late);
  EXPECT_TRUE(late.error() == make_error_code(store_errc::timeout) ||
              late.error() == make_error_code(store_errc::stopped))
      << late.error().message();
  EXPECT_EQ(calls->load(), 1);
  // The store serves other threads as before (once Redis resumes).
  auto after = append(*store, "after", "{}");
  EXPECT_TRUE(after) << after.error().message();
  store->stop();
}

}  // namespace
}  // namespace forrealtime
