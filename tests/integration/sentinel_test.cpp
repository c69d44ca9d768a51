// Redis Sentinel: one master, one replica and three sentinels (redis-server --sentinel), all
// started by the test on free loopback ports in a temporary directory and killed at the end
// (also when the test fails or crashes: PR_SET_PDEATHSIG), with a low down-after-milliseconds.
//
// The gateway runs with `--redis redis+sentinel://.../mymaster --redis-wait-replicas 1`; an
// emitter posts events and a subscriber follows the channel, resuming with its last ack each
// time its stream ends. Midway the replica is promoted: by `SENTINEL failover mymaster`, or
// (sentinels with their own ACL user and password, `--redis-sentinel-user/-password`) by the
// sentinels themselves once the master was killed (SIGKILL) and they agreed it is down. Then:
//  - every emit was answered 200, 503 or 504 (never anything else: no silent loss);
//  - every emit answered 200 is in the new master's stream (WAIT: acknowledged means
//    replicated), and emits answered 200 after the switch show the gateway followed it;
//  - the subscriber got every event the new master kept, once each and in order; anything else
//    it got is an event whose emit was not answered 200 (written to the old master in the
//    failover window, then dropped by Redis when it rejoined as a replica).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration/redis/redis_server.hpp"
#include "integration/redis_tls_support.hpp"
#include "support/net.hpp"

namespace forrealtime {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::RedisClient;
using testing::RedisServer;
using testing::shell;
using testing::TempDir;

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (pred()) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

/** The sentinels' own ACL user (`user default off`: nothing without it). */
constexpr const char* sentinel_user = "gw-sentinel";
constexpr const char* sentinel_password = "s3ntinel-secret";

class SentinelSetup {
 public:
  /** `auth`: the sentinels accept only `sentinel_user` (and authenticate to each other so). */
  explicit SentinelSetup(bool auth = false) : auth_(auth) {
    master_ = RedisServer::free_port();
    replica_ = RedisServer::free_port();
    start_node(master_, {});
    start_node(replica_, {"--replicaof", "127.0.0.1", std::to_string(master_)});
    for (int i = 0; i < 3; ++i) {
      auto port = RedisServer::free_port();
      sentinels_.push_back(port);
      auto conf = dir_ / ("sentinel-" + std::to_string(port) + ".conf");
      std::ofstream(conf) << "port " << port << "\nbind 127.0.0.1\ndir " << dir_.path()
                          << "\nlogfile " << dir_ / ("sentinel-" + std::to_string(port) + ".log")
                          << "\nsentinel monitor mymaster 127.0.0.1 " << master_
                          << " 2\nsentinel down-after-milliseconds mymaster 1000"
                          << "\nsentinel failover-timeout mymaster 4000"
                          << "\nsentinel parallel-syncs mymaster 1\n";
      if (auth_)
        std::ofstream(conf, std::ios::app)
            << "user default off\nuser " << sentinel_user << " on >" << sentinel_password
            << " ~* &* +@all\nsentinel sentinel-user " << sentinel_user
            << "\nsentinel sentinel-pass " << sentinel_password << "\n";
      procs_.push_back(std::make_unique<ChildProcess>(
          std::vector<std::string>{"redis-server", conf, "--sentinel"}));
    }
    // Replication up, and every sentinel knows the replica and the two other sentinels.
    bool ready = eventually([&] {
      RedisClient replica(replica_);
      if (replica.str({"INFO", "replication"}).find("master_link_status:up") == std::string::npos)
        return false;
      for (auto s : sentinels_) {
        RedisClient c(s);
        login(c);
        if (c.cmd({"SENTINEL", "replicas", "mymaster"})->elements != 1) return false;
        if (c.cmd({"SENTINEL", "sentinels", "mymaster"})->elements != 2) return false;
      }
      return true;
    });
    if (!ready) throw std::runtime_error("the sentinels did not settle; logs in " + dir_.path());
  }

