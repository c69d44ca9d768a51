// The library in-process: Realtime + Gateway with middleware, slow consumers, a failing store,
// server-side subscribe and plugins, over real loopback sockets.
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include "forrealtime/gateway.hpp"
#include "forrealtime/handler.hpp"
#include "forrealtime/memory_store.hpp"
#include "forrealtime/realtime.hpp"
#include "forrealtime/socket_sink.hpp"
#include "support/net.hpp"

using namespace fr_test;
using namespace forrealtime;
using namespace std::chrono_literals;

namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

// A store that fails what it is told to, over a memory store: what a user's own Store looks like.
class FlakyStore final : public Store {
 public:
  std::shared_ptr<Store> inner = make_memory_store();
  std::atomic<bool> fail_latest{false};
  std::atomic<bool> fail_append{false};

  void async_append(std::string_view c, std::string m, AppendOptions o, AppendHandler h) override {
    if (fail_append) return h(make_error_code(store_errc::unavailable));
    inner->async_append(c, std::move(m), o, std::move(h));
  }
  void async_range(std::string_view c, RangeQuery q, RangeHandler h) override {
    inner->async_range(c, q, std::move(h));
  }
  void async_latest(std::string_view c, LatestHandler h) override {
    if (fail_latest) return h(make_error_code(store_errc::unavailable));
    inner->async_latest(c, std::move(h));
  }
  void async_info(std::string_view c, InfoHandler h) override {
    inner->async_info(c, std::move(h));
  }
  void start_tail(TailSink& s) override { inner->start_tail(s); }
  void watch(std::string_view c, ArmedHandler a) override { inner->watch(c, std::move(a)); }
  void unwatch(std::string_view c) override { inner->unwatch(c); }
  bool healthy() const override { return !fail_append; }
  std::string_view name() const override { return "flaky"; }
  void stop() override { inner->stop(); }
};

}  // namespace

TEST(Library, CoroutineMiddlewareRejectsBeforeAnythingIsStreamed) {
  Realtime rt;
  GatewayOptions go;
  go.port = 0;
  go.threads = 1;
  go.middleware = [](const Request& req, const std::vector<std::string>& channels)
      -> boost::asio::awaitable<std::optional<Response>> {
    auto auth = req.header("authorization");
    if (!auth) co_return Response::json(401, R"({"error":"log in first"})");
    // A coroutine may wait (a token lookup, say) before deciding.
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 10ms);
    co_await t.async_wait(boost::asio::use_awaitable);
    for (auto& c : channels)
      if (c.starts_with("admin:") && *auth != "Bearer admin")
        co_return Response::json(403, R"({"error":"not yours"})");
    co_return std::nullopt;
  };
  Gateway gw(rt, go);
  gw.start();
  auto r = http(gw.port(), "GET", "/api/realtime?channel=room");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"error":"log in first"})");
  r = http(gw.port(), "GET", "/api/realtime?channel=room&channel=admin:x", "",
           "Authorization: Bearer user\r\n");
  EXPECT_EQ(r.status, 403);
  SseClient ok(gw.port(), "/api/realtime?channel=admin:x");
  EXPECT_EQ(ok.status(), 401);
  gw.stop();
}

