// rediss:// against a real redis-server that speaks TLS only (`--port 0 --tls-port P`), with its
// own CA and certificates made by openssl in a temporary directory, client certificates
// required (`tls-auth-clients yes`) and an ACL user (the default user off): emit, history and a
// live subscription through the library and through the gateway (`serve` with the
// --redis-tls-* flags, its per-worker command links, both tail modes); a wrong CA, a host name
// the certificate does not name, a missing client certificate and a wrong password are refused
// with a clear log line and an unhealthy store; skipping verification works only when asked
// for, and then says so loudly.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "forrealtime/redis_store.hpp"
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
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

/** Captures what the library logs through spdlog's default logger while it lives. */
class LogCapture {
 public:
  LogCapture() : old_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(old_); }
  std::string text() {
    spdlog::default_logger()->flush();
    std::lock_guard lock(mu_);
    return out_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> old_;
  std::mutex mu_;
  std::ostringstream out_;
};

/** One TLS-only redis-server with client certificates required and one ACL user, for the whole
 *  suite (certificates take a moment to make). */
class TlsRedis {
 public:
  TlsRedis() : pki_(dir_) {
    port_ = testing::RedisServer::free_port();
    server_ = std::make_unique<ChildProcess>(std::vector<std::string>{"redis-server",
                                                                      "--port",
                                                                      "0",
                                                                      "--tls-port",
                                                                      std::to_string(port_),
                                                                      "--bind",
                                                                      "127.0.0.1",
                                                                      "--dir",
                                                                      dir_.path(),
                                                                      "--save",
                                                                      "",
                                                                      "--logfile",
                                                                      dir_ / "redis.log",
                                                                      "--tls-cert-file",
                                                                      pki_.server_cert,
                                                                      "--tls-key-file",
                                                                      pki_.server_key,
                                                                      "--tls-ca-cert-file",
                                                                      pki_.ca,
                                                                      "--tls-auth-clients",
                                                                      "yes",
                                                                      "--user",
                                                                      "default",
                                                                      "off",
                                                                      "--user",
                                                                      "app",
                                                                      "on",
                                                                      ">s3cret",
                                                                      "~*",
                                                                      "&*",
                                                                      "+@all"});
    bool up = eventually([&] { return cli("PING") == "PONG\n" || !server_->running(); });
    if (!up || !server_->running())
      throw std::runtime_error("the TLS redis-server did not start: " +
                               shell("cat " + dir_ / "redis.log"));
  }
  /** redis-cli over TLS as the ACL user: the independent view of what is stored. */
  std::string cli(const std::string& args) const {
    return shell("redis-cli --tls --cacert " + pki_.ca + " --cert " + pki_.client_cert + " --key " +
                 pki_.client_key + " -h localhost -p " + std::to_string(port_) +
                 " --user app --pass s3cret --no-auth-warning " + args);
  }
  std::uint16_t port() const { return port_; }
  const TestPki& pki() const { return pki_; }
  std::string url(const std::string& userinfo = "app:s3cret", const std::string& host = "localhost",
                  const std::string& scheme = "rediss") const {
    return scheme + "://" + userinfo + "@" + host + ":" + std::to_string(port_);
  }
  RedisOptions options() const {
    RedisOptions o;
    o.url = url();
    o.tls.ca_file = pki_.ca;
    o.tls.cert_file = pki_.client_cert;
    o.tls.key_file = pki_.client_key;
    o.connect_timeout = 2s;
    o.reconnect_max = 500ms;
    return o;
  }

 private:
  TempDir dir_;
  TestPki pki_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

TlsRedis& server() {
  static TlsRedis s;
  return s;
}

template <class T>
T wait_for(std::shared_ptr<std::promise<T>> p) {
  auto f = p->get_future();
  if (f.wait_for(10s) != std::future_status::ready) throw std::runtime_error("no answer");
  return f.get();
}

class Sink : public TailSink {
 public:
  void on_entries(std::string_view channel, std::span<const StoredEntry> entries) override {
    std::lock_guard lock(mu_);
    for (auto& e : entries) got_.emplace_back(std::string(channel), e.message);
  }
  void on_tail_error(boost::system::error_code) override {}
  void on_tail_resumed() override {}
  std::size_t count() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  std::vector<std::pair<std::string, std::string>> got() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> got_;
};

std::string message(int n) {
  return R"({"channel":"tls","event":"t.n","data":)" + std::to_string(n) + "}";
}

void emit_history_live(RedisOptions o) {
  auto store = make_redis_store(o);
  ASSERT_TRUE(eventually([&] { return store->healthy(); })) << "never healthy over TLS";
  Sink sink;
  store->start_tail(sink);
  std::string channel = "tls-" + std::to_string(static_cast<int>(o.tail_wakeup));
  auto armed = std::make_shared<std::promise<boost::system::error_code>>();
  store->watch(channel, [armed](auto ec) { armed->set_value(ec); });
  ASSERT_FALSE(wait_for(armed)) << "watch over TLS";
  for (int i = 0; i < 20; ++i) {
    auto p = std::make_shared<std::promise<Store::Result<StreamId>>>();
    store->async_append(channel, message(i), {}, [p](auto r) { p->set_value(std::move(r)); });
    ASSERT_TRUE(wait_for(p)) << "append " << i;
  }
  auto p = std::make_shared<std::promise<Store::Result<std::vector<StoredEntry>>>>();
  store->async_range(channel, {}, [p](auto r) { p->set_value(std::move(r)); });
  auto entries = wait_for(p);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 20u);
  EXPECT_EQ((*entries)[7].message, message(7));
  ASSERT_TRUE(eventually([&] { return sink.count() >= 20; })) << sink.count();
  auto got = sink.got();
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i].second, message(i));
  // Independently: the entries are in Redis, written by the ACL user.
  EXPECT_EQ(server().cli("XLEN " + channel), "20\n");
  store->stop();
}

