// The gateway's limits over real sockets against the real program: each limit is reached (and
// answered as documented: 503 or 429 with Retry-After, a closed connection, a cut history), the
// request next to it that stays within the limit still works, and the limit is released again.
// Also who may read /metrics and the admin API once authorization is on.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/jwt_mint.hpp"
#include "support/net.hpp"

using namespace fr_test;
using namespace std::chrono_literals;

namespace {

// Opens a stream from `from`; true once `connected` arrived.
bool open_stream(RawConn& c, const std::string& channel) {
  c.send("GET /api/realtime?channel=" + channel + " HTTP/1.1\r\nHost: t\r\n\r\n");
  return c.read("\"connected\"").find("\"connected\"") != std::string::npos;
}

int emit_status(std::uint16_t port, const std::string& headers, HttpResult* out = nullptr) {
  auto r = http(port, "POST", "/api/emit", R"({"channel":"rate","event":"t.e","data":{"n":1}})",
                "Content-Type: application/json\r\n" + headers);
  if (out) *out = r;
  return r.status;
}

}  // namespace

TEST(AuthLimits, ConnectionCapsReachedThenReleased) {
  GatewayProcess gw({"--max-connections", "3", "--max-connections-per-ip", "2"});
  RawConn a1(gw.port(), "127.0.0.1"), a2(gw.port(), "127.0.0.1");
  ASSERT_TRUE(open_stream(a1, "c"));
  ASSERT_TRUE(open_stream(a2, "c"));
  // A third from the same address: 503 with Retry-After, before any request is read, closed.
  RawConn a3(gw.port(), "127.0.0.1");
  auto refused = a3.read("}");
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  EXPECT_NE(refused.find("max_connections_per_ip"), std::string::npos) << refused;
  a3.read("never", 2s);
  EXPECT_TRUE(a3.closed());
  // Another address still gets in (the per-address cap is per address) ...
  RawConn b1(gw.port(), "127.0.0.2");
  ASSERT_TRUE(open_stream(b1, "c"));
  // ... until the total is reached: a fourth address is refused by the total cap.
  RawConn c1(gw.port(), "127.0.0.3");
  auto total = c1.read("}");
  EXPECT_NE(total.find("HTTP/1.1 503"), std::string::npos) << total;
  EXPECT_NE(total.find("max_connections)"), std::string::npos) << total;
  // A stream that ends gives its slot back: the first address may open one more.
  a1.close();
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    RawConn again(gw.port(), "127.0.0.1");
    reopened = open_stream(again, "c");
    if (!reopened) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reopened);
  a2.close();
  b1.close();
  std::this_thread::sleep_for(300ms);
  EXPECT_GE(limit_hits(gw.port(), "connections_per_ip"), 1u);
  EXPECT_GE(limit_hits(gw.port(), "connections"), 1u);
  auto log = gw.log();
  EXPECT_NE(log.find("connection from 127.0.0.1 refused"), std::string::npos) << log;
}

TEST(AuthLimits, EmitRatePerCredentialThen429AndReleased) {
  GatewayProcess gw({"--emit-rate", "1", "--emit-burst", "3"});
  auto a = "Authorization: Bearer credential-a\r\n";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(emit_status(gw.port(), a), 200) << i;
  HttpResult r;
  EXPECT_EQ(emit_status(gw.port(), a, &r), 429);
  ASSERT_TRUE(r.headers.count("retry-after"));
  EXPECT_GE(std::stoi(r.headers["retry-after"]), 1);
  EXPECT_NE(r.body.find("too many emits"), std::string::npos) << r.body;
  // Nothing of the refused emit was stored.
  auto h = http(gw.port(), "GET", "/api/history?channel=rate&limit=100");
  EXPECT_EQ(h.json().as_array().size(), 3u);
  // Another credential has its own bucket, and so has a client without one (its address).
  EXPECT_EQ(emit_status(gw.port(), "Authorization: Bearer credential-b\r\n"), 200);
  EXPECT_EQ(emit_status(gw.port(), ""), 200);
  // The limited credential stays limited on every new connection.
  EXPECT_EQ(emit_status(gw.port(), a), 429);
  // Reads are not limited.
  EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=rate").status, 200);
  // Released: after Retry-After the credential may emit again.
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(r.headers["retry-after"])) + 100ms);
  EXPECT_EQ(emit_status(gw.port(), a), 200);
  EXPECT_GE(limit_hits(gw.port(), "emit_rate"), 2u);
  EXPECT_NE(gw.log().find("over emit_rate"), std::string::npos);
  EXPECT_EQ(gw.log().find("credential-a"), std::string::npos);
}