  std::string url() const {
    std::string u = "redis+sentinel://";
    for (std::size_t i = 0; i < sentinels_.size(); ++i)
      u += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(sentinels_[i]);
    return u + "/mymaster";
  }
  /** The port the first reachable sentinel names as the master's. */
  std::uint16_t master_now() const {
    for (auto s : sentinels_) {
      try {
        RedisClient c(s);
        login(c);
        auto r = c.cmd({"SENTINEL", "get-master-addr-by-name", "mymaster"});
        if (r->elements == 2) return static_cast<std::uint16_t>(std::stoi(r->element[1]->str));
      } catch (const std::exception&) {
      }
    }
    return 0;
  }
  std::uint16_t master() const { return master_; }
  std::uint16_t replica() const { return replica_; }
  std::uint16_t sentinel(std::size_t i) const { return sentinels_[i]; }
  /** The master's process dies (SIGKILL): the sentinels must notice and elect the replica. */
  void kill_master() { procs_.at(0)->stop(SIGKILL); }
  /** The killed master's node comes back, empty, on its port: the sentinels make it a replica
   *  of the new master (so that WAIT 1 can be satisfied again). */
  void restart_old_master() { start_node(master_, {}); }
  void login(RedisClient& c) const {
    if (auth_) c.cmd({"AUTH", sentinel_user, sentinel_password});
  }

 private:
  void start_node(std::uint16_t port, std::vector<std::string> extra) {
    auto d = dir_ / std::to_string(port);
    std::filesystem::create_directory(d);
    std::vector<std::string> args{
        "redis-server", "--port", std::to_string(port), "--bind",        "127.0.0.1", "--dir", d,
        "--save",       "",       "--logfile",          d + "/redis.log"};
    args.insert(args.end(), extra.begin(), extra.end());
    procs_.push_back(std::make_unique<ChildProcess>(args));
    if (!eventually([&] { return RedisClient(port).str({"PING"}) == "PONG"; }, 10s))
      throw std::runtime_error("redis-server on " + std::to_string(port) + " did not start");
  }

