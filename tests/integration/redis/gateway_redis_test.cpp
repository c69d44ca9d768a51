// POST /api/emit on the Redis store, in process over a real socket: the Idempotency-Key header
// (and the per-item `idempotency_key` of a batch), and 504 for an emit whose outcome is unknown
// because Redis was paused past the command timeout. The retry after Redis is back stores nothing
// new, so the history holds each event once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include <boost/json/parse.hpp>

#include "forrealtime/gateway.hpp"
#include "forrealtime/realtime.hpp"
#include "forrealtime/redis_store.hpp"
#include "redis_server.hpp"

namespace forrealtime {
namespace {

using namespace std::chrono_literals;
using testing::RedisClient;
using testing::RedisServer;

struct Response {
  int status = 0;
  std::string head;
  std::string body;
};

// One request on a new connection (Connection: close), read to the end.
Response post(std::uint16_t port, const std::string& target, const std::string& body,
              const std::string& headers = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req =
      "POST " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
      headers + "\r\n" + body;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  Response r;
  auto end = in.find("\r\n\r\n");
  if (in.size() < 12 || end == std::string::npos) return r;
  r.status = std::stoi(in.substr(9, 3));
  r.head = in.substr(0, end);
  r.body = in.substr(end + 4);
  return r;
}

struct Fixture {
  RedisServer server;
  std::unique_ptr<Realtime> rt;
  std::unique_ptr<Gateway> gw;
  explicit Fixture(std::chrono::milliseconds command_timeout = 2000ms) {
    RedisOptions o;
    o.url = server.url();
    o.command_timeout = command_timeout;
    o.reconnect_min = 50ms;
    auto store = make_redis_store(o);
    for (int i = 0; i < 200 && !store->healthy(); ++i) std::this_thread::sleep_for(10ms);
    rt = std::make_unique<Realtime>(Options{.store = store});
    gw = std::make_unique<Gateway>(*rt, GatewayOptions{.host = "127.0.0.1", .port = 0});
    gw->start();
  }
  ~Fixture() { gw->stop(); }
  std::uint16_t port() const { return gw->port(); }
};

TEST(GatewayRedis, IdempotencyKeyHeaderStoresOnce) {
  Fixture f;
  std::string body = R"({"channel":"c","event":"t.e","data":1})";
  auto a = post(f.port(), "/api/emit", body, "Idempotency-Key: abc\r\n");
  ASSERT_EQ(a.status, 200) << a.body;
  auto b = post(f.port(), "/api/emit", body, "Idempotency-Key: abc\r\n");
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(a.body, b.body);
  auto c = post(f.port(), "/api/emit", body, "Idempotency-Key: other\r\n");
  EXPECT_NE(c.body, a.body);
  auto bad = post(f.port(), "/api/emit", body, "Idempotency-Key: has space\r\n");
  EXPECT_EQ(bad.status, 400) << bad.body;
  RedisClient raw(f.server.port());
  EXPECT_EQ(raw.integer({"XLEN", "c"}), 2);
}

TEST(GatewayRedis, BatchItemsCarryTheirOwnKeys) {
  Fixture f;
  std::string body = R"([{"channel":"b","event":"t.e","data":1,"idempotency_key":"one"},)"
                     R"({"channel":"b","event":"t.e","data":2,"idempotency_key":"two"},)"
                     R"({"channel":"b","event":"t.e","data":3}])";
  auto a = post(f.port(), "/api/emit", body);
  ASSERT_EQ(a.status, 200) << a.body;
  auto b = post(f.port(), "/api/emit", body);
  ASSERT_EQ(b.status, 200) << b.body;
  auto ja = boost::json::parse(a.body).at("ids").as_array();
  auto jb = boost::json::parse(b.body).at("ids").as_array();
  EXPECT_EQ(ja[0], jb[0]);
  EXPECT_EQ(ja[1], jb[1]);
  EXPECT_NE(ja[2], jb[2]);
  // The header on a batch keys item i as `<header>:<i>` unless the item has its own key.
  std::string plain =
      R"([{"channel":"h","event":"t.e","data":1},{"channel":"h","event":"t.e","data":2}])";
  auto h1 = post(f.port(), "/api/emit", plain, "Idempotency-Key: batch-7\r\n");
  auto h2 = post(f.port(), "/api/emit", plain, "Idempotency-Key: batch-7\r\n");
  ASSERT_EQ(h1.status, 200) << h1.body;
  EXPECT_EQ(h1.body, h2.body);
  RedisClient raw(f.server.port());
  EXPECT_EQ(raw.integer({"XLEN", "b"}), 4);
  EXPECT_EQ(raw.integer({"XLEN", "h"}), 2);
}

// Defect 11 end to end: 504 (not 503) while Redis is paused, and the retry with the same key
// answers the id of the event that was stored after all.
TEST(GatewayRedis, PausedRedisAnswers504AndTheRetryStoresNothingNew) {
  Fixture f(500ms);
  RedisClient raw(f.server.port());
  std::string body = R"({"channel":"p","event":"t.e","data":{"n":1}})";
  raw.cmd({"CLIENT", "PAUSE", "800", "WRITE"});
  auto a = post(f.port(), "/api/emit", body, "Idempotency-Key: pay-1\r\n");
  EXPECT_EQ(a.status, 504) << a.body;
  EXPECT_NE(a.body.find("may have been stored"), std::string::npos) << a.body;
  std::this_thread::sleep_for(600ms);
  auto b = post(f.port(), "/api/emit", body, "Idempotency-Key: pay-1\r\n");
  ASSERT_EQ(b.status, 200) << b.body;
  auto h = f.rt->channel("p").history();
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ(boost::json::parse(b.body).at("id").as_string(), h->front().id.to_string());
}

}  // namespace
}  // namespace forrealtime