TEST(AuthLimits, SlowHeadersAreCutAtTheHeaderTimeout) {
  GatewayProcess gw({"--header-timeout", "1"});
  // A client that sends a header byte every 200 ms never idles, yet is closed after ~1 s.
  RawConn slow(gw.port(), "127.0.0.1");
  auto started = std::chrono::steady_clock::now();
  slow.send("GET /healthz HTTP/1.1\r\nHost: t\r\n");
  for (int i = 0; i < 25 && !slow.closed(); ++i) {
    slow.send("X");
    slow.read("never", 200ms);
  }
  EXPECT_TRUE(slow.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3500ms);
  // A connection that sends nothing waits for the idle timeout, not the header timeout ...
  RawConn idle(gw.port(), "127.0.0.1");
  idle.read("never", 1500ms);
  EXPECT_FALSE(idle.closed());
  // ... and its request, once sent whole, is answered.
  idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_NE(idle.read("\r\n\r\n").find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(http(gw.port(), "GET", "/healthz").status, 200);
  EXPECT_GE(limit_hits(gw.port(), "header_timeout"), 1u);
  EXPECT_NE(gw.log().find("its request head took more than 1 s"), std::string::npos);
}

TEST(AuthLimits, HistoryAnswersStopAtTheByteCapAndPagingGetsEverything) {
  GatewayProcess gw({"--max-history-bytes", "2000"});
  std::string pad(150, 'x');
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(
        emit(gw.port(), "big", "t.e", R"({"i":)" + std::to_string(i) + R"(,"p":")" + pad + "\"}"));
  auto first = http(gw.port(), "GET", "/api/history?channel=big&limit=100");
  ASSERT_EQ(first.status, 200);
  EXPECT_LE(first.body.size(), 2000u);
  EXPECT_EQ(first.headers["forrealtime-truncated"], "bytes");
  auto page = first.json().as_array();
  ASSERT_GT(page.size(), 1u);
  ASSERT_LT(page.size(), 20u);
  // Paging on with `after` gets every event, once, in order.
  std::vector<std::string> got;
  for (auto& e : page) got.emplace_back(e.at("id").as_string());
  for (int guard = 0; guard < 30 && got.size() < 20; ++guard) {
    auto next = http(gw.port(), "GET", "/api/history?channel=big&limit=100&after=" + got.back());
    ASSERT_EQ(next.status, 200);
    EXPECT_LE(next.body.size(), 2000u);
    auto arr = next.json().as_array();
    ASSERT_FALSE(arr.empty());
    for (auto& e : arr) got.emplace_back(e.at("id").as_string());
  }
  EXPECT_EQ(got, ids);
  // `last` keeps the newest.
  auto last = http(gw.port(), "GET", "/api/history?channel=big&last=20");
  auto arr = last.json().as_array();
  ASSERT_FALSE(arr.empty());
  EXPECT_EQ(std::string(arr.back().at("id").as_string()), ids.back());
  EXPECT_EQ(last.headers["forrealtime-truncated"], "bytes");
  // Within the cap: no header, everything.
  auto small = http(gw.port(), "GET", "/api/history?channel=big&limit=3");
  EXPECT_EQ(small.json().as_array().size(), 3u);
  EXPECT_EQ(small.headers.count("forrealtime-truncated"), 0u);
  EXPECT_GE(limit_hits(gw.port(), "history_bytes"), 1u);
  EXPECT_NE(gw.log().find("cut at"), std::string::npos) << gw.log();
  EXPECT_NE(gw.log().find("max_history_bytes 2000"), std::string::npos) << gw.log();
}