  bool auth_ = false;
  TempDir dir_{"forrealtime-sentinel"};
  std::uint16_t master_ = 0, replica_ = 0;
  std::vector<std::uint16_t> sentinels_;
  std::vector<std::unique_ptr<ChildProcess>> procs_;  // killed by their destructors
};

std::string type_of(const boost::json::value& v) {
  auto* t = v.as_object().if_contains("type");
  return t && t->is_string() ? std::string(t->as_string()) : std::string();
}

enum class Failover { manual, master_killed };

void failover_during_emits(SentinelSetup& setup, Failover how, std::vector<std::string> extra) {
  std::vector<std::string> args{"--redis",
                                setup.url(),
                                "--key-prefix",
                                "s:",
                                "--redis-wait-replicas",
                                "1",
                                "--redis-wait-timeout",
                                "500",
                                "--threads",
                                "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  fr_test::GatewayProcess gw(args);
  ASSERT_TRUE(eventually([&] { return fr_test::http(gw.port(), "GET", "/healthz").status == 200; }))
      << gw.log();

  std::atomic<bool> stop_emits{false}, stop_sub{false};
  std::mutex mu;
  std::vector<std::string> received;  // ids, in the order the subscriber got them
  int resumes = 0;
  std::thread subscriber([&] {
    std::string last = "0-0";  // the whole channel: nothing emitted before it is armed is missed
    while (!stop_sub) {
      fr_test::SseClient c(gw.port(), "/api/realtime?channel=ch&last_ack_ch=" + last);
      if (c.status() != 200) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
      while (!stop_sub) {
        auto v = c.next(200ms);
        if (!v) {
          if (c.closed()) break;
          continue;
        }
        if (!type_of(*v).empty()) continue;  // connected, reconnect, ...
        std::string id(v->at("id").as_string());
        std::lock_guard lock(mu);
        received.push_back(id);
        last = id;
      }
      std::lock_guard lock(mu);
      ++resumes;
    }
  });

  struct Emit {
    int status;
    std::string id;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<Emit> emits;
  std::atomic<int> acknowledged{0};
  std::thread emitter([&] {
    for (int i = 0; !stop_emits; ++i) {
      auto r = fr_test::http(gw.port(), "POST", "/api/emit",
                             R"({"channel":"ch","event":"t.n","data":)" + std::to_string(i) + "}");
      std::string id;
      if (r.status == 200) {
        id = std::string(r.json().at("id").as_string());
        ++acknowledged;
      }
      emits.push_back({r.status, id, std::chrono::steady_clock::now()});
      std::this_thread::sleep_for(10ms);
    }
  });

  std::this_thread::sleep_for(1500ms);
  auto switch_at = std::chrono::steady_clock::now();
  std::string answer = "OK";
  if (how == Failover::manual)
    answer =
        shell("redis-cli -p " + std::to_string(setup.sentinel(0)) + " SENTINEL failover mymaster");
  else
    setup.kill_master();
  bool switched = eventually([&] { return setup.master_now() == setup.replica(); }, 30s);
  int acknowledged_at_switch = acknowledged;
  if (how == Failover::master_killed && switched) setup.restart_old_master();
  // Run on after the switch until emits succeed again, then a little longer.
  eventually([&] { return acknowledged > acknowledged_at_switch + 3; }, 30s);
  std::this_thread::sleep_for(1500ms);
  stop_emits = true;
  emitter.join();

  // What the new master kept.
  std::vector<std::string> kept;
  std::map<std::string, int> status_of;
  int ok = 0, unavailable = 0, unknown = 0, other = 0, ok_after = 0;
  for (auto& e : emits) {
    if (e.status == 200) {
      ++ok;
      status_of[e.id] = 200;
      if (e.at > switch_at + 100ms) ++ok_after;
    } else if (e.status == 503) {
      ++unavailable;
    } else if (e.status == 504) {
      ++unknown;
    } else {
      ++other;
    }
  }
  {
    RedisClient c(setup.replica());
    auto r = c.cmd({"XRANGE", "s:ch", "-", "+"});
    for (std::size_t i = 0; i < r->elements; ++i) kept.emplace_back(r->element[i]->element[0]->str);
  }
  // The subscriber catches up with what was kept.
  eventually(
      [&] {
        std::lock_guard lock(mu);
        std::set<std::string> got(received.begin(), received.end());
        for (auto& id : kept)
          if (!got.count(id)) return false;
        return true;
      },
      10s);
  stop_sub = true;
  subscriber.join();

  std::cout << (how == Failover::manual ? "SENTINEL failover" : "master killed")
            << ": emits: " << emits.size() << " (200: " << ok << ", 503: " << unavailable
            << ", 504: " << unknown << ", other: " << other
            << "), 200 after the switch: " << ok_after << "; kept: " << kept.size()
            << "; received: " << received.size() << "; the subscriber's streams: " << resumes
            << "\n";

  ASSERT_NE(answer.find("OK"), std::string::npos) << answer;
  ASSERT_TRUE(switched) << "the sentinels did not promote the replica";
  EXPECT_EQ(other, 0) << "an emit was answered something else than 200, 503 or 504";
  EXPECT_GT(ok_after, 0) << "no emit succeeded after the switch: the gateway did not follow\n"
                         << gw.log();
  std::set<std::string> kept_set(kept.begin(), kept.end());
  for (auto& e : emits)
    if (e.status == 200)
      EXPECT_TRUE(kept_set.count(e.id)) << "acknowledged event " << e.id << " was lost";
  // Every kept event once, in order; the rest are events whose emit was not acknowledged.
  std::set<std::string> seen;
  std::vector<std::string> received_kept;
  for (auto& id : received) {
    EXPECT_TRUE(seen.insert(id).second) << "delivered twice: " << id;
    if (kept_set.count(id))
      received_kept.push_back(id);
    else
      EXPECT_FALSE(status_of.count(id)) << "delivered an acknowledged event Redis did not keep";
  }
  EXPECT_EQ(received_kept, kept) << "the subscriber did not get every kept event once, in order";
  if (how == Failover::master_killed)
    EXPECT_GT(unavailable, 0) << "no emit answered 503 while the master was gone";
}

TEST(Sentinel, FailoverDuringEmitsAndASubscriptionLosesNothingRedisKeptAndRepeatsNothing) {
  SentinelSetup setup;
  failover_during_emits(setup, Failover::manual, {});
}

// The sentinels have their own ACL user (`user default off`): without credentials, or with
// wrong ones, the gateway never learns the master; with --redis-sentinel-user/-password it does,
// and follows an automatic failover (the master killed, the sentinels elect the replica).
TEST(Sentinel, SentinelsWithTheirOwnCredentialsAndAnAutomaticFailover) {
  SentinelSetup setup(true);
  {
    fr_test::GatewayProcess wrong({"--redis", setup.url(), "--redis-sentinel-user", sentinel_user,
                                   "--redis-sentinel-password", "wrong"});
    std::this_thread::sleep_for(2s);
    EXPECT_NE(fr_test::http(wrong.port(), "GET", "/healthz").status, 200) << wrong.log();
    EXPECT_NE(wrong.log().find("WRONGPASS"), std::string::npos) << wrong.log();
  }
  failover_during_emits(
      setup, Failover::master_killed,
      {"--redis-sentinel-user", sentinel_user, "--redis-sentinel-password", sentinel_password});
}

}  // namespace
}  // namespace forrealtime
