// The Redis store on a real Redis Cluster (3 masters + 3 replicas, started per test, see
// redis_cluster.hpp): emits and subscriptions across slots, a slot migration while emitting
// (ASK, then MOVED), and master failovers while emitting. In each, a subscriber that resumes
// after its last id (as a client with its acks does) ends up with exactly the entries the
// cluster kept, each once.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "forrealtime/redis_store.hpp"
#include "redis_cluster.hpp"

namespace forrealtime {
namespace {

using namespace std::chrono_literals;
using testing::ClusterClient;
using testing::RedisClient;
using testing::RedisCluster;
using testing::reply_text;
using Clock = std::chrono::steady_clock;

template <class T>
T wait_result(std::shared_ptr<std::promise<T>> p, std::chrono::milliseconds limit = 15s) {
  auto f = p->get_future();
  if (f.wait_for(limit) != std::future_status::ready)
    throw std::runtime_error("a store call did not complete");
  return f.get();
}

Store::Result<StreamId> append(Store& s, std::string_view ch, std::string msg,
                               AppendOptions o = {}) {
  auto p = std::make_shared<std::promise<Store::Result<StreamId>>>();
  s.async_append(ch, std::move(msg), o, [p](auto r) { p->set_value(std::move(r)); });
  return wait_result(p);
}
Store::Result<std::vector<StoredEntry>> range(Store& s, std::string_view ch, RangeQuery q = {}) {
  auto p = std::make_shared<std::promise<Store::Result<std::vector<StoredEntry>>>>();
  s.async_range(ch, q, [p](auto r) { p->set_value(std::move(r)); });
  return wait_result(p);
}
boost::system::error_code watch(Store& s, std::string_view ch) {
  auto p = std::make_shared<std::promise<boost::system::error_code>>();
  s.watch(ch, [p](auto ec) { p->set_value(ec); });
  return wait_result(p);
}
std::string message(std::string_view channel, int n) {
  return R"({"channel":")" + std::string(channel) + R"(","event":"test.n","data":)" +
         std::to_string(n) + "}";
}

/** A subscriber of many channels: what the tail handed on, per channel, in order. */
class Subscriber : public TailSink {
 public:
  void on_entries(std::string_view channel, std::span<const StoredEntry> entries) override {
    std::lock_guard lock(mu_);
    auto& v = got_[std::string(channel)];
    for (const auto& e : entries) {
      if (!v.empty() && !(v.back() < e.id)) ++twice_or_disordered_;
      v.push_back(e.id);
    }
    cv_.notify_all();
  }
  void on_tail_error(boost::system::error_code) override {
    std::lock_guard lock(mu_);
    ++errors_;
  }
  void on_tail_resumed() override {
    std::lock_guard lock(mu_);
    ++resumed_;
  }
  std::vector<StreamId> ids(const std::string& ch) {
    std::lock_guard lock(mu_);
    return got_[ch];
  }
  /** What a client does after `reconnect`: reads what it missed after its last id. */
  void resume(Store& store, const std::string& ch) {
    auto have = ids(ch);
    RangeQuery q;
    if (!have.empty()) {
      q.start = have.back();
      q.start_exclusive = true;
    }
    auto r = range(store, ch, q);
    ASSERT_TRUE(r) << r.error().message();
    std::lock_guard lock(mu_);
    for (auto& e : *r) got_[ch].push_back(e.id);
  }
  int twice_or_disordered() {
    std::lock_guard lock(mu_);
    return twice_or_disordered_;
  }
  int errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<StreamId>> got_;
  int twice_or_disordered_ = 0;
  int errors_ = 0;
  int resumed_ = 0;
};

struct StopsFirst {
  Store& store;
  ~StopsFirst() { store.stop(); }
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

RedisOptions options_for(RedisCluster& cluster) {
  RedisOptions o;
  o.url = cluster.url();
  o.connect_timeout = 1000ms;
  o.command_timeout = 4000ms;
  o.reconnect_min = 50ms;
  o.reconnect_max = 400ms;
  o.tail_block = 1000ms;
  o.cluster_refresh = 1000ms;
  return o;
}

/** The ids the cluster holds for a channel. */
std::vector<StreamId> stored_ids(ClusterClient& c, const std::string& key) {
  auto r = c.cmd({"XRANGE", key, "-", "+"});
  std::vector<StreamId> out;
  for (std::size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i)
    out.push_back(*StreamId::parse(reply_text(r->element[i]->element[0])));
  return out;
}

/** Every channel: the subscriber (after resuming) has exactly what the cluster kept. */
/** `resume`: after a crash, where the tail may also have handed on entries that the dead master
 *  had not yet replicated (the cluster did not keep them): those are left out of the
 *  comparison and counted. */
void expect_exactly_once(Store& store, Subscriber& sub, ClusterClient& c,
                         const std::vector<std::string>& channels, bool resume) {
  std::size_t not_kept = 0;
  std::size_t total = 0;
  for (auto& ch : channels) {
    auto want = stored_ids(c, ch);
    total += want.size();
    if (resume) {
      sub.resume(store, ch);
    } else {
      EXPECT_TRUE(eventually([&] { return sub.ids(ch).size() >= want.size(); }))
          << ch << ": the tail delivered " << sub.ids(ch).size() << " of " << want.size();
    }
    auto got = sub.ids(ch);
    if (resume) {
      std::set<StreamId> kept(want.begin(), want.end());
      std::vector<StreamId> filtered;
      for (auto id : got) (kept.count(id) ? filtered.push_back(id) : void(++not_kept));
      got = std::move(filtered);
    }
    EXPECT_EQ(got, want) << ch;
  }
  if (not_kept) std::printf("%zu delivered entries were lost by the crashed master\n", not_kept);
  EXPECT_EQ(sub.twice_or_disordered(), 0);
  EXPECT_GT(total, 0u);
}

std::size_t tail_connections(std::uint16_t port) {
  RedisClient c(port);
  std::istringstream lines(reply_text(c.cmd({"CLIENT", "LIST"}).r));
  std::string line;
  std::size_t n = 0;
  while (std::getline(lines, line)) n += line.find("name=forrealtime-tail") != std::string::npos;
  return n;
}

/** Appends round-robin to `channels` from its own thread until stopped; counts outcomes. */
struct Emitter {
  Store& store;
  std::vector<std::string> channels;
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, ok_after_mark{0};
  std::atomic<bool> mark{false};
  std::thread thread;
  void start() {
    thread = std::thread([this] {
      int n = 0;
      while (!stop) {
        auto& ch = channels[static_cast<std::size_t>(n) % channels.size()];
        auto r = append(store, ch, message(ch, n++));
        if (r) {
          ++ok;
          if (mark) ++ok_after_mark;
        } else {
          ++failed;
          std::this_thread::sleep_for(5ms);
        }
      }
    });
  }
  void finish() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  ~Emitter() { finish(); }
};

TEST(ClusterStore, EmitsAndSubscriptionsAcrossSlots) {
  RedisCluster cluster;
  Subscriber sub;
  auto store = make_redis_store(options_for(cluster));
  StopsFirst stops{*store};
  store->start_tail(sub);
  ASSERT_TRUE(eventually([&] { return store->healthy(); })) << "never healthy";

  std::vector<std::string> channels;
  for (int i = 0; i < 300; ++i) channels.push_back("room:" + std::to_string(i));
  for (auto& ch : channels) ASSERT_FALSE(watch(*store, ch)) << ch;

  // Two connections of the tail per master, whatever the number of channels.
  for (auto port : cluster.masters()) EXPECT_LE(tail_connections(port), 2u) << port;

  // Appends from a worker's loop (its command links) and from this thread (the store's).
  boost::asio::io_context worker;
  auto guard = boost::asio::make_work_guard(worker);
  std::thread worker_thread([&] { worker.run(); });
  store->add_worker(worker);
  std::atomic<int> worker_ok{0}, worker_failed{0};
  std::promise<void> posted;
  boost::asio::post(worker, [&] {
    for (std::size_t i = 0; i < channels.size(); ++i)
      store->async_append(channels[i], message(channels[i], 1000), {},
                          [&](auto r) { (r ? worker_ok : worker_failed)++; });
    posted.set_value();
  });
  posted.get_future().wait();
  for (int round = 0; round < 2; ++round)
    for (auto& ch : channels) ASSERT_TRUE(append(*store, ch, message(ch, round))) << ch;
  ASSERT_TRUE(eventually([&] { return worker_ok + worker_failed == int(channels.size()); }));
  EXPECT_EQ(worker_failed, 0);

  // Another writer (what `redis-cli -c XADD` does) reaches the subscriber too.
  ClusterClient client(cluster.nodes()[0].port);
  for (int i = 0; i < 300; i += 7)
    client.cmd({"XADD", channels[static_cast<std::size_t>(i)], "*", "message",
                message(channels[static_cast<std::size_t>(i)], 9)});

  // Idempotency keys on a cluster: the record shares its stream's slot (else the script would
  // fail with CROSSSLOT), and a repeat stores nothing.
  AppendOptions o;
  o.idempotency_key = "order-1";
  auto first = append(*store, "room:5", message("room:5", 77), o);
  ASSERT_TRUE(first) << first.error().message();
  auto again = append(*store, "room:5", message("room:5", 78), o);
  ASSERT_TRUE(again);
  EXPECT_EQ(*first, *again);

  expect_exactly_once(*store, sub, client, channels, false);
  EXPECT_EQ(sub.errors(), 0);

  // wait_replicas on a cluster: WAIT on the master that took the append. With that master's
  // replica stopped (SIGSTOP), the event is on the master but not confirmed: `timeout`.
  {
    auto o = options_for(cluster);
    o.wait_replicas = 1;
    o.wait_timeout = 300ms;
    auto waiting = make_redis_store(o);
    StopsFirst stops_waiting{*waiting};
    ASSERT_TRUE(eventually([&] { return waiting->healthy(); }));
    auto confirmed = append(*waiting, "room:7", message("room:7", 500));
    ASSERT_TRUE(confirmed) << confirmed.error().message();
    auto slot = static_cast<std::uint16_t>(client.cmd({"CLUSTER", "KEYSLOT", "room:7"})->integer);
    auto& replica = cluster.replica_of(cluster.master_of(slot));
    ASSERT_EQ(::kill(replica.server->pid(), SIGSTOP), 0);
    auto unconfirmed = append(*waiting, "room:7", message("room:7", 501));
    ::kill(replica.server->pid(), SIGCONT);
    ASSERT_FALSE(unconfirmed) << "WAIT was not sent: acknowledged without the replica";
    EXPECT_EQ(unconfirmed.error(), make_error_code(store_errc::timeout))
        << unconfirmed.error().message();
  }

  store->remove_worker(worker);
  guard.reset();
  worker.stop();
  worker_thread.join();
}

TEST(ClusterStore, SlotMigrationWhileEmitting) {
  RedisCluster cluster;
  Subscriber sub;
  auto store = make_redis_store(options_for(cluster));
  StopsFirst stops{*store};
  store->start_tail(sub);
  ASSERT_TRUE(eventually([&] { return store->healthy(); })) << "never healthy";

  // Five channels in one slot (a hash tag), and others elsewhere.
  std::vector<std::string> moving = {"{mig}a", "{mig}b", "{mig}c", "{mig}d", "{mig}e"};
  std::vector<std::string> channels = moving;
  for (int i = 0; i < 20; ++i) channels.push_back("other:" + std::to_string(i));
  for (auto& ch : channels) ASSERT_FALSE(watch(*store, ch)) << ch;
  for (auto& ch : channels) ASSERT_TRUE(append(*store, ch, message(ch, -1)));

  ClusterClient client(cluster.nodes()[0].port);
  auto slot = static_cast<std::uint16_t>(client.cmd({"CLUSTER", "KEYSLOT", "{mig}a"})->integer);
  auto src = cluster.master_of(slot);
  std::uint16_t dst = 0;
  for (auto m : cluster.masters())
    if (m != src) dst = m;
  auto src_id = cluster.node_at(src).id, dst_id = cluster.node_at(dst).id;

  // An idempotency record in the moving slot, migrated with its stream below.
  AppendOptions idem;
  idem.idempotency_key = "mig-1";
  auto recorded = append(*store, "{mig}a", message("{mig}a", -2), idem);
  ASSERT_TRUE(recorded) << recorded.error().message();
  const std::string record_key = "forrealtime-idem:{mig}6:{mig}a:mig-1";  // slot.hpp
  ClusterClient check(cluster.nodes()[0].port);
  ASSERT_EQ(check.cmd({"EXISTS", record_key})->integer, 1);

  Emitter emitter{*store, channels};
  emitter.start();
  std::this_thread::sleep_for(300ms);

  RedisClient s(src), d(dst);
  auto s_slot = std::to_string(slot);
  ASSERT_EQ(reply_text(d.cmd({"CLUSTER", "SETSLOT", s_slot, "IMPORTING", src_id}).r), "OK");
  ASSERT_EQ(reply_text(s.cmd({"CLUSTER", "SETSLOT", s_slot, "MIGRATING", dst_id}).r), "OK");
  // One key first: appends to it now get ASK (the slot is still the source's), the others are
  // still served by the source.
  auto one = s.cmd(
      {"MIGRATE", "127.0.0.1", std::to_string(dst), "", "0", "5000", "KEYS", "{mig}a", record_key});
  ASSERT_EQ(reply_text(one.r), "OK");
  std::this_thread::sleep_for(200ms);

  // The commands that follow an ASK-redirected one on its own go after ASKING too: the EXPIRE
  // of an append with an expiry (the key had no TTL; without ASKING the importing node answers
  // MOVED and the TTL is never set), and the append script re-sent whole after NOSCRIPT (the
  // importing node's script cache flushed; without ASKING: MOVED, ASK, NOSCRIPT, ... until the
  // append gives up).
  auto ttl = [&] {  // asked of the importing node, which answers after ASKING only
    d.cmd({"ASKING"});
    auto r = d.cmd({"TTL", "{mig}a"});
    EXPECT_EQ(r->type, REDIS_REPLY_INTEGER) << reply_text(r.r);
    return r->integer;
  };
  EXPECT_EQ(ttl(), -1);
  AppendOptions expiring;
  expiring.expire_after_secs = 600;
  auto expired = append(*store, "{mig}a", message("{mig}a", -3), expiring);
  ASSERT_TRUE(expired) << expired.error().message();
  EXPECT_GT(ttl(), 500) << "the EXPIRE after an ASK-redirected XADD did not reach the key";
  ASSERT_EQ(reply_text(d.cmd({"SCRIPT", "FLUSH"}).r), "OK");
  auto repeated = append(*store, "{mig}a", message("{mig}a", -4), idem);
  ASSERT_TRUE(repeated) << repeated.error().message();
  EXPECT_EQ(*repeated, *recorded) << "the repeat stored a second event";
  std::this_thread::sleep_for(300ms);
  std::vector<std::string> rest = {"MIGRATE", "127.0.0.1", std::to_string(dst), "", "0",
                                   "5000",    "KEYS"};
  rest.insert(rest.end(), moving.begin() + 1, moving.end());
  auto r = s.cmd(rest);
  ASSERT_EQ(reply_text(r.r), "OK");
  // The slot is the destination's: appends that still go to the source get MOVED.
  for (auto m : cluster.masters()) {
    RedisClient c(m);
    c.cmd({"CLUSTER", "SETSLOT", s_slot, "NODE", dst_id});
  }
  std::this_thread::sleep_for(800ms);
  emitter.finish();

  EXPECT_EQ(emitter.failed, 0) << "appends failed during the migration";
  EXPECT_GT(emitter.ok, 50);
  EXPECT_EQ(cluster.master_of(slot), dst);
  expect_exactly_once(*store, sub, client, channels, false);
}

// A manual failover (CLUSTER FAILOVER on a replica), then the new master is killed (the old one
// takes over again after the node timeout), all while emitting. Emits may fail meanwhile (503,
// or 504 for an outcome unknown); the subscriber, resuming after its last ids, has exactly what
// the cluster kept.
TEST(ClusterStore, MasterFailoverWhileEmitting) {
  RedisCluster cluster;
  Subscriber sub;
  auto store = make_redis_store(options_for(cluster));
  StopsFirst stops{*store};
  store->start_tail(sub);
  ASSERT_TRUE(eventually([&] { return store->healthy(); })) << "never healthy";

  std::vector<std::string> channels;
  for (int i = 0; i < 60; ++i) channels.push_back("fo:" + std::to_string(i));
  for (auto& ch : channels) ASSERT_FALSE(watch(*store, ch)) << ch;

  ClusterClient client(cluster.nodes()[0].port);
  auto slot = static_cast<std::uint16_t>(client.cmd({"CLUSTER", "KEYSLOT", channels[0]})->integer);
  auto old_master = cluster.master_of(slot);
  auto& replica = cluster.replica_of(old_master);

  Emitter emitter{*store, channels};
  emitter.start();
  std::this_thread::sleep_for(300ms);

  // A manual failover gives up after 5 s when the master does not pause in time (a loaded
  // machine): ask again.
  bool promoted = false;
  for (int attempt = 0; attempt < 3 && !promoted; ++attempt) {
    RedisClient c(replica.port);
    ASSERT_EQ(reply_text(c.cmd({"CLUSTER", "FAILOVER"}).r), "OK");
    promoted = eventually([&] { return cluster.master_of(slot) == replica.port; }, 7s);
  }
  ASSERT_TRUE(promoted) << "CLUSTER FAILOVER did not promote the replica";
  cluster.wait_ok();
  emitter.mark = true;
  ASSERT_TRUE(eventually([&] { return emitter.ok_after_mark > 20; })) << "no emit after failover";
  std::this_thread::sleep_for(300ms);

  // Now a crash: the new master dies, the old one (its replica now) takes over.
  replica.server->kill();
  ASSERT_TRUE(eventually([&] { return cluster.master_of(slot) == old_master; }, 20s));
  cluster.wait_ok();
  emitter.ok_after_mark = 0;
  ASSERT_TRUE(eventually([&] { return emitter.ok_after_mark > 20; }, 15s))
      << "no emit after the crash";
  std::this_thread::sleep_for(300ms);
  emitter.finish();

  ClusterClient check(old_master);
  // Live delivery catches up once the tail follows the new master...
  EXPECT_TRUE(eventually([&] {
    auto want = stored_ids(check, channels[0]);
    return !want.empty() && sub.ids(channels[0]).size() >= want.size();
  })) << "the tail did not follow the failover";
  // ... and a resuming subscriber has everything the cluster kept, once.
  expect_exactly_once(*store, sub, check, channels, true);
}

}  // namespace
}  // namespace forrealtime
