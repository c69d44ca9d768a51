// rediss-cluster:// against a real TLS-only Redis Cluster: 3 masters + 3 replicas started by the
// test (`--port 0 --tls-port P --tls-cluster yes --tls-replication yes`: clients, the cluster bus
// and replication all over TLS), with the test's own CA and server certificate for `localhost`
// (made by openssl in a temporary directory; the nodes present the client certificate on the
// cluster bus, which always asks for one, and clients need none). The nodes announce `localhost`
// (`cluster-announce-hostname`, `cluster-preferred-endpoint-type hostname`), so CLUSTER SLOTS
// names them by the name their certificate carries, as managed clusters do. Through the program:
// emits to channels whose keys are on every master reach one subscription across slots, once
// each and in order, history reads them back, and redis-cli over TLS finds them on the masters;
// a gateway given another CA is not ready and says why.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "integration/redis/redis_server.hpp"
#include "integration/redis_tls_support.hpp"
#include "support/net.hpp"

namespace forrealtime {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::shell;
using testing::TempDir;
using testing::TestPki;

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

class TlsCluster {
 public:
  TlsCluster() : pki_(dir_) {
    for (int i = 0; i < 6; ++i) {
      auto port = testing::RedisServer::free_port();
      auto bus = testing::RedisServer::free_port();
      auto d = dir_ / std::to_string(port);
      std::filesystem::create_directory(d);
      nodes_.push_back(port);
      procs_.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{"redis-server",
                                   "--port",
                                   "0",
                                   "--tls-port",
                                   std::to_string(port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   d,
                                   "--save",
                                   "",
                                   "--logfile",
                                   d + "/redis.log",
                                   "--tls-cert-file",
                                   pki_.server_cert,
                                   "--tls-key-file",
                                   pki_.server_key,
                                   "--tls-ca-cert-file",
                                   pki_.ca,
                                   "--tls-client-cert-file",
                                   pki_.client_cert,
                                   "--tls-client-key-file",
                                   pki_.client_key,
                                   "--tls-auth-clients",
                                   "no",
                                   "--tls-cluster",
                                   "yes",
                                   "--tls-replication",
                                   "yes",
                                   "--cluster-enabled",
                                   "yes",
                                   "--cluster-config-file",
                                   "nodes.conf",
                                   "--cluster-node-timeout",
                                   "1000",
                                   "--cluster-port",
                                   std::to_string(bus),
                                   "--cluster-announce-hostname",
                                   "localhost",
                                   "--cluster-preferred-endpoint-type",
                                   "hostname"}));
    }
    for (auto port : nodes_)
      if (!eventually([&] { return cli(port, "PING") == "PONG\n"; }, 10s))
        throw std::runtime_error("a TLS cluster node did not start: " +
                                 shell("cat " + dir_ / std::to_string(port) + "/redis.log"));
    std::string create = tls_cli() + " --cluster create";
    for (auto port : nodes_) create += " 127.0.0.1:" + std::to_string(port);
    int status = 0;
    auto out = shell(create + " --cluster-replicas 1 --cluster-yes", &status);
    if (status != 0) throw std::runtime_error("redis-cli --cluster create over TLS: " + out);
    bool ok = eventually([&] {
      for (auto port : nodes_)
        if (cli(port, "CLUSTER INFO").find("cluster_state:ok") == std::string::npos) return false;
      return true;
    });
    if (!ok) throw std::runtime_error("the TLS cluster did not reach cluster_state:ok");
  }

  std::string tls_cli() const { return "redis-cli --tls --cacert " + pki_.ca + " -h localhost"; }
  std::string cli(std::uint16_t port, const std::string& args) const {
    return shell(tls_cli() + " -p " + std::to_string(port) + " " + args);
  }
  std::string url() const {
    return "rediss-cluster://localhost:" + std::to_string(nodes_[0]) +
           ",localhost:" + std::to_string(nodes_[1]);
  }
  std::vector<std::uint16_t> masters() const {
    std::vector<std::uint16_t> out;
    for (auto port : nodes_)
      if (cli(port, "ROLE").starts_with("master")) out.push_back(port);
    return out;
  }
  const TestPki& pki() const { return pki_; }

 private:
  TempDir dir_{"forrealtime-tls-cluster"};
  TestPki pki_;
  std::vector<std::uint16_t> nodes_;
  std::vector<std::unique_ptr<ChildProcess>> procs_;  // killed by their destructors
};

TlsCluster& cluster() {
  static TlsCluster c;
  return c;
}

TEST(RedisTlsCluster, EmitsAndOneSubscriptionAcrossSlotsOverTls) {
  auto& c = cluster();
  fr_test::GatewayProcess gw(
      {"--redis", c.url(), "--redis-tls-ca", c.pki().ca, "--key-prefix", "tc:", "--threads", "2"});
  ASSERT_TRUE(eventually([&] { return fr_test::http(gw.port(), "GET", "/healthz").status == 200; }))
      << gw.log();

  std::vector<std::string> channels;
  for (int i = 0; i < 24; ++i) channels.push_back("room" + std::to_string(i));
  std::string target = "/api/realtime?";
  for (auto& ch : channels) target += "channel=" + ch + "&";
  fr_test::SseClient sse(gw.port(), target);
  ASSERT_EQ(sse.status(), 200);
  std::this_thread::sleep_for(300ms);  // every channel armed

  std::map<std::string, std::vector<std::string>> sent;
  for (int round = 0; round < 3; ++round)
    for (auto& ch : channels)
      sent[ch].push_back(fr_test::emit(gw.port(), ch, "t.n", std::to_string(round)));

  std::map<std::string, std::vector<std::string>> got;
  for (std::size_t i = 0; i < channels.size() * 3; ++i) {
    auto ev = sse.next_user();
    ASSERT_TRUE(ev) << "live event " << i << " of " << channels.size() * 3 << "\n" << gw.log();
    got[std::string(ev->at("channel").as_string())].push_back(
        std::string(ev->at("id").as_string()));
  }
  EXPECT_FALSE(sse.next_user(300ms)) << "an event came twice";
  EXPECT_EQ(got, sent) << "every event once, in order per channel";

  auto history = fr_test::http(gw.port(), "GET", "/api/history?channel=room5&last=10");
  ASSERT_EQ(history.status, 200);
  ASSERT_EQ(history.json().as_array().size(), 3u);
  EXPECT_EQ(std::string(history.json().as_array()[2].at("id").as_string()), sent["room5"][2]);

  // Independently, over TLS: the streams are on every master, 72 entries in all.
  auto masters = c.masters();
  ASSERT_EQ(masters.size(), 3u);
  long total = 0;
  for (auto port : masters) {
    long keys = std::stol(c.cli(port, "DBSIZE"));
    EXPECT_GT(keys, 0) << "no channel on the master at " << port;
    std::istringstream names(c.cli(port, "--scan --pattern 'tc:*'"));
    std::string key;
    while (names >> key) total += std::stol(c.cli(port, "XLEN " + key));
  }
  EXPECT_EQ(total, 72);
}

TEST(RedisTlsCluster, AnotherCaIsNotReadyAndSaysWhy) {
  auto& c = cluster();
  fr_test::GatewayProcess gw({"--redis", c.url(), "--redis-tls-ca", c.pki().other_ca});
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(fr_test::http(gw.port(), "GET", "/healthz").status, 503);
  EXPECT_NE(gw.log().find("certificate verify failed"), std::string::npos) << gw.log();
}

}  // namespace
}  // namespace forrealtime
