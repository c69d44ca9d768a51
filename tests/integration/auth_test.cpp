// Authorization in the real gateway over real HTTP: every way around a grant gets the right
// status and nothing of the stream, and the granted request next to it still works. Tokens are
// minted here with libcrypto (tests/support/jwt_mint.hpp); the forward-auth service is a small
// HTTP server on a loopback port in this process.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "support/jwt_mint.hpp"
#include "support/net.hpp"

using namespace fr_test;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "integration-secret-integration-secret-42";

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

// A temp dir with the key files, removed at exit.
struct Keys {
  std::filesystem::path dir;
  TestKey rsa = TestKey::rsa();
  TestKey ec = TestKey::ec(256);
  TestKey ed = TestKey::ed25519();
  Keys() {
    char tmpl[] = "/tmp/forrealtime-auth-XXXXXX";
    dir = ::mkdtemp(tmpl);
    write("secret", kSecret + "\n");
    write("rsa.pem", rsa.public_pem());
    write("jwks.json", "{\"keys\":[" + ec.jwk("ec1") + "," + ed.jwk("ed1") + "]}");
  }
  ~Keys() { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

Keys& keys() {
  static Keys k;
  return k;
}

// Claims with the audience and issuer the gateway expects, a grant and an expiry.
std::string claims(const std::string& realtime, long long exp_in = 600,
                   const std::string& extra = "") {
  return R"({"sub":"42","aud":"gw","iss":"idp","exp":)" + std::to_string(now_secs() + exp_in) +
         R"(,"realtime":)" + realtime + extra + "}";
}

const std::string kRoomGrant = R"({"subscribe":["room:*","user:{sub}"],"emit":["room:1"]})";

std::string hs(const std::string& c) {
  return mint_hmac("HS256", kSecret, c);
}

std::vector<std::string> jwt_args() {
  return {"--jwt-secret-file",     keys().path("secret"),
          "--jwt-public-key-file", keys().path("rsa.pem"),
          "--jwks-file",           keys().path("jwks.json"),
          "--jwt-audience",        "gw",
          "--jwt-issuer",          "idp",
          "--jwt-leeway",          "0",
          "--public-channels",     "news,public:*"};
}

// A refused subscribe: the status, no event stream, nothing delivered.
void expect_refused(std::uint16_t port, const std::string& target, int status,
                    const std::string& headers = "") {
  SseClient c(port, target, 0, "HTTP/1.1", headers);
  EXPECT_EQ(c.status(), status) << target << "\n" << c.head();
  EXPECT_EQ(c.head().find("text/event-stream"), std::string::npos) << target;
  EXPECT_FALSE(c.next(200ms)) << target;
}

// An opened stream: 200 and a `connected` per channel, in order.
void expect_stream(SseClient& c, const std::vector<std::string>& channels) {
  ASSERT_EQ(c.status(), 200) << c.head();
  for (auto& ch : channels) {
    auto e = c.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(str(*e, "type"), "connected");
    EXPECT_EQ(str(*e, "channel"), ch);
  }
}

std::string bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

class AuthGateway : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gw_ = new GatewayProcess(jwt_args()); }
  static void TearDownTestSuite() {
    delete gw_;
    gw_ = nullptr;
  }
  static std::uint16_t port() { return gw_->port(); }
  static GatewayProcess* gw_;
};
GatewayProcess* AuthGateway::gw_ = nullptr;

}  // namespace

TEST_F(AuthGateway, NoTokenIs401AndPublicChannelsStayOpen) {
  SseClient c(port(), "/api/realtime?channel=room:1");
  EXPECT_EQ(c.status(), 401);
  EXPECT_NE(c.head().find("WWW-Authenticate: Bearer"), std::string::npos) << c.head();
  EXPECT_FALSE(c.next(200ms));
  expect_refused(port(), "/api/realtime", 401);  // the default channel is not public
  expect_refused(port(), "/api/realtime?channel=news&channel=room:1", 401);
  SseClient pub(port(), "/api/realtime?channel=news&channel=public:x");
  expect_stream(pub, {"news", "public:x"});
  EXPECT_EQ(http(port(), "GET", "/api/history?channel=news").status, 200);
  EXPECT_EQ(http(port(), "GET", "/api/history?channel=room:1").status, 401);
}

