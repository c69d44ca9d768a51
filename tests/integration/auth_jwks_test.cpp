// `--jwks-url` against a small JWKS server in this test (plain HTTP, and HTTPS with a
// certificate the test makes and the gateway trusts through SSL_CERT_FILE): keys fetched at
// start, a rotated key found by fetching again on its unknown `kid`, made-up kids unable to
// make the gateway fetch more than once per interval, and a server that goes away leaving the
// keys fetched before in use.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "support/jwt_mint.hpp"
#include "support/net.hpp"

using namespace fr_test;
using namespace std::chrono_literals;

namespace {

// Serves its current JWK Set to every request; TLS when given a certificate and key.
class JwksServer {
 public:
  explicit JwksServer(const std::string& cert = "", const std::string& key = "") {
    if (!cert.empty()) {
      ctx_ = SSL_CTX_new(TLS_server_method());
      SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM);
    }
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
  ~JwksServer() { stop(); }
  void stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    if (ctx_) SSL_CTX_free(ctx_);
  }
  std::string url() const {
    return std::string(ctx_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           "/.well-known/jwks.json";
  }
  void serve_keys(std::string jwks) {
    std::lock_guard lock(mu_);
    body_ = std::move(jwks);
  }
  int requests() const { return requests_; }

 private:
  void run() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL* ssl = nullptr;
      if (ctx_) {
        ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) != 1) {
          ERR_clear_error();
          SSL_free(ssl);
          ::close(c);
          continue;
        }
      }
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        int n = ssl ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(::read(c, buf, sizeof buf));
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      std::string body;
      {
        std::lock_guard lock(mu_);
        body = body_;
      }
      ++requests_;
      auto res = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      if (ssl) {
        SSL_write(ssl, res.data(), static_cast<int>(res.size()));
        SSL_shutdown(ssl);
        SSL_free(ssl);
      } else {
        ::send(c, res.data(), res.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string body_ = R"({"keys":[]})";
  std::atomic<int> requests_{0};
};

std::string claims() {
  return R"({"sub":"7","aud":"gw","exp":)" + std::to_string(now_secs() + 600) +
         R"(,"realtime":{"subscribe":["room:*"]}})";
}

int subscribe_status(std::uint16_t port, const std::string& token) {
  return http(port, "GET", "/api/history?channel=room:1", "",
              "Authorization: Bearer " + token + "\r\n")
      .status;
}

}  // namespace

TEST(AuthJwks, FetchedAtStartRefetchedOnUnknownKidAtABoundedRate) {
  auto k1 = TestKey::ec(256), k2 = TestKey::rsa(), stranger = TestKey::ec(256);
  JwksServer server;
  server.serve_keys("{\"keys\":[" + k1.jwk("k1") + "]}");
  GatewayProcess gw({"--jwks-url", server.url(), "--jwt-audience", "gw", "--jwt-leeway", "0"});
  // The first fetch happens at start.
  for (int i = 0; i < 50 && subscribe_status(gw.port(), mint(k1, "ES256", claims(), "k1")) != 200;
       ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(subscribe_status(gw.port(), mint(k1, "ES256", claims(), "k1")), 200);
  int after_start = server.requests();
  EXPECT_GE(after_start, 1);
  // A known kid with a bad signature: 401 and no fetch.
  EXPECT_EQ(subscribe_status(gw.port(), mint(stranger, "ES256", claims(), "k1")), 401);
  EXPECT_EQ(server.requests(), after_start);
  // Unknown kids make the gateway fetch at most once per 5 s: wait that long since the start.
  std::this_thread::sleep_for(5500ms);
  // The identity provider rotates to k2: a token with kid k2 makes the gateway fetch again, and
  // it is let in on that same request.
  server.serve_keys("{\"keys\":[" + k1.jwk("k1") + "," + k2.jwk("k2") + "]}");
  EXPECT_EQ(subscribe_status(gw.port(), mint(k2, "RS256", claims(), "k2")), 200);
  int after_rotation = server.requests();
  EXPECT_EQ(after_rotation, after_start + 1);
  // Made-up kids right after: all 401, and no more fetches within the 5 s.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(subscribe_status(gw.port(),
                               mint(stranger, "ES256", claims(), "made-up-" + std::to_string(i))),
              401);
  EXPECT_EQ(server.requests(), after_rotation);
  // The server goes away: the keys fetched stay in use.
  server.stop();
  EXPECT_EQ(subscribe_status(gw.port(), mint(k2, "RS256", claims(), "k2")), 200);
  EXPECT_EQ(subscribe_status(gw.port(), mint(k1, "ES256", claims(), "k1")), 200);
  EXPECT_EQ(subscribe_status(gw.port(), ""), 401);
}

TEST(AuthJwks, OverHttpsWithAVerifiedCertificate) {
  char tmpl[] = "/tmp/forrealtime-jwks-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
      "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto k1 = TestKey::ed25519();
  {
    JwksServer server(cert, key);
    server.serve_keys("{\"keys\":[" + k1.jwk("e1") + "]}");
    // Not trusted: the fetch fails (logged), tokens are refused.
    {
      GatewayProcess untrusted({"--jwks-url", server.url()});
      std::this_thread::sleep_for(500ms);
      EXPECT_EQ(subscribe_status(untrusted.port(), mint(k1, "EdDSA", claims(), "e1")), 401);
      EXPECT_NE(untrusted.log().find("TLS handshake failed"), std::string::npos) << untrusted.log();
    }
    ::setenv("SSL_CERT_FILE", cert.c_str(), 1);
    GatewayProcess gw({"--jwks-url", server.url()});
    ::unsetenv("SSL_CERT_FILE");
    int status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) {
      status = subscribe_status(gw.port(), mint(k1, "EdDSA", claims(), "e1"));
      if (status != 200) std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(status, 200) << gw.log();
  }
  std::filesystem::remove_all(dir);
}
