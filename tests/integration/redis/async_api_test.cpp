// The completion-token API (async.hpp) on the memory store and on a real redis-server: every
// token kind (callback, use_awaitable, use_future, deferred) round-trips an emit and a history
// read, through Realtime/Channel and through the Store itself; completions run on the caller's
// executor (a strand, a second io_context), failures included (Redis stopped), and never inside
// the initiating call; cancelling or destroying while a call is pending does not crash.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "../cluster/redis_cluster.hpp"
#include "forrealtime/memory_store.hpp"
#include "forrealtime/realtime.hpp"
#include "forrealtime/redis_store.hpp"
#include "redis_server.hpp"

namespace forrealtime {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;
using testing::RedisClient;
using testing::RedisServer;

/** A loop run by a thread of its own for the length of a test. */
struct Loop {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
  std::thread thread{[this] { ioc.run(); }};
  ~Loop() {
    work.reset();
    ioc.stop();
    thread.join();
  }
};

template <class T>
Result<T> to_result(error_code ec, T value) {
  if (ec) return ec;
  return Result<T>(boost::system::in_place_value, std::move(value));
}

template <class T>
T wait(std::future<T>& f, std::chrono::milliseconds limit = 10s) {
  if (f.wait_for(limit) != std::future_status::ready)
    throw std::runtime_error("an operation did not complete");
  return f.get();
}

/** Runs a coroutine on `ioc` (run here) and rethrows what it threw. */
template <class F>
void run_coroutine(asio::io_context& ioc, F f) {
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(ioc, std::move(f), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  ioc.run_for(10s);
  ASSERT_TRUE(done) << "the coroutine did not finish";
  if (error) std::rethrow_exception(error);
}

class AsyncApi : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "redis") {
      server_ = std::make_unique<RedisServer>(RedisServer::Options{});
      RedisOptions o;
      o.url = server_->url();
      o.command_timeout = 1000ms;
      o.reconnect_min = 50ms;
      o.reconnect_max = 200ms;
      store_ = make_redis_store(o);
      for (int i = 0; i < 200 && !store_->healthy(); ++i) std::this_thread::sleep_for(10ms);
      ASSERT_TRUE(store_->healthy());
    } else {
      store_ = make_memory_store();
    }
    rt_ = std::make_unique<Realtime>(Options{.store = store_});
  }
  void TearDown() override {
    rt_.reset();
    store_.reset();
    server_.reset();
  }

  std::unique_ptr<RedisServer> server_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<Realtime> rt_;
};

INSTANTIATE_TEST_SUITE_P(Stores, AsyncApi, ::testing::Values("memory", "redis"),
                         [](const auto& info) { return info.param; });

TEST_P(AsyncApi, CallbackRoundTripCompletesOnTheInternalLoopByDefault) {
  auto ch = rt_->channel("cb");
  auto caller = std::this_thread::get_id();
  std::promise<std::pair<Result<StreamId>, std::thread::id>> emitted;
  ch.async_emit("test.n", 1, [&](error_code ec, StreamId id) {
    emitted.set_value({to_result(ec, id), std::this_thread::get_id()});
  });
  auto ef = emitted.get_future();
  auto [id, emit_thread] = wait(ef);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_NE(emit_thread, caller);  // on Realtime's internal loop, not inline

  std::promise<Result<std::vector<Event>>> read;
  ch.async_history({}, [&](error_code ec, std::vector<Event> events) {
    read.set_value(to_result(ec, std::move(events)));
  });
  auto rf = read.get_future();
  auto events = wait(rf);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().id, *id);
  EXPECT_EQ(events->front().data, boost::json::value(1));

  // The Store's own front-end, with a callback bound to a loop of ours.
  Loop loop;
  std::promise<bool> on_loop;
  store_->async_range(
      "cb", RangeQuery{},
      asio::bind_executor(loop.ioc, [&](error_code ec, std::vector<StoredEntry> e) {
        on_loop.set_value(!ec && e.size() == 1 && loop.ioc.get_executor().running_in_this_thread());
      }));
  auto lf = on_loop.get_future();
  EXPECT_TRUE(wait(lf));
}

