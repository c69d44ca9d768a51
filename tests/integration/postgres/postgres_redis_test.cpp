// postgresSync (durable mode) in front of a real redis-server that dies: rows committed while
// the store is down stay in the outbox and every one of them reaches the store, once, after it
// returns (issue 10, defect 1: a store failure used to count as a refusal and delete the row).
// Real PostgreSQL (pg_server.hpp) and real Redis (../redis/redis_server.hpp).
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "forrealtime/postgres_sync.hpp"
#include "forrealtime/realtime.hpp"
#include "forrealtime/redis_store.hpp"
#include "pg_server.hpp"
#include "redis_server.hpp"

using namespace forrealtime;
using namespace std::chrono_literals;
using forrealtime::testing::RedisServer;
using fr_pg_test::Db;
using fr_pg_test::PgServer;

namespace {

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// How many times each row id reached the channel's history (empty while Redis is down).
std::map<std::int64_t, int> arrivals(Realtime& rt, const std::string& channel) {
  std::map<std::int64_t, int> seen;
  HistoryQuery q;
  q.limit = 1000;
  auto h = rt.channel(channel).history(q);
  if (!h) return seen;
  for (auto& e : *h) ++seen[e.data.as_object().at("id").as_int64()];
  return seen;
}

}  // namespace

TEST(PostgresSyncOnRedis, RowsCommittedWhileRedisIsDownArriveOnceAfterItReturns) {
  PgServer pg_server;
  RedisServer::Options redis_options;
  redis_options.appendonly = true;  // what Redis acknowledged survives the kill
  RedisServer redis(redis_options);
  Db db(pg_server.url());
  db.exec("CREATE TABLE t (id int PRIMARY KEY)");

  RedisOptions ro;
  ro.url = redis.url();
  ro.connect_timeout = 500ms;
  ro.command_timeout = 500ms;
  ro.reconnect_min = 50ms;
  ro.reconnect_max = 200ms;
  Options options;
  options.store = make_redis_store(ro);
  Realtime rt(std::move(options));
  PostgresSyncOptions o;
  o.connection = pg_server.url();
  o.tables = {"t"};
  o.poll_interval = 200ms;
  auto& pg = rt.use<PostgresSync>(o);
  pg.start();
  ASSERT_TRUE(eventually([&] { return pg.stats().installed; }));

  for (int i = 1; i <= 20; ++i) db.exec("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  ASSERT_TRUE(eventually([&] { return arrivals(rt, "t").size() == 20; }));

  redis.kill();
  // Rows commit while the store is down; the plugin tries them on every wake-up and poll.
  for (int i = 21; i <= 50; ++i) {
    db.exec("INSERT INTO t VALUES (" + std::to_string(i) + ")");
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(1500ms);  // several failed rounds
  EXPECT_EQ(db.exec("SELECT count(*) FROM forrealtime_outbox"), "30")
      << "rows left the outbox while the store was down";
  EXPECT_EQ(pg.stats().emitted, 20u);

  redis.start();
  ASSERT_TRUE(eventually([&] { return arrivals(rt, "t").size() == 50; }, 30s))
      << arrivals(rt, "t").size() << " of 50 rows arrived";
  std::this_thread::sleep_for(1s);  // a duplicate would show up by now
  auto seen = arrivals(rt, "t");
  ASSERT_EQ(seen.size(), 50u);
  for (auto& [id, n] : seen) EXPECT_EQ(n, 1) << "row " << id;
  EXPECT_EQ(seen.begin()->first, 1);
  EXPECT_EQ(seen.rbegin()->first, 50);
  EXPECT_TRUE(
      eventually([&] { return db.exec("SELECT count(*) FROM forrealtime_outbox") == "0"; }));
  EXPECT_EQ(pg.stats().emitted, 50u);
  EXPECT_EQ(pg.stats().failed, 0u);
  pg.stop();
}