// A stream's replay is cut at --max-replay-bytes: the stream ends with `reconnect` after the
// last whole event under the cap, the client comes back from its acks (as every client does after
// `reconnect`), and the next replay goes on from there: every event once, in order, then live.
TEST(AuthLimits, ReplayStopsAtTheByteCapAndTheClientResumesFromItsAck) {
  GatewayProcess gw({"--max-replay-bytes", "2000"});
  std::string pad(150, 'x');
  auto first = emit(gw.port(), "big", "t.e", R"({"i":-1})");
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(
        emit(gw.port(), "big", "t.e", R"({"i":)" + std::to_string(i) + R"(,"p":")" + pad + "\"}"));
  std::vector<std::string> got;
  std::string ack = first;
  int connections = 0, cut = 0;
  for (; connections < 30 && got.size() < ids.size(); ++connections) {
    SseClient c(gw.port(), "/api/realtime?channel=big&last_ack_big=" + ack);
    ASSERT_EQ(c.status(), 200);
    std::size_t bytes = 0, events = 0;
    bool reconnect = false;
    while (auto e = c.next(2s)) {
      auto& o = e->as_object();
      if (o.contains("type")) {
        if (o.at("type").as_string() == "reconnect") reconnect = true;
        continue;
      }
      got.emplace_back(o.at("id").as_string());
      ack = got.back();
      bytes += boost::json::serialize(*e).size();
      ++events;
      if (got.size() == ids.size()) break;  // the last replay is under the cap: it stays open
    }
    EXPECT_GE(events, 1u) << "every connection makes progress";
    EXPECT_LE(bytes, 2000u);
    if (reconnect) {
      ++cut;
      EXPECT_TRUE(c.closed());
    }
  }
  EXPECT_EQ(got, ids);
  EXPECT_GE(cut, 2) << "20 events of ~200 bytes need several replays under a 2000-byte cap";
  EXPECT_GE(limit_hits(gw.port(), "replay_bytes"), 2u);
  EXPECT_NE(gw.log().find("max_replay_bytes"), std::string::npos) << gw.log();

  // Under the cap: the replay is whole, the stream stays open and goes live.
  SseClient small(gw.port(), "/api/realtime?channel=big&last_ack_big=" + ids[16]);
  ASSERT_EQ(small.status(), 200);
  std::vector<std::string> tail;
  for (int i = 0; i < 3; ++i) {
    auto e = small.next_user();
    ASSERT_TRUE(e);
    tail.emplace_back(e->at("id").as_string());
  }
  EXPECT_EQ(tail, std::vector<std::string>(ids.begin() + 17, ids.end()));
  auto live = emit(gw.port(), "big", "t.e", R"({"live":true})");
  auto e = small.next_user();
  ASSERT_TRUE(e);
  EXPECT_EQ(std::string(e->at("id").as_string()), live);
  EXPECT_FALSE(small.closed());
}

TEST(AuthLimits, NoReplayCapWhenZero) {
  GatewayProcess gw({"--max-replay-bytes", "0"});
  std::string pad(150, 'x');
  auto first = emit(gw.port(), "big", "t.e", R"({"i":-1})");
  for (int i = 0; i < 20; ++i) emit(gw.port(), "big", "t.e", R"({"p":")" + pad + "\"}");
  SseClient c(gw.port(), "/api/realtime?channel=big&last_ack_big=" + first);
  int n = 0;
  while (n < 20)
    if (auto e = c.next_user(2s))
      ++n;
    else
      break;
  EXPECT_EQ(n, 20);
  EXPECT_FALSE(c.next(300ms)) << "no reconnect";
  EXPECT_FALSE(c.closed());
}