TEST_P(AsyncApi, AwaitableRoundTripResumesOnTheCoroutinesExecutor) {
  asio::io_context ioc;
  auto ch = rt_->channel("aw");
  run_coroutine(ioc, [&]() -> asio::awaitable<void> {
    auto emit_op = ch.async_emit("test.n", 7, asio::use_awaitable);
    StreamId id = co_await std::move(emit_op);
    EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
    auto read_op = ch.async_history({}, asio::use_awaitable);
    auto events = co_await std::move(read_op);
    EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
    EXPECT_EQ(events.size(), 1u);
    if (!events.empty()) EXPECT_EQ(events.front().id, id);

    // The Store's front-end: append, then the newest id and the stream's facts.
    auto append_op =
        store_->async_append("aw-store", R"({"channel":"aw-store","event":"t.n","data":1})",
                             AppendOptions{}, asio::use_awaitable);
    StreamId sid = co_await std::move(append_op);
    auto latest_op = store_->async_latest("aw-store", asio::use_awaitable);
    EXPECT_EQ(co_await std::move(latest_op), sid);
    auto info_op = store_->async_info("aw-store", asio::use_awaitable);
    auto info = co_await std::move(info_op);
    EXPECT_EQ(info.length, 1u);
    EXPECT_EQ(info.last, sid);
    EXPECT_TRUE(ioc.get_executor().running_in_this_thread());

    // An error is an exception with use_awaitable, a value with as_tuple.
    auto bad_op = ch.async_history({.last = 5000}, asio::as_tuple(asio::use_awaitable));
    auto [ec, none] = co_await std::move(bad_op);
    EXPECT_EQ(ec, errc::invalid_query);
    EXPECT_TRUE(none.empty());
    bool threw = false;
    try {
      auto throw_op = rt_->channel("bad\nchannel").async_emit("test.n", 1, asio::use_awaitable);
      co_await std::move(throw_op);
    } catch (const boost::system::system_error& e) {
      threw = e.code() == errc::invalid_channel;
    }
    EXPECT_TRUE(threw);
  });
}

TEST_P(AsyncApi, FutureRoundTrip) {
  auto ch = rt_->channel("fu");
  auto f = ch.async_emit("test.n", 3, asio::use_future);
  auto id = wait(f);
  auto h = ch.async_history({.after = StreamId{}}, asio::use_future);
  auto events = wait(h);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events.front().id, id);
  // A failure is the future's exception.
  auto bad = rt_->channel("fu").async_emit("no dot", 1, asio::use_future);
  EXPECT_THROW(wait(bad), boost::system::system_error);
  // The batch completes with its result (which says which item failed and why).
  std::vector<EmitItem> items(2);
  items[0].channel = "fu";
  items[0].event = "test.n";
  items[1].channel = "fu";
  items[1].event = "test.n";
  items[1].data = 2;
  auto b = rt_->async_emit_batch(items, asio::use_future);
  auto r = wait(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 2u);
  items[1].event = "nodot";
  auto refused = rt_->async_emit_batch(items, asio::use_future);
  auto rr = wait(refused);
  ASSERT_FALSE(rr);
  EXPECT_EQ(rr.error().index, 1u);
  // The Store's front-end.
  auto sf = store_->async_latest("fu", asio::use_future);
  EXPECT_EQ(wait(sf), r->back());
}

TEST_P(AsyncApi, DeferredRoundTripStartsWhenAsked) {
  auto ch = rt_->channel("de");
  // Nothing happens until the deferred operation is started.
  auto emit_op = ch.async_emit("test.n", 5, asio::deferred);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(ch.history()->empty());
  auto f = std::move(emit_op)(asio::use_future);
  auto id = wait(f);
  // co_await of a deferred operation.
  asio::io_context ioc;
  run_coroutine(ioc, [&]() -> asio::awaitable<void> {
    auto read_op = ch.async_history({}, asio::deferred);
    auto [ec, events] = co_await std::move(read_op)(asio::as_tuple(asio::use_awaitable));
    EXPECT_FALSE(ec);
    EXPECT_EQ(events.size(), 1u);
    if (!events.empty()) EXPECT_EQ(events.front().id, id);
    auto latest_op = store_->async_latest("de", asio::deferred);
    auto latest = co_await std::move(latest_op)(asio::use_awaitable);
    EXPECT_EQ(latest, id);
    EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
  });
  // The deferred operation owns its arguments: the channel name may be gone when it starts.
  std::string name = "de-owned";
  auto owned = store_->async_append(name, R"({"channel":"de-owned","event":"t.n","data":1})",
                                    AppendOptions{}, asio::deferred);
  name.assign("overwritten-and-longer-than-any-small-string-buffer");
  auto of = std::move(owned)(asio::use_future);
  auto oid = wait(of);
  auto lf = store_->async_latest("de-owned", asio::use_future);
  EXPECT_EQ(wait(lf), oid);
}

