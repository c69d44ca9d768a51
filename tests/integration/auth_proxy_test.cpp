// The client's address behind reverse proxies (--trusted-proxies), against the real program over
// real sockets, as an attacker and as a proxy would send: connections come from chosen loopback
// source addresses (127.0.0.1 is a client, 127.0.0.2 the trusted proxy). A spoofed header from a
// client changes nothing; a trusted proxy's clients each get their own per-address budgets
// (connections and the emit rate), reached per client; garbage, oversized and many-valued
// headers get a precise answer or are ignored; log lines, metrics and forward auth's
// X-Forwarded-For show the forwarded address.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "support/net.hpp"

using namespace fr_test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kClient = "127.0.0.1";
constexpr const char* kProxy = "127.0.0.2";

// Opens a stream on `c` with `headers`; true once `connected` arrived.
bool open_stream(RawConn& c, const std::string& headers, std::string* got = nullptr) {
  c.send("GET /api/realtime?channel=c HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n");
  // A refusal is a complete JSON answer: stop at its '}' rather than wait for `connected`.
  auto r = c.read("}");
  if (r.find("HTTP/1.1 200") != std::string::npos) r = c.read("\"connected\"");
  if (got) *got = r;
  return r.find("\"connected\"") != std::string::npos;
}

// One complete answer (with a Content-Length body) on a keep-alive connection.
std::string roundtrip(RawConn& c, const std::string& request) {
  c.send(request);
  auto r = c.read("\r\n\r\n");
  auto head_end = r.find("\r\n\r\n");
  if (head_end == std::string::npos) return c.take();
  auto cl = r.find("Content-Length: ");
  std::size_t n = cl == std::string::npos || cl > head_end ? 0 : std::stoul(r.substr(cl + 16));
  while (r.size() < head_end + 4 + n && !c.closed()) r = c.read(std::string(1, '\0'), 200ms);
  return c.take();
}

std::string xff(const std::string& chain) {
  return "X-Forwarded-For: " + chain + "\r\n";
}

std::string emit_request(const std::string& headers) {
  std::string body = R"({"channel":"rate","event":"t.e","data":{"n":1}})";
  return "POST /api/emit HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

// A forward-auth service that allows everything and keeps every request it got.
class RecordingAuth {
 public:
  RecordingAuth() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos ||
               req.find('}', req.find("\r\n\r\n")) == std::string::npos) {
          pollfd p{c, POLLIN, 0};
          if (::poll(&p, 1, 3000) <= 0) break;
          auto n = ::read(c, buf, sizeof buf);
          if (n <= 0) break;
          req.append(buf, static_cast<std::size_t>(n));
        }
        {
          std::lock_guard lock(mu_);
          requests_.push_back(req);
        }
        std::string res = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        ::send(c, res.data(), res.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~RecordingAuth() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/check"; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

// The X-Forwarded-For line of a recorded request, or "" when it has none.
std::string xff_of(const std::string& request) {
  auto at = request.find("X-Forwarded-For: ");
  if (at == std::string::npos) return "";
  return request.substr(at + 17, request.find("\r\n", at) - at - 17);
}

}  // namespace

TEST(AuthProxy, ASpoofedHeaderFromAnUntrustedPeerIsIgnored) {
  GatewayProcess gw({"--max-connections-per-ip", "2", "--trusted-proxies", "127.0.0.2",
                     "--emit-rate", "1", "--emit-burst", "1"});
  // Each stream claims another client; the cap still counts the real peer.
  RawConn a(gw.port(), kClient), b(gw.port(), kClient);
  ASSERT_TRUE(open_stream(a, xff("203.0.113.1")));
  ASSERT_TRUE(open_stream(b, xff("203.0.113.2") + "Forwarded: for=203.0.113.2\r\n"));
  RawConn c(gw.port(), kClient);
  c.send("GET /api/realtime?channel=c HTTP/1.1\r\nHost: t\r\n" + xff("203.0.113.3") + "\r\n");
  auto refused = c.read("}");
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("max_connections_per_ip"), std::string::npos) << refused;
  // The emit rate too: a new made-up client per emit still spends the peer's budget.
  RawConn e(gw.port(), "127.0.0.3");
  EXPECT_EQ(status_of(roundtrip(e, emit_request(xff("198.51.100.1")))), 200);
  auto second = roundtrip(e, emit_request(xff("198.51.100.2")));
  EXPECT_EQ(status_of(second), 429) << second;
  std::this_thread::sleep_for(200ms);
  auto log = gw.log();
  EXPECT_NE(log.find("connection from 127.0.0.1 refused"), std::string::npos) << log;
  EXPECT_NE(log.find("emit from 127.0.0.3 refused"), std::string::npos) << log;
  EXPECT_EQ(log.find("203.0.113."), std::string::npos) << log;
  EXPECT_EQ(log.find("198.51.100."), std::string::npos) << log;
}