TEST(RedisTls, EmitHistoryAndLiveWithNotifications) {
  auto o = server().options();
  o.tail_wakeup = RedisOptions::TailWakeup::notifications;
  emit_history_live(o);
}

TEST(RedisTls, EmitHistoryAndLiveWithBlockingBatches) {
  auto o = server().options();
  o.tail_wakeup = RedisOptions::TailWakeup::blocking;
  emit_history_live(o);
}

// Connections over TLS are the only ones the server accepts: the same URL as redis:// fails.
TEST(RedisTls, PlainRedisUrlToTheTlsPortIsNotHealthy) {
  auto o = server().options();
  o.url = server().url("app:s3cret", "localhost", "redis");
  auto store = make_redis_store(o);
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(store->healthy());
}

void expect_refused(RedisOptions o, const std::string& log_must_say) {
  LogCapture log;
  auto store = make_redis_store(o);
  EXPECT_TRUE(eventually([&] { return log.text().find(log_must_say) != std::string::npos; }))
      << "the log does not say '" << log_must_say << "':\n"
      << log.text();
  EXPECT_FALSE(store->healthy());
  auto p = std::make_shared<std::promise<Store::Result<StreamId>>>();
  store->async_append("refused", message(0), {}, [p](auto r) { p->set_value(std::move(r)); });
  auto r = wait_for(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), boost::system::error_code(store_errc::unavailable));
  store->stop();
}

TEST(RedisTls, WrongCaIsRefusedWithAClearError) {
  auto o = server().options();
  o.tls.ca_file = server().pki().other_ca;
  expect_refused(o, "TLS handshake failed: certificate verify failed");
}

TEST(RedisTls, SystemCasDoNotTrustATestCa) {
  auto o = server().options();
  o.tls.ca_file.clear();
  expect_refused(o, "certificate verify failed");
}

TEST(RedisTls, HostNameTheCertificateDoesNotNameIsRefused) {
  auto o = server().options();
  o.url = server().url("app:s3cret", "127.0.0.1");  // the certificate names localhost only
  expect_refused(o,
                 "TLS handshake failed: certificate verify failed (SSL routines): IP address "
                 "mismatch");
}

TEST(RedisTls, WrongPasswordIsUnhealthyAndSaysWhy) {
  auto o = server().options();
  o.url = server().url("app:wrong");
  expect_refused(o, "WRONGPASS");
}

TEST(RedisTls, MissingClientCertificateIsRefused) {
  auto o = server().options();
  o.tls.cert_file.clear();
  o.tls.key_file.clear();
  LogCapture log;
  auto store = make_redis_store(o);
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(store->healthy()) << log.text();
}

TEST(RedisTls, MissingCaFileFailsAtStart) {
  auto o = server().options();
  o.tls.ca_file = "/nonexistent/ca.pem";
  try {
    make_redis_store(o);
    FAIL() << "a missing CA file was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
  }
}

// Skipping verification is possible only when asked for, and then logged as an error.
TEST(RedisTls, InsecureSkipVerifyConnectsOnlyWhenAskedAndSaysSo) {
  auto o = server().options();
  o.tls.ca_file = server().pki().other_ca;
  o.tls.insecure_skip_verify = true;
  LogCapture log;
  auto store = make_redis_store(o);
  EXPECT_TRUE(eventually([&] { return store->healthy(); }));
  EXPECT_NE(log.text().find("TLS certificate verification is OFF"), std::string::npos)
      << log.text();
  store->stop();
}

// The program: --redis rediss://... with the --redis-tls-* flags; emits go through the
// workers' command links, history and a live stream through the tail, all over TLS.
TEST(RedisTls, GatewayEmitHistoryAndLiveStream) {
  fr_test::GatewayProcess gw({"--redis", server().url(), "--redis-tls-ca", server().pki().ca,
                              "--redis-tls-cert", server().pki().client_cert, "--redis-tls-key",
                              server().pki().client_key, "--key-prefix", "gw:", "--threads", "2"});
  ASSERT_TRUE(eventually([&] { return fr_test::http(gw.port(), "GET", "/healthz").status == 200; }))
      << gw.log();
  fr_test::SseClient sse(gw.port(), "/api/realtime?channel=room");
  ASSERT_EQ(sse.status(), 200);
  std::this_thread::sleep_for(200ms);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(fr_test::emit(gw.port(), "room", "t.n", std::to_string(i)));
  for (int i = 0; i < 10; ++i) {
    auto ev = sse.next_user();
    ASSERT_TRUE(ev) << "live event " << i << "\n" << gw.log();
    EXPECT_EQ(ev->at("data").as_int64(), i);
  }
  auto history = fr_test::http(gw.port(), "GET", "/api/history?channel=room&last=20");
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.json().as_array().size(), 10u);
  EXPECT_EQ(server().cli("XLEN gw:room"), "10\n");
}

TEST(RedisTls, GatewayWithAWrongCaIsNotReadyAndLogsWhy) {
  fr_test::GatewayProcess gw({"--redis", server().url(), "--redis-tls-ca", server().pki().other_ca,
                              "--redis-tls-cert", server().pki().client_cert, "--redis-tls-key",
                              server().pki().client_key});
  EXPECT_EQ(fr_test::http(gw.port(), "GET", "/healthz").status, 503);
  auto r =
      fr_test::http(gw.port(), "POST", "/api/emit", R"({"channel":"room","event":"t.n","data":1})",
                    "Content-Type: application/json\r\n");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(gw.log().find("certificate verify failed"), std::string::npos) << gw.log();
}

}  // namespace
}  // namespace forrealtime