TEST_F(AuthGateway, BadTokensAre401) {
  auto good = claims(kRoomGrant);
  auto pem = keys().rsa.public_pem();
  std::vector<std::pair<std::string, std::string>> bad = {
      {"malformed", "not-a-token"},
      {"three parts of junk", "a.b.c"},
      {"bad signature", mint_hmac("HS256", kSecret + "x", good)},
      {"alg none", mint_none(good)},
      {"HS256 keyed with the RSA public key", mint_hmac("HS256", pem, good)},
      {"RS256 signed by a stranger", mint(TestKey::rsa(), "RS256", good)},
      {"expired", hs(claims(kRoomGrant, -5))},
      {"nbf in the future",
       hs(claims(kRoomGrant, 600, ",\"nbf\":" + std::to_string(now_secs() + 300)))},
      {"wrong aud", hs(R"({"aud":"other","iss":"idp","realtime":{"subscribe":["room:*"]}})")},
      {"wrong iss", hs(R"({"aud":"gw","iss":"evil","realtime":{"subscribe":["room:*"]}})")},
      {"no aud", hs(R"({"iss":"idp","realtime":{"subscribe":["room:*"]}})")},
  };
  for (auto& [what, token] : bad) {
    SCOPED_TRACE(what);
    expect_refused(port(), "/api/realtime?channel=room:1&token=" + token, 401);
    expect_refused(port(), "/api/realtime?channel=room:1", 401, bearer(token));
    auto h = http(port(), "GET", "/api/history?channel=room:1", "", bearer(token));
    EXPECT_EQ(h.status, 401) << h.body;
    auto e = http(port(), "POST", "/api/emit", R"({"channel":"room:1","event":"a.b","data":1})",
                  bearer(token));
    EXPECT_EQ(e.status, 401) << e.body;
  }
  // And each key kind, correctly used, opens the stream.
  for (auto token : {hs(good), mint(keys().rsa, "RS256", good), mint(keys().rsa, "RS512", good),
                     mint(keys().ec, "ES256", good, "ec1"), mint(keys().ed, "EdDSA", good, "ed1"),
                     mint_hmac("HS512", kSecret, good)}) {
    SseClient c(port(), "/api/realtime?channel=room:1&token=" + token);
    expect_stream(c, {"room:1"});
  }
}

TEST_F(AuthGateway, TokenFromHeaderCookieOrQuery) {
  auto token = hs(claims(kRoomGrant));
  SseClient a(port(), "/api/realtime?channel=room:a", 0, "HTTP/1.1", bearer(token));
  expect_stream(a, {"room:a"});
  SseClient b(port(), "/api/realtime?channel=room:b", 0, "HTTP/1.1",
              "Cookie: theme=dark; forrealtime_token=" + token + "\r\n");
  expect_stream(b, {"room:b"});
  SseClient q(port(), "/api/realtime?channel=room:q&token=" + token);
  expect_stream(q, {"room:q"});
  expect_refused(port(), "/api/realtime?channel=room:b", 401,
                 "Cookie: other_token=" + token + "\r\n");
}

TEST_F(AuthGateway, ChannelsOutsideTheGrantAre403) {
  auto token = hs(claims(kRoomGrant));
  auto t = "&token=" + token;
  expect_refused(port(), "/api/realtime?channel=secret" + t, 403);
  expect_refused(port(), "/api/realtime?channel=room" + t, 403);     // room:* is not room
  expect_refused(port(), "/api/realtime?channel=ro%6Fm" + t, 403);   // percent-encoded room
  expect_refused(port(), "/api/realtime?channel=xroom:1" + t, 403);  // no prefix match
  expect_refused(port(), "/api/realtime?channel=user:43" + t, 403);  // another user's
  expect_refused(port(), "/api/realtime?channel=user:*" + t, 403);   // a pattern as a name
  expect_refused(port(), "/api/realtime?channel=room:1&channel=secret" + t, 403);  // repeated
  expect_refused(port(), "/api/realtime?channel=secret&channel=room:1" + t, 403);
  // The granted neighbours.
  SseClient ok(port(), "/api/realtime?channel=room%3A1&channel=user:42&channel=news" + t);
  expect_stream(ok, {"room:1", "user:42", "news"});
}