TEST(Library, HandleWithSynchronousMiddlewareOverARawSocket) {
  // handle() mounted in a server of our own (not the Gateway): a hand-parsed request head, a
  // Request view, and make_socket_sink(). The order of teardown is the documented one: stop the
  // io_context, destroy the Realtime, then the io_context.
  namespace asio = boost::asio;
  using asio::ip::tcp;
  asio::io_context ioc(1);
  std::atomic<int> calls{0};
  {
    Realtime rt;
    auto handler = handle(
        rt, [&](const Request& req, const std::vector<std::string>& ch) -> std::optional<Response> {
          ++calls;
          if (req.header("x-token") != std::optional<std::string_view>("ok"))
            return Response::json(401, R"({"error":"no token"})");
          if (ch.size() > 1) return Response::json(403, R"({"error":"one channel only"})");
          return std::nullopt;
        });
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          for (;;) {
            auto socket = co_await acceptor.async_accept(asio::use_awaitable);
            std::string head;
            co_await asio::async_read_until(socket, asio::dynamic_buffer(head), "\r\n\r\n",
                                            asio::use_awaitable);
            std::istringstream in(head);
            std::string method, target, line;
            in >> method >> target;
            std::getline(in, line);
            std::map<std::string, std::string> headers;
            while (std::getline(in, line) && line != "\r") {
              auto colon = line.find(':');
              if (colon == std::string::npos) continue;
              std::string name = line.substr(0, colon);
              for (auto& c : name) c = static_cast<char>(std::tolower(c));
              headers[name] = line.substr(colon + 2, line.size() - colon - 3);
            }
            Request r;
            r.method = method;
            r.target = target;
            r.header = [&headers](std::string_view n) -> std::optional<std::string_view> {
              auto it = headers.find(std::string(n));
              if (it == headers.end()) return std::nullopt;
              return std::string_view(it->second);
            };
            auto op = handler(r, make_socket_sink(std::move(socket)));
            co_await std::move(op);
          }
        },
        asio::detached);
    std::thread t([&] { ioc.run(); });
    auto r = http(port, "GET", "/api/realtime?channel=a");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, R"({"error":"no token"})");
    EXPECT_EQ(http(port, "GET", "/api/realtime?channel=a&channel=b", "", "X-Token: ok\r\n").status,
              403);
    {
      SseClient c(port, "/api/realtime?channel=a", 0, "HTTP/1.1", "X-Token: ok\r\n");
      EXPECT_EQ(c.status(), 200);
      ASSERT_TRUE(c.next());  // connected
      ASSERT_TRUE(rt.channel("a").emit("a.b", 42));
      auto e = c.next_user();
      ASSERT_TRUE(e);
      EXPECT_EQ(e->at("data").as_int64(), 42);
    }
    EXPECT_EQ(calls.load(), 3);
    ioc.stop();
    t.join();
  }  // the Realtime goes first, with a stream possibly still queued in the stopped io_context
}

TEST(Library, SlowConsumerGetsReconnectAndOthersAreUnaffected) {
  Options o;
  o.limits.queue_soft_bytes = 256 * 1024;
  o.limits.queue_hard_bytes = 1024 * 1024;
  Realtime rt(o);
  Gateway gw(rt, {.host = "127.0.0.1", .port = 0, .threads = 2});
  gw.start();
  SseClient slow(gw.port(), "/api/realtime?channel=big", 4096);  // never reads until the end
  SseClient fast(gw.port(), "/api/realtime?channel=big");
  ASSERT_TRUE(fast.next());
  auto ch = rt.channel("big");
  std::string blob(64 * 1024, 'x');  // 200 of them: more than loopback buffers hold
  int received = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(ch.emit("big.blob", boost::json::value(blob)));
    if (fast.next_user(2s)) ++received;
  }
  EXPECT_EQ(received, 200) << "the fast reader got everything";
  // The slow one: whatever it had queued, then `reconnect`, then the end of the stream.
  std::string last_type;
  int user = 0;
  while (auto v = slow.next(3s)) {
    if (v->as_object().contains("type"))
      last_type = str(*v, "type");
    else
      ++user;
  }
  EXPECT_EQ(last_type, "reconnect");
  EXPECT_TRUE(slow.closed());
  EXPECT_LT(user, 200);
  gw.stop();
}

TEST(Library, StoreFailureDuringSubscribeSendsTheErrorEvent) {
  auto store = std::make_shared<FlakyStore>();
  Options o;
  o.store = store;
  Realtime rt(o);
  Gateway gw(rt, {.port = 0, .threads = 1});
  gw.start();
  store->fail_latest = true;
  SseClient c(gw.port(), "/api/realtime?channel=x");
  ASSERT_EQ(c.status(), 200);
  auto v = c.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(str(*v, "type"), "error");
  EXPECT_FALSE(c.next(1s));
  EXPECT_TRUE(c.closed());
  store->fail_latest = false;
  store->fail_append = true;
  auto r = http(gw.port(), "POST", "/api/emit", R"({"event":"a.b","data":1})");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("the store could not append"), std::string::npos);
  EXPECT_EQ(http(gw.port(), "GET", "/healthz").status, 503);
  store->fail_append = false;
  EXPECT_EQ(http(gw.port(), "GET", "/healthz").status, 200);
  gw.stop();
}