TEST(AuthLimits, NoCapByDefault) {
  GatewayProcess gw;
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 20; ++i) {
    conns.push_back(std::make_unique<RawConn>(gw.port(), "127.0.0.1"));
    ASSERT_TRUE(open_stream(*conns.back(), "c")) << i;
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(emit_status(gw.port(), ""), 200);
}

namespace {

const std::string kSecret = "limits-secret-limits-secret-limits-42";

struct SecretFile {
  std::filesystem::path path;
  SecretFile() {
    char tmpl[] = "/tmp/forrealtime-limits-XXXXXX";
    int fd = ::mkstemp(tmpl);
    ::close(fd);
    path = tmpl;
    std::ofstream(path) << kSecret;
  }
  ~SecretFile() { std::filesystem::remove(path); }
};

std::string token(const std::string& realtime) {
  return mint_hmac("HS256", kSecret,
                   R"({"sub":"1","exp":)" + std::to_string(now_secs() + 600) + R"(,"realtime":)" +
                       realtime + "}");
}

}  // namespace

// POST /api/emit from a chosen loopback address (127.0.0.x); the status.
int emit_from(std::uint16_t port, const char* from, const std::string& headers) {
  std::string body = R"({"channel":"rate","event":"t.e","data":{"n":2}})";
  RawConn c(port, from);
  c.send(
      "POST /api/emit HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n" + headers + "\r\n" + body);
  auto got = c.read("\r\n\r\n");
  if (got.size() < 12 || got.compare(0, 9, "HTTP/1.1 ") != 0) return 0;
  return std::stoi(got.substr(9, 3));
}

// An attacker who makes up a credential per request (to get a fresh bucket each time) is charged
// to its address: 401s while the address has tokens, then 429, and the flood stores nothing and
// costs no verification once limited. A client granted before keeps its own bucket on the same
// address, and a client on another address is not concerned.
TEST(AuthLimits, MadeUpCredentialsAreChargedToTheAddress) {
  SecretFile secret;
  GatewayProcess gw({"--jwt-secret-file", secret.path.string(), "--emit-rate", "0.2",
                     "--emit-burst", "3", "--admin-token", "adm1n-t0ken-adm1n"});
  auto good = "Authorization: Bearer " + token(R"({"emit":["rate"]})") + "\r\n";
  EXPECT_EQ(emit_status(gw.port(), good), 200);  // costs its address one token
  std::vector<int> statuses;
  for (int i = 0; i < 8; ++i)
    statuses.push_back(
        emit_status(gw.port(), "Authorization: Bearer made-up-" + std::to_string(i) + "\r\n"));
  EXPECT_EQ(statuses, (std::vector<int>{401, 401, 429, 429, 429, 429, 429, 429}));
  // Valid tokens made afresh per request, or a valid one with junk added, are new credentials
  // too: charged to the address, which is empty.
  EXPECT_EQ(emit_status(gw.port(),
                        "Authorization: Bearer " + token(R"({"emit":["rate"],"n":1})") + "\r\n"),
            429);
  EXPECT_EQ(emit_status(gw.port(), "Cookie: forrealtime_token=" + token(R"({"emit":["rate"]})") +
                                       "; junk=1\r\n"),
            429);
  EXPECT_EQ(emit_status(gw.port(), ""), 429) << "no credential: the address";
  // The granted client still works: its own bucket (two of three tokens left).
  EXPECT_EQ(emit_status(gw.port(), good), 200);
  EXPECT_EQ(emit_status(gw.port(), good), 200);
  EXPECT_EQ(emit_status(gw.port(), good), 429);
  // Another address, with a token never seen: its own address bucket.
  auto other = "Authorization: Bearer " + token(R"({"emit":["rate"],"n":2})") + "\r\n";
  EXPECT_EQ(emit_from(gw.port(), "127.0.0.2", other), 200);
  EXPECT_EQ(emit_from(gw.port(), "127.0.0.2", other), 200);
  // Only the granted emits were stored.
  auto reader = "Authorization: Bearer " + token(R"({"subscribe":["rate"]})") + "\r\n";
  EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=rate&limit=100", "", reader)
                .json()
                .as_array()
                .size(),
            5u);
  EXPECT_GE(limit_hits(gw.port(), "emit_rate", "Authorization: Bearer adm1n-t0ken-adm1n\r\n"), 9u);
  EXPECT_EQ(gw.log().find("made-up-"), std::string::npos);
}

