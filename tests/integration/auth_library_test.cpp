// forrealtime::Auth as a C++ embedder uses it (include/forrealtime/auth.hpp), without the
// program: the same policies as the gateway's flags, as an Authorizer for an in-process Gateway
// (subscribe, history and emit), as middleware for handle() in a server of one's own, and as
// `check` in one's own history and emit routes. Each rule is tried around and the granted
// request next to it works. Tokens are minted with libcrypto; forward auth is a tiny loopback
// server in this process.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "forrealtime/auth.hpp"
#include "forrealtime/gateway.hpp"
#include "forrealtime/realtime.hpp"
#include "support/jwt_mint.hpp"
#include "support/net.hpp"

using namespace fr_test;
using namespace forrealtime;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "library-secret-library-secret-library";

struct SecretFile {
  std::filesystem::path path;
  SecretFile() {
    char tmpl[] = "/tmp/forrealtime-authlib-XXXXXX";
    ::close(::mkstemp(tmpl));
    path = tmpl;
    std::ofstream(path) << kSecret;
  }
  ~SecretFile() { std::filesystem::remove(path); }
};

std::string token(const std::string& realtime, const std::string& sub = "7") {
  return mint_hmac("HS256", kSecret,
                   R"({"sub":")" + sub + R"(","exp":)" + std::to_string(now_secs() + 600) +
                       R"(,"realtime":)" + realtime + "}");
}

std::string bearer(const std::string& t) {
  return "Authorization: Bearer " + t + "\r\n";
}

