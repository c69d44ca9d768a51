// The gateway's extension points in-process, over real loopback sockets: the Authorizer before
// each operation, middleware responses that try to inject header lines, and hooks that throw
// what is not a std::exception. The gateway answers and keeps serving in every case.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "forrealtime/gateway.hpp"
#include "forrealtime/realtime.hpp"
#include "support/net.hpp"

using namespace fr_test;
using namespace forrealtime;
using namespace std::chrono_literals;

namespace {

GatewayOptions one_thread() {
  GatewayOptions go;
  go.port = 0;
  go.threads = 1;
  return go;
}

// The response head (status line and header lines) of a raw exchange.
std::string head_of(const std::string& raw) {
  return raw.substr(0, raw.find("\r\n\r\n") + 2);
}

}  // namespace

TEST(GatewayHooks, AuthorizerSeesEachOperationWithItsChannels) {
  Realtime rt;
  auto go = one_thread();
  std::mutex mu;
  std::vector<std::pair<Operation, std::vector<std::string>>> seen;
  go.authorize = [&](const Request& req, Operation op, const std::vector<std::string>& channels)
      -> boost::asio::awaitable<std::optional<Response>> {
    {
      std::lock_guard lock(mu);
      seen.emplace_back(op, channels);
    }
    for (auto& c : channels)
      if (c.starts_with("private:") &&
          req.header("x-user") != std::optional<std::string_view>("me"))
        co_return Response::json(403, R"({"error":"not yours"})");
    co_return std::nullopt;
  };
  Gateway gw(rt, go);
  gw.start();
  std::string batch =
      R"([{"channel":"private:a","event":"x.y","data":1},{"channel":"b","event":"x.y","data":2},)"
      R"({"channel":"private:a","event":"x.y","data":3}])";
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", batch).status, 403);
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", batch, "X-User: me\r\n").status, 200);
  EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=private:a").status, 403);
  auto h = http(gw.port(), "GET", "/api/history?channel=private:a", "", "X-User: me\r\n");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json().as_array().size(), 2u);
  SseClient refused(gw.port(), "/api/realtime?channel=public&channel=private:a");
  EXPECT_EQ(refused.status(), 403);
  SseClient ok(gw.port(), "/api/realtime?channel=public");
  EXPECT_EQ(ok.status(), 200);
  gw.stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].first, Operation::emit);
  EXPECT_EQ(seen[0].second, (std::vector<std::string>{"private:a", "b"})) << "each channel once";
  EXPECT_EQ(seen[2].first, Operation::history);
  EXPECT_EQ(seen[2].second, std::vector<std::string>{"private:a"});
  EXPECT_EQ(seen[4].first, Operation::subscribe);
  EXPECT_EQ(seen[4].second, (std::vector<std::string>{"public", "private:a"}));
}

TEST(GatewayHooks, ResponseHeadersWithLineBreaksNeverReachTheWire) {
  Realtime rt;
  auto go = one_thread();
  auto evil = [] {
    Response r = Response::json(401, R"({"error":"who are you"})");
    r.headers = {{"X-Ok", "1"},
                 {"X-Evil", "a\r\nSet-Cookie: session=stolen"},
                 {"X-Bad\r\nSet-Cookie: name=stolen", "v"},
                 {"X-Nul", std::string("a\0b", 3)},
                 {"X-Lf", "a\nSet-Cookie: lf=stolen"}};
    return r;
  };
  go.middleware = [&](const Request&, const std::vector<std::string>&)
      -> boost::asio::awaitable<std::optional<Response>> { co_return evil(); };
  go.authorize =
      [&](const Request&, Operation op,
          const std::vector<std::string>&) -> boost::asio::awaitable<std::optional<Response>> {
    if (op == Operation::subscribe) co_return std::nullopt;
    co_return evil();
  };
  Gateway gw(rt, go);
  gw.start();
  for (std::string req : {"GET /api/realtime?channel=a HTTP/1.1\r\nHost: a\r\n\r\n",
                          "GET /api/history?channel=a HTTP/1.1\r\nHost: a\r\nConnection: "
                          "close\r\n\r\n"}) {
    auto raw = raw_exchange(gw.port(), req, 3s);
    auto head = head_of(raw);
    EXPECT_EQ(head.rfind("HTTP/1.1 401", 0), 0u) << raw;
    EXPECT_EQ(head.find("Set-Cookie"), std::string::npos) << head;
    EXPECT_EQ(head.find("stolen"), std::string::npos) << head;
    EXPECT_EQ(head.find('\0'), std::string::npos) << head;
    EXPECT_NE(head.find("X-Ok: 1\r\n"), std::string::npos) << "good headers stay: " << head;
  }
  gw.stop();
}

TEST(GatewayHooks, HooksThatThrowAnythingAreAnsweredAndTheGatewayKeepsServing) {
  Realtime rt;
  auto go = one_thread();
  go.middleware = [](const Request&, const std::vector<std::string>& channels)
      -> boost::asio::awaitable<std::optional<Response>> {
    if (channels[0] == "int") throw 42;
    if (channels[0] == "std") throw std::runtime_error("boom");
    co_return std::nullopt;
  };
  go.authorize = [](const Request&, Operation op, const std::vector<std::string>& channels)
      -> boost::asio::awaitable<std::optional<Response>> {
    if (op != Operation::subscribe && channels[0] == "int") throw 42;
    co_return std::nullopt;
  };
  Gateway gw(rt, go);
  gw.start();
  for (int round = 0; round < 3; ++round) {
    for (auto target : {"/api/realtime?channel=int", "/api/realtime?channel=std"})
      EXPECT_EQ(http(gw.port(), "GET", target).status, 500) << target;
    EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=int").status, 500);
    EXPECT_EQ(
        http(gw.port(), "POST", "/api/emit", R"({"channel":"int","event":"a.b","data":1})").status,
        500);
  }
  EXPECT_EQ(http(gw.port(), "GET", "/healthz").status, 200);
  SseClient ok(gw.port(), "/api/realtime?channel=fine");
  EXPECT_EQ(ok.status(), 200);
  gw.stop();
}