// Without authorization every credential is "valid": inventing one per request still gets only
// the address's burst.
TEST(AuthLimits, WithoutAuthInventedCredentialsShareTheAddressRate) {
  GatewayProcess gw({"--emit-rate", "0.2", "--emit-burst", "3"});
  std::vector<int> statuses;
  for (int i = 0; i < 6; ++i)
    statuses.push_back(
        emit_status(gw.port(), "Authorization: Bearer any-" + std::to_string(i) + "\r\n"));
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 429, 429, 429}));
  // The first three are known now: each has its own bucket.
  EXPECT_EQ(emit_status(gw.port(), "Authorization: Bearer any-0\r\n"), 200);
  EXPECT_EQ(emit_from(gw.port(), "127.0.0.3", "Authorization: Bearer any-9\r\n"), 200);
}

TEST(AuthAdmin, MetricsAndAdminApiNeedTheAdminGrantOrTokenOnceAuthIsOn) {
  SecretFile secret;
  GatewayProcess gw({"--jwt-secret-file", secret.path.string(), "--admin-token", "adm1n-t0ken",
                     "--public-channels", "news"});
  auto bearer = [](const std::string& t) { return "Authorization: Bearer " + t + "\r\n"; };
  for (auto path : {"/metrics", "/api/admin/stats", "/api/admin/channels"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(http(gw.port(), "GET", path).status, 401);
    EXPECT_EQ(http(gw.port(), "GET", path, "", bearer("wrong")).status, 401);
    EXPECT_EQ(http(gw.port(), "GET", path, "", bearer("adm1n-t0ke")).status, 401);
    EXPECT_EQ(http(gw.port(), "GET", path, "", bearer("adm1n-t0kenX")).status, 401);
    // A valid token without the admin grant, or with it false, or via the query: 403/401.
    EXPECT_EQ(http(gw.port(), "GET", path, "", bearer(token(R"({"subscribe":["*"]})"))).status,
              403);
    EXPECT_EQ(
        http(gw.port(), "GET", path, "", bearer(token(R"({"subscribe":["*"],"admin":false})")))
            .status,
        403);
    // Granted: the admin token, or a token with the admin grant.
    EXPECT_EQ(http(gw.port(), "GET", path, "", bearer("adm1n-t0ken")).status, 200);
    EXPECT_EQ(http(gw.port(), "GET", path, "", bearer(token(R"({"admin":true})"))).status, 200);
  }
  auto m = http(gw.port(), "GET", "/metrics", "", bearer("adm1n-t0ken"));
  EXPECT_NE(m.body.find("forrealtime_limits_hit_total{limit=\"emit_rate\"}"), std::string::npos);
  // Probes stay open for load balancers.
  EXPECT_EQ(http(gw.port(), "GET", "/livez").status, 200);
  EXPECT_EQ(http(gw.port(), "GET", "/readyz").status, 200);
}

TEST(AuthAdmin, WithoutAuthMetricsStayOpen) {
  GatewayProcess gw;
  EXPECT_EQ(http(gw.port(), "GET", "/metrics").status, 200);
}