// Defect 6: the memory store's channel cap is a clear answer at the gateway (507, nothing
// stored), not unbounded growth; existing channels keep working.
TEST(Library, MemoryStoreChannelCapAnswers507) {
  MemoryStoreOptions mo;
  mo.max_channels = 3;
  auto store = make_memory_store(mo);
  Options o;
  o.store = store;
  Realtime rt(o);
  Gateway gw(rt, {.port = 0, .threads = 1});
  gw.start();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(http(gw.port(), "POST", "/api/emit",
                   R"({"channel":"c)" + std::to_string(i) + R"(","event":"a.b","data":1})")
                  .status,
              200);
  auto r = http(gw.port(), "POST", "/api/emit", R"({"channel":"c3","event":"a.b","data":1})");
  EXPECT_EQ(r.status, 507) << r.body;
  EXPECT_NE(r.body.find("limit"), std::string::npos) << r.body;
  EXPECT_EQ(store->stats().channels, 3u);
  EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=c3").body, "[]");
  EXPECT_EQ(
      http(gw.port(), "POST", "/api/emit", R"({"channel":"c1","event":"a.b","data":2})").status,
      200);
  gw.stop();
}

TEST(Library, EmitHistoryAndServerSideSubscribe) {
  Realtime rt({.history = {.max_length = 100}});
  auto room = rt.channel("room");
  auto first = room.emit("chat.message", {{"text", "before"}});
  ASSERT_TRUE(first);
  EXPECT_EQ(room.emit("nonamespace", 1).error(), make_error_code(errc::invalid_event));
  EXPECT_EQ(rt.channel("").emit("a.b", 1).error(), make_error_code(errc::invalid_channel));

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> got;
  auto sub = room.subscribe({.events = {"chat.message"},
                             .on_data =
                                 [&](const Event& e) {
                                   std::lock_guard l(mu);
                                   got.push_back(e);
                                   cv.notify_all();
                                 },
                             .history = HistoryQuery{}});
  auto wait_for = [&](std::size_t n) {
    std::unique_lock l(mu);
    return cv.wait_for(l, 5s, [&] { return got.size() >= n; });
  };
  ASSERT_TRUE(wait_for(1));
  EXPECT_EQ(got[0].id, *first);  // from history
  room.emit("chat.typing", {});  // filtered out by `events`
  auto second = room.emit("chat.message", {{"text", "live"}});
  ASSERT_TRUE(wait_for(2));
  EXPECT_EQ(got[1].id, *second);
  EXPECT_EQ(got[1].data.at("text").as_string(), "live");
  sub.unsubscribe();
  room.emit("chat.message", {{"text", "after"}});
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(got.size(), 2u);

  auto h = room.history({.limit = 2});
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].id, *first);
  auto page = room.history({.limit = 10, .after = *second});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].data.at("text").as_string(), "after");
  auto bad = room.history({.start = 10, .end = 5});
  EXPECT_EQ(bad.error(), make_error_code(errc::invalid_query));
  EXPECT_TRUE(rt.emit("default.thing", 1));
  EXPECT_EQ(rt.channel("default").history()->size(), 1u);
}

// The first blank-line-separated block of a stream is a whole event: `retry:` rides with
// `connected` (a lone `retry:` block made plain readers, like the original's tests, see null).
TEST(Library, TheFirstBlockOfAStreamIsTheConnectedEventWithRetry) {
  namespace asio = boost::asio;
  Realtime rt;
  Gateway gw(rt, {.host = "127.0.0.1", .port = 0, .threads = 1});
  gw.start();
  for (std::string version : {"1.0", "1.1"}) {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), gw.port()});
    std::string req = "GET /api/realtime?channel=first HTTP/" + version +
                      "\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
    asio::write(socket, asio::buffer(req));
    std::string got;
    std::size_t head_end = std::string::npos;
    std::size_t block_end = std::string::npos;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (block_end == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      boost::system::error_code ec;
      socket.non_blocking(true);
      std::size_t n = socket.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      ASSERT_FALSE(ec) << ec.message();
      got.append(buf, n);
      head_end = got.find("\r\n\r\n");
      if (head_end != std::string::npos) block_end = got.find("\n\n", head_end + 4);
    }
    ASSERT_NE(block_end, std::string::npos) << got;
    std::string body = got.substr(head_end + 4, block_end - head_end - 4);
    if (version == "1.1") body = body.substr(body.find("\r\n") + 2);  // the chunk size line
    EXPECT_EQ(body.rfind("retry: 1000\n", 0), 0u) << body;
    auto data = body.find("data: ");
    ASSERT_NE(data, std::string::npos) << body;
    auto v = boost::json::parse(body.substr(data + 6));
    EXPECT_EQ(str(v, "type"), "connected") << body;
    EXPECT_EQ(str(v, "channel"), "first");
  }
  gw.stop();
}