TEST_F(AuthGateway, LastAckOfAnotherChannelOpensNothing) {
  auto emitter = hs(claims(R"({"emit":["*"]})"));
  auto post = [&](const std::string& channel, int n) {
    return http(
        port(), "POST", "/api/emit",
        R"({"channel":")" + channel + R"(","event":"a.b","data":)" + std::to_string(n) + "}",
        bearer(emitter));
  };
  ASSERT_EQ(post("secret:ack", 1).status, 200);
  auto token = hs(claims(kRoomGrant));
  SseClient c(port(), "/api/realtime?channel=room:ack&last_ack_secret:ack=0-0&token=" + token);
  expect_stream(c, {"room:ack"});
  ASSERT_EQ(post("secret:ack", 2).status, 200);
  ASSERT_EQ(post("room:ack", 3).status, 200);
  auto e = c.next_user();
  ASSERT_TRUE(e);
  EXPECT_EQ(str(*e, "channel"), "room:ack");
  EXPECT_FALSE(c.next_user(300ms)) << "nothing of secret:ack, replayed or live";
}

TEST_F(AuthGateway, HistoryGrants) {
  auto subscribe_only = hs(claims(R"({"subscribe":["room:*"]})"));
  auto no_history = hs(claims(R"({"subscribe":["room:*"],"history":[]})"));
  auto other_history = hs(claims(R"({"subscribe":["room:*"],"history":["log:*"]})"));
  EXPECT_EQ(http(port(), "GET", "/api/history?channel=room:h", "", bearer(subscribe_only)).status,
            200)
      << "history defaults to subscribe";
  auto r = http(port(), "GET", "/api/history?channel=room:h", "", bearer(no_history));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.body.find("\"id\""), std::string::npos);
  EXPECT_EQ(http(port(), "GET", "/api/history?channel=room:h", "", bearer(other_history)).status,
            403);
  EXPECT_EQ(http(port(), "GET", "/api/history?channel=log:1", "", bearer(other_history)).status,
            200);
  EXPECT_EQ(http(port(), "GET", "/api/history?channel=news", "", bearer(no_history)).status, 200);
  EXPECT_EQ(http(port(), "GET", "/api/history", "", bearer(subscribe_only)).status, 403)
      << "the default channel is not granted";
}

TEST_F(AuthGateway, EmitGrants) {
  auto subscribe_only = hs(claims(R"({"subscribe":["room:*"]})"));
  auto emitter = hs(claims(kRoomGrant));
  auto body = R"({"channel":"room:1","event":"a.b","data":1})";
  EXPECT_EQ(http(port(), "POST", "/api/emit", body).status, 401);
  EXPECT_EQ(http(port(), "POST", "/api/emit", body, bearer(subscribe_only)).status, 403);
  EXPECT_EQ(http(port(), "POST", "/api/emit", R"({"channel":"news","event":"a.b","data":1})",
                 bearer(subscribe_only))
                .status,
            403)
      << "public channels are for reading";
  // A batch is refused whole when one item is outside the grant.
  auto batch = R"([{"channel":"room:1","event":"a.b","data":1},
                   {"channel":"room:2","event":"a.b","data":2}])";
  EXPECT_EQ(http(port(), "POST", "/api/emit", batch, bearer(emitter)).status, 403);
  auto h = http(port(), "GET", "/api/history?channel=room:2", "", bearer(emitter));
  EXPECT_EQ(h.body, "[]");
  // The granted emit, delivered.
  SseClient c(port(), "/api/realtime?channel=room:1&token=" + emitter);
  expect_stream(c, {"room:1"});
  auto r = http(port(), "POST", "/api/emit", body, bearer(emitter));
  ASSERT_EQ(r.status, 200) << r.body;
  auto e = c.next_user();
  ASSERT_TRUE(e);
  EXPECT_EQ(str(*e, "id"), str(r.json(), "id"));
}

