// TLS on the real gateway: certificates made here with the openssl program, a client on
// libssl that verifies them (name 127.0.0.1), HTTPS requests and an SSE stream over TLS, and a
// SIGHUP reload to a new certificate while that stream stays open and keeps delivering.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "support/net.hpp"

using namespace fr_test;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    char tmpl[] = "/tmp/forrealtime-tls-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

// A self-signed P-256 certificate for 127.0.0.1 with the given common name.
void make_cert(const TempDir& d, const std::string& cn, const std::string& cert,
               const std::string& key) {
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1"
      " -subj /CN=" +
      cn + " -addext subjectAltName=IP:127.0.0.1 -keyout " + d.path(key) + " -out " + d.path(cert) +
      " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// A blocking TLS client that trusts one certificate file.
class TlsClient {
 public:
  TlsClient(std::uint16_t port, const std::string& trust) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_load_verify_locations(ctx_, trust.c_str(), nullptr);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{0, 300000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    ok_ = SSL_connect(ssl_) == 1 && SSL_get_verify_result(ssl_) == X509_V_OK;
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  bool ok() const { return ok_; }
  std::string peer_cn() const {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (!cert) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
  }
  void send(const std::string& s) { SSL_write(ssl_, s.data(), static_cast<int>(s.size())); }
  // Reads until `until` was read (from where the last call left off), the end, or the timeout.
  std::string read(const std::string& until, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (in_.find(until, from_) == std::string::npos && !closed_ &&
           std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      int err = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (err == SSL_ERROR_ZERO_RETURN || (err != SSL_ERROR_WANT_READ && errno != EAGAIN))
        closed_ = true;
    }
    auto at = in_.find(until, from_);
    if (at != std::string::npos) from_ = at + until.size();
    return in_;
  }
  bool closed() const { return closed_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
  bool closed_ = false;
  std::string in_;
  std::size_t from_ = 0;
};

std::string https_get(std::uint16_t port, const std::string& trust, const std::string& target,
                      std::string* cn = nullptr) {
  TlsClient c(port, trust);
  if (!c.ok()) return "handshake failed";
  if (cn) *cn = c.peer_cn();
  c.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  return c.read("never", 3s);
}

}  // namespace

TEST(AuthTls, ServesHttpsAndReloadsOnSighupWithoutDroppingStreams) {
  TempDir d;
  make_cert(d, "first", "cert.pem", "key.pem");
  make_cert(d, "second", "cert2.pem", "key2.pem");
  GatewayProcess gw({"--tls-cert", d.path("cert.pem"), "--tls-key", d.path("key.pem")});

  std::string cn;
  auto health = https_get(gw.port(), d.path("cert.pem"), "/healthz", &cn);
  EXPECT_NE(health.find("HTTP/1.1 200"), std::string::npos) << health;
  EXPECT_EQ(cn, "first");
  // Plain HTTP on the TLS port gets no HTTP answer.
  auto plain = raw_exchange(gw.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3s);
  EXPECT_EQ(plain.find("HTTP/1.1"), std::string::npos) << plain;
  // A client that does not trust the certificate cannot connect.
  TlsClient untrusting(gw.port(), d.path("cert2.pem"));
  EXPECT_FALSE(untrusting.ok());

  // A stream over TLS.
  TlsClient stream(gw.port(), d.path("cert.pem"));
  ASSERT_TRUE(stream.ok());
  stream.send("GET /api/realtime?channel=tls HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  auto head = stream.read("\"connected\"");
  ASSERT_NE(head.find("text/event-stream"), std::string::npos) << head;
  TlsClient e1(gw.port(), d.path("cert.pem"));
  std::string body = R"({"channel":"tls","event":"t.before","data":1})";
  e1.send(
      "POST /api/emit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_NE(e1.read("never", 2s).find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(stream.read("t.before").find("t.before"), std::string::npos);

  // Reload to the second certificate: new connections get it, the open stream goes on.
  std::filesystem::copy_file(d.path("cert2.pem"), d.path("cert.pem"),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(d.path("key2.pem"), d.path("key.pem"),
                             std::filesystem::copy_options::overwrite_existing);
  ::kill(gw.pid(), SIGHUP);
  std::string after;
  for (int i = 0; i < 50 && after != "second"; ++i) {
    std::this_thread::sleep_for(100ms);
    https_get(gw.port(), d.path("cert2.pem"), "/healthz", &after);
  }
  EXPECT_EQ(after, "second");
  TlsClient e2(gw.port(), d.path("cert2.pem"));
  ASSERT_TRUE(e2.ok());
  body = R"({"channel":"tls","event":"t.after","data":2})";
  e2.send(
      "POST /api/emit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_NE(e2.read("never", 2s).find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(stream.read("t.after").find("t.after"), std::string::npos);
  EXPECT_FALSE(stream.closed());

  // A reload that fails keeps the certificate in use.
  std::ofstream(d.path("key.pem")) << "not a key\n";
  ::kill(gw.pid(), SIGHUP);
  std::this_thread::sleep_for(500ms);
  https_get(gw.port(), d.path("cert2.pem"), "/healthz", &after);
  EXPECT_EQ(after, "second");
  EXPECT_NE(gw.log().find("TLS reload failed"), std::string::npos) << gw.log();
  EXPECT_NE(gw.log().find("listening on https://"), std::string::npos);
  EXPECT_FALSE(stream.closed());
}

TEST(AuthTls, PlainHttpStaysTheDefaultAndHalfAConfigIsRefused) {
  GatewayProcess gw;
  EXPECT_EQ(http(gw.port(), "GET", "/healthz").status, 200);
  TempDir d;
  make_cert(d, "only", "cert.pem", "key.pem");
  auto r = run_program({"serve", "--port", "0", "--tls-cert", d.path("cert.pem")}, 10s);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("tls_cert and tls_key go together"), std::string::npos) << r.err;
}