// Server-side subscribe replays the whole history asked for, page by page (it once read one
// page and went live, losing everything between), while events keep arriving: every event
// once, in order.
TEST(Library, ServerSideSubscribePagesThroughTheReplayWhileEventsArrive) {
  // 4,000 events on one channel: over the memory store's default of 1,000 per channel.
  Realtime rt({.history = {.max_length = 5000}});
  auto ch = rt.channel("long");
  auto first = ch.emit("t.n", 0);
  ASSERT_TRUE(first);
  for (int i = 1; i < 2500; ++i) ASSERT_TRUE(ch.emit("t.n", i));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<StreamId> got;
  std::atomic<bool> lost{false};
  std::thread writer([&] {
    for (int i = 2500; i < 4000; ++i) ASSERT_TRUE(ch.emit("t.n", i));
  });
  auto sub = ch.subscribe({.on_data =
                               [&](const Event& e) {
                                 std::lock_guard l(mu);
                                 got.push_back(e.id);
                                 cv.notify_all();
                               },
                           .history = HistoryQuery{.after = *first},
                           .on_history_lost = [&](StreamId, StreamId) { lost = true; }});
  writer.join();
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, 10s, [&] { return got.size() >= 3999; })) << got.size();
  }
  std::this_thread::sleep_for(100ms);
  sub.unsubscribe();
  std::vector<StreamId> stored;
  std::optional<StreamId> after = *first;
  for (;;) {
    auto page = ch.history({.limit = 1000, .after = after});
    ASSERT_TRUE(page);
    for (auto& e : *page) stored.push_back(e.id);
    if (page->size() < 1000) break;
    after = page->back().id;
  }
  ASSERT_EQ(stored.size(), 3999u);
  std::lock_guard l(mu);
  EXPECT_EQ(got, stored);  // no gap, no duplicate, in order
  EXPECT_FALSE(lost);
}

// The server-side subscriber says `history_lost` like an SSE stream does.
TEST(Library, ServerSideSubscribeReportsHistoryLost) {
  Realtime rt({.history = {.max_length = 10}});
  auto ch = rt.channel("short");
  std::vector<StreamId> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(*ch.emit("t.n", i));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<StreamId> got;
  std::optional<std::pair<StreamId, StreamId>> lost;
  auto sub = ch.subscribe({.on_data =
                               [&](const Event& e) {
                                 std::lock_guard l(mu);
                                 got.push_back(e.id);
                                 cv.notify_all();
                               },
                           .history = HistoryQuery{.after = ids[2]},
                           .on_history_lost =
                               [&](StreamId after, StreamId oldest) {
                                 std::lock_guard l(mu);
                                 lost.emplace(after, oldest);
                               }});
  std::unique_lock l(mu);
  ASSERT_TRUE(cv.wait_for(l, 5s, [&] { return got.size() >= 10; }));
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->first, ids[2]);
  EXPECT_EQ(lost->second, ids[20]);
  EXPECT_EQ(got.front(), ids[20]);
  EXPECT_EQ(got.back(), ids[29]);
}