// The decision of auth.check for a request carrying `headers` (lower-case names).
AuthDecision check(const Auth& auth, std::map<std::string, std::string> headers, Operation op,
                   std::vector<std::string> channels) {
  boost::asio::io_context ioc;
  Request r;
  r.method = "GET";
  r.target = "/mine";
  r.header = [&headers](std::string_view n) -> std::optional<std::string_view> {
    auto it = headers.find(std::string(n));
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  auto f = boost::asio::co_spawn(ioc, auth.check(r, op, channels), boost::asio::use_future);
  ioc.run();
  return f.get();
}

unsigned status_of(const AuthDecision& d) {
  return d.refusal ? d.refusal->status : 200;
}

// A forward-auth service answering 200 with a subject to `Cookie: session=ok`, else 401.
class TinyAuthService {
 public:
  TinyAuthService() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
          auto n = ::read(c, buf, sizeof buf);
          if (n <= 0) break;
          req.append(buf, static_cast<std::size_t>(n));
        }
        ++calls;
        bool ok = req.find("session=ok") != std::string::npos;
        std::string body = ok ? R"({"ttl":30,"subject":"ada"})" : "";
        std::string res = std::string(ok ? "HTTP/1.1 200 OK" : "HTTP/1.1 401 No") +
                          "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: close\r\n\r\n" + body;
        ::send(c, res.data(), res.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~TinyAuthService() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/auth"; }
  std::atomic<int> calls{0};

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST(AuthLibrary, CheckDecidesHistoryAndEmitForOwnRoutes) {
  SecretFile secret;
  Auth auth({.public_channels = {"news"}, .jwt_secret_file = secret.path.string()});
  // Public: read without a credential, never emit.
  EXPECT_EQ(status_of(check(auth, {}, Operation::history, {"news"})), 200);
  EXPECT_EQ(status_of(check(auth, {}, Operation::emit, {"news"})), 401);
  EXPECT_EQ(status_of(check(auth, {}, Operation::history, {"room:1"})), 401);
  // A bad token is 401, whatever it claims.
  auto forged = mint_hmac("HS256", kSecret + "x", R"({"realtime":{"emit":["*"]}})");
  EXPECT_EQ(
      status_of(check(auth, {{"authorization", "Bearer " + forged}}, Operation::emit, {"room:1"})),
      401);
  // history defaults to subscribe; an explicitly empty history grants none.
  auto sub_only = "Bearer " + token(R"({"subscribe":["room:*"]})");
  EXPECT_EQ(status_of(check(auth, {{"authorization", sub_only}}, Operation::history, {"room:1"})),
            200);
  EXPECT_EQ(status_of(check(auth, {{"authorization", sub_only}}, Operation::emit, {"room:1"})),
            403);
  auto no_history = "Bearer " + token(R"({"subscribe":["room:*"],"history":[]})");
  EXPECT_EQ(status_of(check(auth, {{"authorization", no_history}}, Operation::history, {"room:1"})),
            403);
  // Emit: every channel of a batch must be granted.
  auto emitter = "Bearer " + token(R"({"emit":["user:{sub}"]})", "42");
  EXPECT_EQ(status_of(check(auth, {{"authorization", emitter}}, Operation::emit, {"user:42"})),
            200);
  EXPECT_EQ(
      status_of(check(auth, {{"authorization", emitter}}, Operation::emit, {"user:42", "user:43"})),
      403);
  // The token from the cookie works as from the header; the subject comes with the decision.
  auto d = check(auth, {{"cookie", "a=b; forrealtime_token=" + token(R"({"emit":["x"]})", "9")}},
                 Operation::emit, {"x"});
  EXPECT_EQ(status_of(d), 200);
  EXPECT_EQ(d.subject, "9");
  EXPECT_GT(d.grant_expires_ms, 0u);
  EXPECT_GE(auth.counters().forbidden.load(), 3u);
}

TEST(AuthLibrary, ForwardAuthInOwnRoutesCarriesTheSubject) {
  TinyAuthService svc;
  Auth auth({.auth_url = svc.url(), .auth_timeout = 2000ms});
  EXPECT_EQ(status_of(check(auth, {}, Operation::history, {"room:1"})), 401);
  EXPECT_EQ(status_of(check(auth, {{"cookie", "session=nope"}}, Operation::emit, {"room:1"})), 401);
  auto d = check(auth, {{"cookie", "session=ok"}}, Operation::emit, {"room:1"});
  EXPECT_EQ(status_of(d), 200);
  EXPECT_EQ(d.subject, "ada");
  EXPECT_GT(d.grant_expires_ms, 0u);
  // The operator endpoints need the service to say admin: it did not.
  EXPECT_EQ(status_of(check(auth, {{"cookie", "session=ok"}}, Operation::admin, {})), 403);
}

TEST(AuthLibrary, AuthorizerGuardsSubscribeHistoryAndEmitOfAnInProcessGateway) {
  SecretFile secret;
  Realtime rt;
  Auth auth({.jwt_secret_file = secret.path.string()});
  GatewayOptions go;
  go.port = 0;
  go.threads = 1;
  go.authorize = auth.authorizer();
  Gateway gw(rt, go);
  gw.start();
  auto reader = bearer(token(R"({"subscribe":["room:*"]})"));
  auto writer = bearer(token(R"({"emit":["room:1"]})"));
  // Subscribe: nothing without a grant, a stream with one.
  EXPECT_EQ(http(gw.port(), "GET", "/api/realtime?channel=room:1").status, 401);
  EXPECT_EQ(http(gw.port(), "GET", "/api/realtime?channel=room:1", "", writer).status, 403);
  SseClient c(gw.port(), "/api/realtime?channel=room:1", 0, "HTTP/1.1", reader);
  ASSERT_EQ(c.status(), 200);
  ASSERT_TRUE(c.next());  // connected
  // Emit: the reader may not, the writer may.
  std::string body = R"({"channel":"room:1","event":"a.b","data":5})";
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", body).status, 401);
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", body, reader).status, 403);
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", body, writer).status, 200);
  auto e = c.next_user();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->at("data").as_int64(), 5);
  // History: the writer has no subscribe (so no history) grant, the reader has.
  EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=room:1").status, 401);
  EXPECT_EQ(http(gw.port(), "GET", "/api/history?channel=room:1", "", writer).status, 403);
  auto h = http(gw.port(), "GET", "/api/history?channel=room:1", "", reader);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json().as_array().size(), 1u);
  gw.stop();
}