TEST_F(AuthGateway, TokensNeverReachTheLog) {
  auto token = hs(claims(kRoomGrant));
  auto bad = mint_hmac("HS256", kSecret + "x", claims(kRoomGrant));
  http(port(), "GET", "/api/history?channel=room:1&limit=x&token=" + token);  // 400
  http(port(), "GET", "/api/nope?token=" + token);                            // 404
  http(port(), "POST", "/api/history?token=" + token);                        // 405
  http(port(), "GET", "/api/history?channel=secret&token=" + token);          // 403
  http(port(), "GET", "/api/history?channel=room:1&token=" + bad);            // 401
  http(port(), "GET", "/api/history?channel=room:1&%74oken=" + bad);          // 401
  expect_refused(port(), "/api/realtime?channel=secret&token=" + token, 403);
  expect_refused(port(), "/api/realtime?channel=room:1&token=" + bad, 401);
  expect_refused(port(), "/api/realtime?channel=room:1&token=" + bad + "%zz", 400);
  http(port(), "GET", "/api/realtime?channel=a&token=" + token, "", "", "HTTP/1.1\r\nBad");
  std::this_thread::sleep_for(200ms);
  auto log = gw_->log();
  EXPECT_NE(log.find("refused"), std::string::npos) << "the refusals are logged";
  for (auto& t : {token, bad}) {
    auto sig = t.substr(t.rfind('.') + 1);
    EXPECT_EQ(log.find(sig), std::string::npos) << log;
    EXPECT_EQ(log.find(t.substr(0, 30)), std::string::npos) << log;
  }
}

TEST_F(AuthGateway, ForeignOriginsCannotEmit) {
  auto emitter = hs(claims(kRoomGrant));
  auto body = R"({"channel":"room:1","event":"a.b","data":1})";
  auto r = http(port(), "POST", "/api/emit", body,
                bearer(emitter) + "Origin: https://evil.example\r\nContent-Type: text/plain\r\n");
  EXPECT_EQ(r.status, 403) << r.body;
  auto form = http(port(), "POST", "/api/emit", body,
                   "Cookie: forrealtime_token=" + emitter +
                       "\r\nOrigin: https://evil.example\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n");
  EXPECT_EQ(form.status, 403) << form.body;
  // The same request from the gateway's own origin, or from a tool without Origin, goes on.
  // (the test client sends `Host: 127.0.0.1`)
  auto same =
      http(port(), "POST", "/api/emit", body, bearer(emitter) + "Origin: http://127.0.0.1\r\n");
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(http(port(), "POST", "/api/emit", body, bearer(emitter)).status, 200);
}

TEST(AuthGatewayExpiry, StreamEndsWithGrantExpiredAtExp) {
  GatewayProcess gw(jwt_args());
  auto token = hs(claims(kRoomGrant, 2));
  SseClient c(gw.port(), "/api/realtime?channel=room:1&token=" + token);
  expect_stream(c, {"room:1"});
  auto start = std::chrono::steady_clock::now();
  std::optional<boost::json::value> last;
  while (auto e = c.next(5s)) {
    if (e->as_object().contains("type") && str(*e, "type") == "grant_expired") {
      last = e;
      break;
    }
  }
  ASSERT_TRUE(last) << "a grant_expired event";
  EXPECT_TRUE(last->at("timestamp").is_number());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4500ms);
  EXPECT_FALSE(c.next(2s));
  EXPECT_TRUE(c.closed());
  // Meanwhile an event is stored; the client comes back with a new token and its ack, and
  // gets it: nothing is lost across the expiry.
  auto fresh = hs(claims(kRoomGrant));
  auto r = http(gw.port(), "POST", "/api/emit", R"({"channel":"room:1","event":"a.b","data":7})",
                bearer(fresh));
  ASSERT_EQ(r.status, 200) << r.body;
  expect_refused(gw.port(), "/api/realtime?channel=room:1&token=" + token, 401);  // the old one
  SseClient again(gw.port(), "/api/realtime?channel=room:1&last_ack_room:1=0-0&token=" + fresh);
  expect_stream(again, {"room:1"});
  auto e = again.next_user();
  ASSERT_TRUE(e);
  EXPECT_EQ(str(*e, "id"), str(r.json(), "id"));
}

TEST(AuthGatewayOff, WithoutAuthReadsArePublicAndTheLogSaysSo) {
  GatewayProcess gw;
  SseClient c(gw.port(), "/api/realtime?channel=anything");
  expect_stream(c, {"anything"});
  EXPECT_NE(gw.log().find("reads are public"), std::string::npos) << gw.log();
}