namespace {

// The newest N of a range, oldest first (on Redis: the gateway suite's run on Redis).
void check_last(Realtime& rt) {
  auto ch = rt.channel("last");
  std::vector<StreamId> ids;
  for (int i = 1; i <= 50; ++i) {
    auto id = ch.emit("chat.message", {{"n", i}});
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  auto ns = [](const Result<std::vector<Event>>& r) {
    std::vector<std::int64_t> out;
    if (r)
      for (auto& e : *r) out.push_back(e.data.at("n").as_int64());
    return out;
  };
  auto range = [](int from, int to) {
    std::vector<std::int64_t> out;
    for (int i = from; i <= to; ++i) out.push_back(i);
    return out;
  };
  EXPECT_EQ(ns(ch.history({.last = 20})), range(31, 50));
  EXPECT_EQ(ns(ch.history({.last = 1000})), range(1, 50));
  EXPECT_EQ(ns(ch.history({.last = 1})), range(50, 50));
  EXPECT_TRUE(ch.history({.last = 0})->empty());
  // Within a range: after an id, and up to an id's time.
  EXPECT_EQ(ns(ch.history({.last = 5, .after = ids[44]})), range(46, 50));
  EXPECT_EQ(ns(ch.history({.last = 20, .after = ids[44]})), range(46, 50));
  auto upto = ch.history({.last = 3, .end = ids[9].ms});
  ASSERT_TRUE(upto);
  ASSERT_FALSE(upto->empty());
  EXPECT_LE(upto->back().id.ms, ids[9].ms);
  EXPECT_GE(upto->back().id, ids[9]);  // the newest of those at or before ids[9]'s ms
  EXPECT_EQ(upto->size(), 3u);
  EXPECT_LT((*upto)[0].id, (*upto)[1].id);
  auto from = ch.history({.last = 100, .start = ids[40].ms});
  ASSERT_TRUE(from);
  EXPECT_EQ(from->back().id, ids[49]);
  EXPECT_LE(from->front().id, ids[40]);
  // Refused: with a limit, past 1000.
  EXPECT_EQ(ch.history({.limit = 10, .last = 5}).error(), make_error_code(errc::invalid_query));
  EXPECT_EQ(ch.history({.last = 1001}).error(), make_error_code(errc::invalid_query));
  EXPECT_TRUE(rt.channel("empty").history({.last = 20})->empty());
}

}  // namespace

TEST(Library, HistoryLastIsTheNewestOldestFirst) {
  Realtime rt;
  check_last(rt);
}

TEST(Library, SubscribeWithLastReplaysTheNewestThenLive) {
  Realtime rt;
  auto ch = rt.channel("sub-last");
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(ch.emit("n.n", i));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> got;
  auto sub = ch.subscribe({.on_data =
                               [&](const Event& e) {
                                 std::lock_guard l(mu);
                                 got.push_back(e.data.as_int64());
                                 cv.notify_all();
                               },
                           .history = HistoryQuery{.last = 3}});
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, 5s, [&] { return got.size() >= 3; }));
  }
  ASSERT_TRUE(ch.emit("n.n", 11));
  std::unique_lock l(mu);
  ASSERT_TRUE(cv.wait_for(l, 5s, [&] { return got.size() >= 4; }));
  EXPECT_EQ(got, (std::vector<std::int64_t>{8, 9, 10, 11}));
}

namespace {

// A plugin with an API of its own, reached from the instance with its type.
class Announcer final : public Plugin {
 public:
  explicit Announcer(std::string channel) : channel_(std::move(channel)) {}
  std::string_view name() const override { return "announcer"; }
  void init(PluginContext& ctx) override { ctx_ = &ctx; }
  void announce(const std::string& text) {
    std::promise<Result<StreamId>> p;
    ctx_->async_emit(channel_, "system.announce", {{"text", text}},
                     [&](Result<StreamId> r) { p.set_value(r); });
    last = p.get_future().get();
  }
  Result<StreamId> last = StreamId{};

 private:
  std::string channel_;
  PluginContext* ctx_ = nullptr;
};

}  // namespace

TEST(Library, PluginsKeepTheirType) {
  Realtime rt;
  auto& a = rt.use<Announcer>("news");
  a.announce("hello");
  ASSERT_TRUE(a.last);
  rt.plugin<Announcer>().announce("again");  // no cast in user code
  auto h = rt.channel("news").history();
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].event, "system.announce");
  EXPECT_THROW(rt.use<Announcer>("twice"), std::logic_error);
}

TEST(Library, DestroyingARealtimeRightAfterUnsubscribingIsSafe) {
  // Once crashed with "Resource deadlock avoided": the last reference to the core was dropped
  // on its own internal thread, which then tried to join itself.
  for (int i = 0; i < 300; ++i) {
    Realtime rt;
    auto sub = rt.channel("x").subscribe({.on_data = [](const Event&) {}});
    sub.unsubscribe();
  }
  // A subscription may also outlive its Realtime.
  Subscription late;
  {
    Realtime rt;
    late = rt.channel("y").subscribe({.on_data = [](const Event&) {}});
  }
  late.unsubscribe();
}