TEST(AuthProxy, EachClientOfATrustedProxyHasItsOwnConnectionBudget) {
  GatewayProcess gw({"--max-connections-per-ip", "2", "--max-connections", "20",
                     "--trusted-proxies", "10.0.0.0/8,127.0.0.2/32"});
  // Five connections from the proxy (its own address is not capped at 2): two streams for each
  // of two clients, and a third for the first, refused, on a connection that stays usable.
  RawConn a1(gw.port(), kProxy), a2(gw.port(), kProxy), b1(gw.port(), kProxy),
      b2(gw.port(), kProxy), a3(gw.port(), kProxy);
  // A client's own header, then the proxies' hops: the right-most untrusted one is the client.
  ASSERT_TRUE(open_stream(a1, xff("203.0.113.5")));
  ASSERT_TRUE(open_stream(a2, xff("1.2.3.4, 203.0.113.5, 10.1.1.1")));
  ASSERT_TRUE(open_stream(b1, xff("203.0.113.6")));
  ASSERT_TRUE(open_stream(b2, "X-Forwarded-For: 9.9.9.9\r\nX-Forwarded-For: 203.0.113.6:5555\r\n"));
  std::string got;
  EXPECT_FALSE(open_stream(a3, xff("203.0.113.5"), &got));
  EXPECT_NE(got.find("HTTP/1.1 503"), std::string::npos) << got;
  EXPECT_NE(got.find("Retry-After: 1"), std::string::npos) << got;
  EXPECT_NE(got.find("too many connections: this address has 2 connections open "
                     "(max_connections_per_ip)"),
            std::string::npos)
      << got;
  a3.take();
  // The proxy's connection is still good: a request for a third client goes through on it.
  std::string third;
  EXPECT_TRUE(open_stream(a3, xff("203.0.113.7"), &third)) << third;
  // The second client is at its cap too.
  RawConn b3(gw.port(), kProxy);
  EXPECT_FALSE(open_stream(b3, xff("203.0.113.6"), &got));
  EXPECT_NE(got.find("HTTP/1.1 503"), std::string::npos) << got;
  // A stream that ends gives its client's slot back.
  a1.close();
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    RawConn again(gw.port(), kProxy);
    reopened = open_stream(again, xff("203.0.113.5"));
    if (!reopened) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reopened);
  EXPECT_GE(limit_hits(gw.port(), "connections_per_ip"), 2u);
  std::this_thread::sleep_for(200ms);
  auto log = gw.log();
  EXPECT_NE(log.find("request from 203.0.113.5 (via 127.0.0.2) refused: this address has 2 "
                     "connections open (max_connections_per_ip)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("request from 203.0.113.6 (via 127.0.0.2) refused"), std::string::npos) << log;
}

TEST(AuthProxy, EachClientOfATrustedProxyHasItsOwnEmitRate) {
  GatewayProcess gw({"--emit-rate", "0.2", "--emit-burst", "1", "--trusted-proxies", "loopback"});
  RawConn p(gw.port(), kProxy);
  EXPECT_EQ(status_of(roundtrip(p, emit_request(xff("203.0.113.8")))), 200);
  auto again = roundtrip(p, emit_request(xff("203.0.113.8")));
  EXPECT_EQ(status_of(again), 429) << again;
  EXPECT_NE(again.find("Retry-After: "), std::string::npos) << again;
  // Another client of the same proxy, and an IPv6 one: their own budgets.
  EXPECT_EQ(status_of(roundtrip(p, emit_request(xff("203.0.113.9")))), 200);
  EXPECT_EQ(status_of(roundtrip(p, emit_request(xff("[2001:db8::1]:443")))), 200);
  // The same IPv6 client spelled otherwise is the same client.
  EXPECT_EQ(status_of(roundtrip(p, emit_request(xff("2001:DB8:0::1")))), 429);
  EXPECT_GE(limit_hits(gw.port(), "emit_rate"), 2u);
  std::this_thread::sleep_for(200ms);
  auto log = gw.log();
  EXPECT_NE(log.find("emit from 203.0.113.8 (via 127.0.0.2) refused"), std::string::npos) << log;
}

TEST(AuthProxy, TheForwardedHeaderOfRfc7239WhenConfigured) {
  GatewayProcess gw({"--emit-rate", "0.2", "--emit-burst", "1", "--trusted-proxies", kProxy,
                     "--client-address-header", "forwarded"});
  RawConn p(gw.port(), kProxy);
  auto fwd = [](const std::string& v) { return "Forwarded: " + v + "\r\n"; };
  EXPECT_EQ(status_of(roundtrip(p, emit_request(fwd("for=203.0.113.20;proto=https")))), 200);
  EXPECT_EQ(status_of(roundtrip(p, emit_request(fwd(R"(for="[2001:db8::20]:80")")))), 200);
  EXPECT_EQ(status_of(roundtrip(p, emit_request(fwd("for=203.0.113.20")))), 429);
  // X-Forwarded-For is not read in this mode: a client behind the proxy could have written it.
  EXPECT_EQ(status_of(roundtrip(p, emit_request(fwd("for=203.0.113.21") + xff("203.0.113.20")))),
            200);
  // A broken Forwarded header is ignored whole: the proxy itself is the client (its budget).
  EXPECT_EQ(status_of(roundtrip(p, emit_request(fwd(R"(for="203.0.113.22)")))), 200);
  EXPECT_EQ(status_of(roundtrip(p, emit_request(fwd("for")))), 429);
  std::this_thread::sleep_for(200ms);
  auto log = gw.log();
  EXPECT_NE(log.find("emit from 203.0.113.20 (via 127.0.0.2) refused"), std::string::npos) << log;
  EXPECT_NE(log.find("emit from 127.0.0.2 refused"), std::string::npos) << log;
}

TEST(AuthProxy, GarbageOversizedAndManyValuedHeadersAreAnsweredOrIgnored) {
  GatewayProcess gw({"--trusted-proxies", "loopback", "--emit-rate", "100"});
  std::string many;
  for (int i = 0; i < 200; ++i) many += xff("10.0.0." + std::to_string(i % 250));
  std::string long_chain = "203.0.113.1";
  for (int i = 0; i < 400; ++i) long_chain += ", 127.0.0." + std::to_string(i % 250);
  // Ignored: the client is the nearest hop that is an address (here the proxy itself).
  RawConn p(gw.port(), kProxy);
  for (const std::string& h :
       {xff(""), xff(",,, ,"), xff("unknown"), xff("_hidden, 203.0.113.1"), many, xff(long_chain),
        xff(std::string(3000, '[')), xff("\x80\xff garbage, [::1, 1.2.3.4:99999, ]:80"),
        std::string("Forwarded: for=\"\\\r\n"), xff("fe80::1%25eth0"), xff("::ffff:203.0.113.1")}) {
    auto r = roundtrip(p, emit_request(h));
    EXPECT_EQ(status_of(r), 200) << h.substr(0, 200) << "\n" << r;
  }
  // Control characters are not a header value at all: 400 from the HTTP parser.
  RawConn ctl(gw.port(), kProxy);
  auto bad = roundtrip(ctl, emit_request(xff("1.2.3.4\x01")));
  EXPECT_EQ(status_of(bad), 400) << bad;
  EXPECT_NE(bad.find("malformed HTTP request"), std::string::npos) << bad;
  // Past the header size limit: a precise 431, and the connection closes.
  RawConn big(gw.port(), kProxy);
  auto r = roundtrip(big, emit_request(xff(std::string(70000, '1'))));
  EXPECT_EQ(status_of(r), 431) << r.substr(0, 300);
  // The gateway is fine.
  EXPECT_EQ(http(gw.port(), "GET", "/healthz").status, 200);
}

TEST(AuthProxy, ForwardAuthGetsTheChainWithThePeerAppended) {
  RecordingAuth svc;
  GatewayProcess gw({"--auth-url", svc.url(), "--trusted-proxies", "127.0.0.2"});
  {
    RawConn p(gw.port(), kProxy);
    ASSERT_TRUE(open_stream(p, xff("1.1.1.1, 203.0.113.30") + "Cookie: s=1\r\n"));
  }
  {
    // From a client that is not a trusted proxy, its header is replaced by its address.
    RawConn c(gw.port(), kClient);
    ASSERT_TRUE(open_stream(c, xff("203.0.113.31") + "Cookie: s=2\r\n"));
  }
  {
    RawConn c(gw.port(), kClient);
    ASSERT_TRUE(open_stream(c, "Cookie: s=3\r\n"));
  }
  auto reqs = svc.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(xff_of(reqs[0]), "1.1.1.1, 203.0.113.30, 127.0.0.2") << reqs[0];
  EXPECT_EQ(xff_of(reqs[1]), "127.0.0.1") << reqs[1];
  EXPECT_EQ(xff_of(reqs[2]), "127.0.0.1") << reqs[2];
}

TEST(AuthProxy, ABadNetworkStopsTheProgramAtStart) {
  for (auto bad : {"10.0.0.1/8", "example.com", "10.0.0.0/40"}) {
    auto r = run_program({"check-config", "--trusted-proxies", bad});
    EXPECT_EQ(r.status, 2) << bad << r.err;
    EXPECT_NE(r.err.find(std::string("trusted_proxies: '") + bad + "'"), std::string::npos)
        << r.err;
  }
  auto r = run_program({"check-config", "--client-address-header", "x-real-ip"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("client_address_header"), std::string::npos) << r.err;
  r = run_program({"check-config", "--trusted-proxies", "loopback,private,2001:db8::/32"});
  EXPECT_EQ(r.status, 0) << r.err;
}