TEST_P(AsyncApi, CompletionRunsOnTheCallersStrand) {
  asio::thread_pool pool(2);
  auto strand = asio::make_strand(pool);
  auto ch = rt_->channel("st");
  constexpr int kCalls = 20;
  std::atomic<int> on_strand{0}, done{0};
  std::promise<void> all;
  auto finish = [&] {
    if (++done == 2 * kCalls) all.set_value();
  };
  for (int i = 0; i < kCalls; ++i) {
    ch.async_emit("test.n", i, asio::bind_executor(strand, [&](error_code ec, StreamId) {
                    if (!ec && strand.running_in_this_thread()) ++on_strand;
                    finish();
                  }));
    store_->async_latest("st", asio::bind_executor(strand, [&](error_code ec, StreamId) {
                           if (!ec && strand.running_in_this_thread()) ++on_strand;
                           finish();
                         }));
  }
  auto f = all.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(on_strand.load(), 2 * kCalls);
  pool.join();
}

TEST_P(AsyncApi, AnImmediateCompletionIsNeverRunInsideTheCall) {
  // The loop is not running: a handler can only run once we run it, so none ran inside a call.
  asio::io_context ioc;
  int ran = 0;
  rt_->channel("bad\nchannel")
      .async_emit("test.n", 1, asio::bind_executor(ioc, [&](error_code ec, StreamId) {
                    EXPECT_EQ(ec, errc::invalid_channel);
                    ++ran;
                  }));
  rt_->async_emit_batch({}, asio::bind_executor(ioc, [&](EmitBatchResult r) {
                          EXPECT_TRUE(r && r->empty());
                          ++ran;
                        }));
  rt_->channel("im").async_history(
      {.last = 0}, asio::bind_executor(ioc, [&](error_code ec, std::vector<Event> e) {
        EXPECT_FALSE(ec);
        ++ran;
      }));
  EXPECT_EQ(ran, 0);
  ioc.run_for(5s);
  EXPECT_EQ(ran, 3);

  // From inside the caller's loop, where a dispatch would run the handler at once: an
  // immediate completion is still posted, so the handler runs after the call returned.
  bool returned = false;
  int inner = 0;
  asio::post(ioc, [&] {
    rt_->channel("bad\nchannel")
        .async_emit("test.n", 1, asio::bind_executor(ioc, [&](error_code ec, StreamId) {
                      EXPECT_EQ(ec, errc::invalid_channel);
                      EXPECT_TRUE(returned);
                      ++inner;
                    }));
    store_->async_append("im", "{}", AppendOptions{},
                         asio::bind_executor(ioc, [&](error_code ec, StreamId) {
                           EXPECT_FALSE(ec);
                           EXPECT_TRUE(returned);
                           ++inner;
                         }));
    returned = true;
  });
  ioc.restart();
  for (int i = 0; i < 100 && inner < 2; ++i) ioc.run_for(50ms);
  EXPECT_EQ(inner, 2);
  if (GetParam() == "memory") {
    // The memory store answers inside do_append; the front-end still posts.
    int stored = 0;
    store_->async_append("im", "{}", AppendOptions{},
                         asio::bind_executor(ioc, [&](error_code ec, StreamId) {
                           EXPECT_FALSE(ec);
                           ++stored;
                         }));
    EXPECT_EQ(stored, 0);
    ioc.restart();
    ioc.run_for(5s);
    EXPECT_EQ(stored, 1);
  }
}