TEST(AuthGatewayOff, EmitTokenKeepsWorkingWithJwt) {
  auto args = jwt_args();
  args.insert(args.end(), {"--emit-token", "static-emit-token"});
  GatewayProcess gw(args);
  auto body = R"({"channel":"anywhere","event":"a.b","data":1})";
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", body, bearer("static-emit-token")).status, 200);
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", body, bearer("wrong")).status, 401);
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", body).status, 401);
  auto jwt = hs(claims(R"({"emit":["anywhere"]})"));
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", body, bearer(jwt)).status, 200);
}

// --- CORS
// -----------------------------------------------------------------------------------------

TEST(AuthCors, CredentialsForListedOriginsOnly) {
  auto args = jwt_args();
  args.insert(args.end(),
              {"--cors-origin", "https://app.example", "--cors-origin", "http://localhost:3000"});
  GatewayProcess gw(args);
  auto token = hs(claims(kRoomGrant));
  auto cookie = "Cookie: forrealtime_token=" + token + "\r\n";
  SseClient ok(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1",
               cookie + "Origin: https://app.example\r\n");
  expect_stream(ok, {"room:1"});
  EXPECT_NE(ok.head().find("Access-Control-Allow-Origin: https://app.example"), std::string::npos)
      << ok.head();
  EXPECT_NE(ok.head().find("Access-Control-Allow-Credentials: true"), std::string::npos);
  EXPECT_NE(ok.head().find("Vary: Origin"), std::string::npos);
  SseClient foreign(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1",
                    cookie + "Origin: https://evil.example\r\n");
  foreign.status();
  EXPECT_EQ(foreign.head().find("Access-Control-Allow-Origin"), std::string::npos)
      << foreign.head();
  EXPECT_EQ(foreign.head().find("Access-Control-Allow-Credentials"), std::string::npos);
  auto h = http(gw.port(), "GET", "/api/history?channel=room:1", "",
                cookie + "Origin: http://localhost:3000\r\n");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.headers["access-control-allow-origin"], "http://localhost:3000");
  EXPECT_EQ(h.headers["access-control-allow-credentials"], "true");
  auto pre = http(gw.port(), "OPTIONS", "/api/emit", "",
                  "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n");
  EXPECT_EQ(pre.headers["access-control-allow-origin"], "https://app.example");
  auto emit_ok =
      http(gw.port(), "POST", "/api/emit", R"({"channel":"room:1","event":"a.b","data":1})",
           cookie + "Origin: https://app.example\r\nContent-Type: text/plain\r\n");
  EXPECT_EQ(emit_ok.status, 200) << emit_ok.body;
}

// --- forward auth
// ---------------------------------------------------------------------------------

namespace {

// A tiny HTTP/1.1 server answering each request with a programmable status, body and delay.
class AuthService {
 public:
  AuthService() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~AuthService() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (auto& t : workers_) t.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/check"; }
  void answer(int status, std::string body = "", std::chrono::milliseconds delay = 0ms) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
    delay_ = delay;
  }
  int calls() const { return calls_; }
  std::string last_request() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void run() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      workers_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    std::string req;
    char buf[4096];
    while (true) {
      auto head_end = req.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto cl = req.find("Content-Length: ");
        std::size_t n = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
        if (req.size() >= head_end + 4 + n) break;
      }
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 3000) <= 0) break;
      auto n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<std::size_t>(n));
    }
    int status;
    std::string body;
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu_);
      ++calls_;
      last_ = req;
      status = status_;
      body = body_;
      delay = delay_;
    }
    std::this_thread::sleep_for(delay);
    auto res = "HTTP/1.1 " + std::to_string(status) +
               " X\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body;
    ::send(c, res.data(), res.size(), MSG_NOSIGNAL);
    ::close(c);
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::atomic<int> calls_{0};
  int status_ = 200;
  std::string body_;
  std::chrono::milliseconds delay_{0};
  std::string last_;
};

}  // namespace

TEST(AuthForward, AllowsRefusesAndForwardsTheCredentials) {
  AuthService svc;
  GatewayProcess gw({"--auth-url", svc.url(), "--auth-timeout", "1", "--public-channels", "news"});
  svc.answer(200);
  SseClient ok(gw.port(), "/api/realtime?channel=room:1&channel=room:2", 0, "HTTP/1.1",
               "Cookie: session=abc\r\nOrigin: https://app.example\r\n"
               "X-Forwarded-For: 10.0.0.1\r\nAuthorization: Bearer xyz\r\n");
  expect_stream(ok, {"room:1", "room:2"});
  auto req = svc.last_request();
  EXPECT_NE(req.find("POST /check HTTP/1.1"), std::string::npos) << req;
  EXPECT_NE(req.find("Cookie: session=abc"), std::string::npos) << req;
  EXPECT_NE(req.find("Authorization: Bearer xyz"), std::string::npos) << req;
  EXPECT_NE(req.find("Origin: https://app.example"), std::string::npos) << req;
  // The client is not a trusted proxy (--trusted-proxies): its own X-Forwarded-For is replaced
  // by its address, as a proxy would send it.
  EXPECT_NE(req.find("X-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.find("10.0.0.1"), std::string::npos) << req;
  EXPECT_NE(req.find(R"({"operation":"subscribe","channels":["room:1","room:2"]})"),
            std::string::npos)
      << req;
  int before = svc.calls();
  SseClient pub(gw.port(), "/api/realtime?channel=news");
  expect_stream(pub, {"news"});
  EXPECT_EQ(svc.calls(), before) << "public channels need no call";

  svc.answer(401);
  expect_refused(gw.port(), "/api/realtime?channel=room:1", 401, "Cookie: session=a1\r\n");
  svc.answer(403);
  expect_refused(gw.port(), "/api/realtime?channel=room:1", 403, "Cookie: session=a2\r\n");
  auto h = http(gw.port(), "GET", "/api/history?channel=room:1", "", "Cookie: session=a3\r\n");
  EXPECT_EQ(h.status, 403);
  EXPECT_NE(svc.last_request().find(R"({"operation":"history","channels":["room:1"]})"),
            std::string::npos);
  auto e = http(gw.port(), "POST", "/api/emit", R"({"channel":"room:9","event":"a.b","data":1})",
                "Cookie: session=a4\r\n");
  EXPECT_EQ(e.status, 403);
  EXPECT_NE(svc.last_request().find(R"({"operation":"emit","channels":["room:9"]})"),
            std::string::npos);
  svc.answer(200);
  e = http(gw.port(), "POST", "/api/emit", R"({"channel":"room:9","event":"a.b","data":1})",
           "Cookie: session=a5\r\n");
  EXPECT_EQ(e.status, 200) << e.body;
}

TEST(AuthForward, FailsClosed) {
  AuthService svc;
  GatewayProcess gw({"--auth-url", svc.url(), "--auth-timeout", "0.5"});
  svc.answer(500);
  expect_refused(gw.port(), "/api/realtime?channel=room:1", 503, "Cookie: s=1\r\n");
  svc.answer(302);
  expect_refused(gw.port(), "/api/realtime?channel=room:1", 503, "Cookie: s=2\r\n");
  svc.answer(200, "", 1500ms);  // slow
  auto start = std::chrono::steady_clock::now();
  expect_refused(gw.port(), "/api/realtime?channel=room:1", 503, "Cookie: s=3\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1400ms);
  EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=room:1", "", "Cookie: s=4\r\n").status,
            503);
  // Down: nothing listens on the port any more.
  int port;
  {
    AuthService gone;
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  GatewayProcess down(
      {"--auth-url", "http://127.0.0.1:" + std::to_string(port) + "/x", "--auth-timeout", "0.5"});
  expect_refused(down.port(), "/api/realtime?channel=room:1", 503, "Cookie: s=5\r\n");
  EXPECT_EQ(
      http(down.port(), "POST", "/api/emit", R"({"channel":"a","event":"a.b","data":1})").status,
      503);
}

TEST(AuthForward, CacheHonoursTheTtlAndSharesCalls) {
  AuthService svc;
  GatewayProcess gw({"--auth-url", svc.url(), "--auth-timeout", "2"});
  svc.answer(200, R"({"ttl":1})");
  auto get = [&](const std::string& cookie) {
    return http(gw.port(), "GET", "/api/history?channel=room:1", "", "Cookie: " + cookie + "\r\n")
        .status;
  };
  EXPECT_EQ(get("s=a"), 200);
  EXPECT_EQ(get("s=a"), 200);
  EXPECT_EQ(svc.calls(), 1) << "the second answer came from the cache";
  EXPECT_EQ(get("s=b"), 200);
  EXPECT_EQ(svc.calls(), 2) << "another credential is another question";
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(get("s=a"), 200);
  EXPECT_EQ(svc.calls(), 3) << "after the ttl, asked again";
  // Concurrent identical questions share one call.
  svc.answer(200, "", 400ms);
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) ts.emplace_back([&] { ok += get("s=c") == 200; });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok, 6);
  EXPECT_EQ(svc.calls(), 4);
}

TEST(AuthForward, StreamEndsWhenTheTtlRunsOut) {
  AuthService svc;
  GatewayProcess gw({"--auth-url", svc.url()});
  svc.answer(200, R"({"ttl":1})");
  SseClient c(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1", "Cookie: s=1\r\n");
  expect_stream(c, {"room:1"});
  bool expired = false;
  while (auto e = c.next(4s))
    if (e->as_object().contains("type") && str(*e, "type") == "grant_expired") expired = true;
  EXPECT_TRUE(expired);
  EXPECT_TRUE(c.closed());
}

// Issue 14's "end the streams of a token's subject" for forward auth: the auth service names the
// subject in its answer, and the admin API ends that subject's streams and no one else's.
TEST(AuthForward, SubjectOfTheAnswerLetsTheAdminEndItsStreams) {
  AuthService svc;
  const std::string admin = "Authorization: Bearer admin-secret-admin-secret\r\n";
  GatewayProcess gw({"--auth-url", svc.url(), "--admin-token", "admin-secret-admin-secret"});
  svc.answer(200, R"({"ttl":60,"subject":"ada"})");
  SseClient ada(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1", "Cookie: s=ada\r\n");
  expect_stream(ada, {"room:1"});
  svc.answer(200, R"({"subject":"bob"})");
  SseClient bob(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1", "Cookie: s=bob\r\n");
  expect_stream(bob, {"room:1"});
  svc.answer(200);
  SseClient anon(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1", "Cookie: s=x\r\n");
  expect_stream(anon, {"room:1"});
  // Ada's second stream: the decision comes from the cache, with its subject.
  int calls = svc.calls();
  SseClient ada2(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1", "Cookie: s=ada\r\n");
  expect_stream(ada2, {"room:1"});
  EXPECT_EQ(svc.calls(), calls);

  // Without the admin credential (a session cookie the service allows channels for is not one),
  // nothing ends.
  // The auth service allows channels for this cookie, but did not say admin: 403.
  EXPECT_EQ(http(gw.port(), "POST", "/api/admin/subject/close?subject=ada", "", "Cookie: s=ada\r\n")
                .status,
            403);
  EXPECT_NE(svc.last_request().find(R"({"operation":"admin","channels":[]})"), std::string::npos)
      << svc.last_request();
  auto r = http(gw.port(), "POST", "/api/admin/subject/close?subject=ada", "", admin);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"closed\":2"), std::string::npos) << r.body;
  for (auto* c : {&ada, &ada2}) {
    bool reconnect = false;
    while (auto e = c->next(2s))
      if (e->as_object().contains("type") && str(*e, "type") == "reconnect") reconnect = true;
    EXPECT_TRUE(reconnect);
    EXPECT_TRUE(c->closed());
  }
  // Bob's and the anonymous stream go on: an event still reaches them.
  ASSERT_EQ(http(gw.port(), "POST", "/api/emit", R"({"channel":"room:1","event":"a.b","data":7})",
                 "Cookie: s=x\r\n")
                .status,
            200);
  for (auto* c : {&bob, &anon}) {
    auto e = c->next(2s);
    ASSERT_TRUE(e);
    EXPECT_EQ(str(*e, "event"), "a.b");
  }
}

TEST(AuthForward, ABadSubjectInTheAnswerFailsClosed) {
  AuthService svc;
  GatewayProcess gw({"--auth-url", svc.url()});
  svc.answer(200, R"({"subject":42})");
  expect_refused(gw.port(), "/api/realtime?channel=room:1", 503, "Cookie: s=1\r\n");
  svc.answer(200, R"({"subject":"ok"})");
  SseClient c(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1", "Cookie: s=1\r\n");
  expect_stream(c, {"room:1"});
}