TEST(AsyncApiRedis, AFailureIsDeliveredOnTheCallersExecutor) {
  RedisServer server(RedisServer::Options{});
  RedisOptions o;
  o.url = server.url();
  o.command_timeout = 500ms;
  o.reconnect_min = 50ms;
  o.reconnect_max = 100ms;
  auto store = make_redis_store(o);
  for (int i = 0; i < 200 && !store->healthy(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(store->healthy());
  Realtime rt(Options{.store = store});
  server.stop();
  for (int i = 0; i < 300 && store->healthy(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(store->healthy());

  Loop loop;
  std::promise<std::pair<error_code, bool>> emitted, read, appended;
  rt.channel("down").async_emit(
      "test.n", 1, asio::bind_executor(loop.ioc, [&](error_code ec, StreamId) {
        emitted.set_value({ec, loop.ioc.get_executor().running_in_this_thread()});
      }));
  rt.channel("down").async_history(
      {}, asio::bind_executor(loop.ioc, [&](error_code ec, std::vector<Event>) {
        read.set_value({ec, loop.ioc.get_executor().running_in_this_thread()});
      }));
  store->async_append("down", "{}", AppendOptions{},
                      asio::bind_executor(loop.ioc, [&](error_code ec, StreamId) {
                        appended.set_value({ec, loop.ioc.get_executor().running_in_this_thread()});
                      }));
  for (auto* p : {&emitted, &read, &appended}) {
    auto f = p->get_future();
    auto [ec, on_loop] = wait(f);
    EXPECT_EQ(ec, condition::store_unavailable) << ec.message();
    EXPECT_TRUE(on_loop);
  }
  // A coroutine sees the failure as an exception, on its own executor.
  asio::io_context ioc;
  run_coroutine(ioc, [&]() -> asio::awaitable<void> {
    bool threw = false;
    try {
      auto op = rt.channel("down").async_emit("test.n", 1, asio::use_awaitable);
      co_await std::move(op);
    } catch (const boost::system::system_error& e) {
      threw = e.code() == condition::store_unavailable;
    }
    EXPECT_TRUE(threw);
    EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
  });
}

TEST(AsyncApiRedis, CancellingOrDestroyingWhilePendingIsSafe) {
  RedisServer server(RedisServer::Options{});
  RedisOptions o;
  o.url = server.url();
  o.command_timeout = 3000ms;
  o.reconnect_min = 50ms;
  auto store = make_redis_store(o);
  for (int i = 0; i < 200 && !store->healthy(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(store->healthy());
  RedisClient raw(server.port());
  Loop loop;
  std::atomic<int> completed{0};
  std::promise<error_code> last;
  {
    Realtime rt(Options{.store = store});
    raw.cmd({"CLIENT", "PAUSE", "2000", "WRITE"});
    // A cancellation signal on a pending emit: the store's operations are not cancellable, so
    // it is ignored and the emit completes later as usual.
    asio::cancellation_signal signal;
    rt.channel("p").async_emit(
        "test.n", 1,
        asio::bind_cancellation_slot(
            signal.slot(),
            asio::bind_executor(loop.ioc, [&](error_code, StreamId) { ++completed; })));
    signal.emit(asio::cancellation_type::all);
    // Pending when the Realtime (and its store) goes: completes with an error, on our loop.
    rt.channel("p").async_emit("test.n", 2,
                               asio::bind_executor(loop.ioc, [&](error_code ec, StreamId) {
                                 ++completed;
                                 last.set_value(ec);
                               }));
    std::this_thread::sleep_for(100ms);
  }  // ~Realtime stops the store
  auto f = last.get_future();
  auto ec = wait(f);
  EXPECT_TRUE(ec == condition::outcome_unknown || ec == condition::store_unavailable)
      << ec.message();
  for (int i = 0; i < 100 && completed < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(completed.load(), 2);

  // A plain callback has no executor: it completes on the Realtime's internal loop, which
  // goes with the Realtime while the emit is pending. The store is stopped first, so the
  // completion is queued on the loop and destroyed with it (or ran, if it came in time):
  // never run on a destroyed loop (ASan checks the memory).
  {
    auto store3 = make_redis_store(o);
    for (int i = 0; i < 200 && !store3->healthy(); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(store3->healthy());
    auto probe = std::make_shared<int>(0);
    std::weak_ptr<int> alive = probe;
    std::atomic<int> ran{0};
    {
      Realtime rt(Options{.store = store3});
      raw.cmd({"CLIENT", "PAUSE", "1000", "WRITE"});
      rt.channel("p").async_emit("test.n", 3,
                                 [probe = std::move(probe), &ran](error_code ec, StreamId) {
                                   EXPECT_TRUE(ec);
                                   ++ran;
                                 });
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_LE(ran.load(), 1);
    EXPECT_TRUE(alive.expired());  // the handler was run or destroyed, not leaked
  }

  // A coroutine whose loop is destroyed while its emit is pending: the handler is destroyed
  // with the loop's queue when the store completes, never run.
  {
    auto store2 = make_redis_store(o);
    for (int i = 0; i < 200 && !store2->healthy(); ++i) std::this_thread::sleep_for(10ms);
    raw.cmd({"CLIENT", "PAUSE", "500", "WRITE"});
    auto ioc = std::make_unique<asio::io_context>();
    bool resumed = false;
    asio::co_spawn(
        *ioc,
        [&]() -> asio::awaitable<void> {
          auto op = store2->async_append("q", "{}", AppendOptions{}, asio::use_awaitable);
          co_await std::move(op);
          resumed = true;
        },
        asio::detached);
    ioc->run_for(50ms);  // started, now pending in the store
    store2->stop();      // completes it onto the loop's queue
    ioc.reset();         // destroyed unrun
    EXPECT_FALSE(resumed);
  }
}

TEST(AsyncApiCluster, TokenFormsOnARedisCluster) {
  testing::RedisCluster cluster;
  RedisOptions o;
  o.url = cluster.url();
  o.command_timeout = 4000ms;
  o.reconnect_min = 50ms;
  auto store = make_redis_store(o);
  for (int i = 0; i < 500 && !store->healthy(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(store->healthy());
  {
    Realtime rt(Options{.store = store});
    asio::io_context ioc;
    run_coroutine(ioc, [&]() -> asio::awaitable<void> {
      // Channels on different slots (masters): each emit and read resumes on our loop.
      for (std::string ch : {"room:1", "room:2", "room:3", "room:4"}) {
        auto emit_op = rt.channel(ch).async_emit("test.n", 1, asio::use_awaitable);
        StreamId id = co_await std::move(emit_op);
        EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
        auto latest_op = store->async_latest(ch, asio::use_awaitable);
        EXPECT_EQ(co_await std::move(latest_op), id);
        auto read_op = rt.channel(ch).async_history({}, asio::as_tuple(asio::use_awaitable));
        auto [ec, events] = co_await std::move(read_op);
        EXPECT_FALSE(ec);
        EXPECT_EQ(events.size(), 1u);
        EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
      }
    });
  }
  store->stop();
}

/** A store written against the callback interface only (as before the token forms): it
 *  forwards to a memory store and answers on a thread of its own, later. */
class CallbackOnlyStore final : public Store {
 public:
  void async_append(std::string_view c, std::string m, AppendOptions o, AppendHandler h) override {
    inner_->async_append(c, std::move(m), std::move(o), later(std::move(h)));
  }
  void async_range(std::string_view c, RangeQuery q, RangeHandler h) override {
    inner_->async_range(c, q, later(std::move(h)));
  }
  void async_latest(std::string_view c, LatestHandler h) override {
    inner_->async_latest(c, later(std::move(h)));
  }
  void async_info(std::string_view c, InfoHandler h) override {
    inner_->async_info(c, later(std::move(h)));
  }
  void start_tail(TailSink& sink) override { inner_->start_tail(sink); }
  void watch(std::string_view c, ArmedHandler a) override { inner_->watch(c, std::move(a)); }
  void unwatch(std::string_view c) override { inner_->unwatch(c); }
  bool healthy() const override { return true; }
  std::string_view name() const override { return "callback-only"; }
  void stop() override {}
  ~CallbackOnlyStore() override {
    work_.reset();
    thread_.join();
  }

 private:
  template <class F>
  F later(F h) {
    return [this, h = std::move(h)](auto r) {
      asio::post(ioc_, [h, r = std::move(r)] { h(std::move(r)); });
    };
  }
  std::shared_ptr<Store> inner_ = make_memory_store();
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  std::thread thread_{[this] { ioc_.run(); }};
};

TEST(AsyncApiStore, AStoreWrittenAgainstTheCallbackInterfaceGetsTheTokenForms) {
  auto store = std::make_shared<CallbackOnlyStore>();
  Store& s = *store;
  // The callback form, as before: a callable taking result<T>.
  std::promise<Result<StreamId>> old_form;
  s.async_append("cb", R"({"channel":"cb","event":"t.n","data":1})", AppendOptions{},
                 [&](Result<StreamId> r) { old_form.set_value(r); });
  auto of = old_form.get_future();
  auto first = wait(of);
  ASSERT_TRUE(first);
  // The token forms, on a second io_context: completions run there.
  asio::io_context ioc;
  run_coroutine(ioc, [&]() -> asio::awaitable<void> {
    auto op = s.async_append("cb", R"({"channel":"cb","event":"t.n","data":2})", AppendOptions{},
                             asio::use_awaitable);
    StreamId second = co_await std::move(op);
    EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
    EXPECT_GT(second, *first);
    auto latest_op = s.async_latest("cb", asio::use_awaitable);
    EXPECT_EQ(co_await std::move(latest_op), second);
    auto range_op = s.async_range("cb", RangeQuery{}, asio::use_awaitable);
    auto entries = co_await std::move(range_op);
    EXPECT_EQ(entries.size(), 2u);
    auto info_op = s.async_info("cb", asio::use_awaitable);
    EXPECT_EQ((co_await std::move(info_op)).length, 2u);
    EXPECT_TRUE(ioc.get_executor().running_in_this_thread());
  });
  // And a Realtime on it.
  Realtime rt(Options{.store = store});
  auto f = rt.channel("cb").async_history({}, asio::use_future);
  EXPECT_EQ(wait(f).size(), 2u);
}

}  // namespace
}  // namespace forrealtime
