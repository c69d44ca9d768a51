// postgresSync in the real `forrealtime` program, configured by its config file: changes of two
// tables reach SSE subscribers on the right channels with the config file's filter applied,
// and 1,000 rows inserted while the gateway is down all arrive, once, after it comes back.
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "pg_server.hpp"
#include "support/net.hpp"

using namespace std::chrono_literals;
using fr_pg_test::Db;
using fr_pg_test::PgServer;
using fr_test::GatewayProcess;
using fr_test::SseClient;

namespace {

PgServer& server() {
  static PgServer s;
  return s;
}

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

// A config file removed at the end of the test, whatever its outcome.
struct ConfigFile {
  std::string path;
  ~ConfigFile() { ::unlink(path.c_str()); }
  operator const std::string&() const { return path; }  // NOLINT
};

ConfigFile write_config(const std::string& name, const boost::json::value& v) {
  std::string path = "/tmp/forrealtime-pg-" + std::to_string(::getpid()) + "-" + name + ".json";
  std::ofstream(path) << boost::json::serialize(v);
  return {path};
}

bool wait_for_log(GatewayProcess& gw, const std::string& text, std::chrono::seconds timeout = 15s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (gw.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

TEST(PostgresGateway, ConfigFileTablesReachSubscribersFiltered) {
  Db db(server().url());
  db.exec(
      "CREATE SCHEMA g1;"
      "CREATE TABLE g1.posts (id serial PRIMARY KEY, title text);"
      "CREATE TABLE g1.comments (id serial PRIMARY KEY, body text, status text)");
  auto cfg = write_config("g1", boost::json::parse(R"({"postgres": {
      "url": ")" + server().url() + R"(", "schema": "g1",
      "tables": ["posts", {"name": "comments", "channel": "c",
                           "filter": {"ops": ["INSERT", "UPDATE"],
                                      "where": {"status": "published"}}}]}})"));
  GatewayProcess gw({"--config", cfg.path});
  ASSERT_TRUE(wait_for_log(gw, "triggers installed")) << gw.log();
  SseClient sse(gw.port(), "/api/realtime?channel=posts&channel=c");
  ASSERT_EQ(sse.status(), 200);
  // The head comes before the channels are watched; a change stored before a channel's
  // `connected` would be history to this subscription (no last_ack), so wait for both.
  for (int k = 0; k < 2; ++k) {
    auto c = sse.next();
    ASSERT_TRUE(c) << gw.log();
    ASSERT_EQ(str(*c, "type"), "connected") << boost::json::serialize(*c);
  }

  db.exec("INSERT INTO g1.comments (body, status) VALUES ('draft one', 'draft')");
  db.exec("INSERT INTO g1.posts (title) VALUES ('p1')");
  db.exec("INSERT INTO g1.comments (body, status) VALUES ('pub', 'published')");
  db.exec("UPDATE g1.posts SET title = 'p1b'");
  db.exec("DELETE FROM g1.comments WHERE body = 'pub'");  // DELETE is not in ops
  db.exec("DELETE FROM g1.posts");

  std::vector<std::pair<std::string, std::string>> got;  // channel, event
  while (auto e = sse.next_user(5s)) {
    got.emplace_back(str(*e, "channel"), str(*e, "event"));
    if (got.size() == 4) break;
  }
  std::vector<std::pair<std::string, std::string>> want{{"posts", "posts.insert"},
                                                        {"c", "comments.insert"},
                                                        {"posts", "posts.update"},
                                                        {"posts", "posts.delete"}};
  EXPECT_EQ(got, want);
  EXPECT_FALSE(sse.next_user(700ms)) << "filtered changes must not arrive";
}

TEST(PostgresGateway, RowsWrittenWhileTheGatewayIsDownArriveOnceAfterRestart) {
  Db db(server().url());
  db.exec("CREATE SCHEMA g2; CREATE TABLE g2.posts (id int PRIMARY KEY, body text)");
  // No url in the file: FORREALTIME_DATABASE_URL gives it. The memory store keeps 1,000 events per
  // channel by default; this test counts all 1,001 in the history.
  auto cfg = write_config("g2", boost::json::parse(R"({"postgres": {"schema": "g2",
      "tables": ["posts"], "mode": "durable"}, "memory": {"max_length": 2000}})"));
  ::setenv("FORREALTIME_DATABASE_URL", server().url().c_str(), 1);
  {
    GatewayProcess gw({"--config", cfg.path});
    ASSERT_TRUE(wait_for_log(gw, "triggers installed")) << gw.log();
    EXPECT_EQ(gw.stop(), 0);
  }
  // 1,000 changes in 10 transactions while nobody listens, one of them with a 20 KB row.
  for (int t = 0; t < 10; ++t)
    db.exec("INSERT INTO g2.posts SELECT g, 'row ' || g FROM generate_series(" +
            std::to_string(t * 100 + 1) + ", " + std::to_string(t * 100 + 100) + ") g");
  EXPECT_EQ(db.try_exec("UPDATE g2.posts SET body = repeat('z', 20000) WHERE id = 1000"), "");
  EXPECT_EQ(db.exec("SELECT count(*) FROM g2.forrealtime_outbox"), "1001");

  GatewayProcess gw({"--config", cfg.path});
  SseClient sse(gw.port(), "/api/realtime?channel=posts&last_ack_posts=0-0");
  ASSERT_EQ(sse.status(), 200);
  std::set<std::int64_t> inserted;
  int inserts = 0, updates = 0;
  std::size_t big = 0;
  while (inserts + updates < 1001) {
    auto e = sse.next_user(15s);
    ASSERT_TRUE(e) << "after " << inserts << " inserts\n" << gw.log();
    auto& data = e->as_object().at("data").as_object();
    if (str(*e, "event") == "posts.insert") {
      ++inserts;
      inserted.insert(data.at("id").as_int64());
    } else {
      ASSERT_EQ(str(*e, "event"), "posts.update");
      ++updates;
      big = data.at("body").as_string().size();
    }
  }
  EXPECT_EQ(inserts, 1000);
  EXPECT_EQ(inserted.size(), 1000u);
  EXPECT_EQ(*inserted.begin(), 1);
  EXPECT_EQ(*inserted.rbegin(), 1000);
  EXPECT_EQ(updates, 1);
  EXPECT_EQ(big, 20000u);
  EXPECT_FALSE(sse.next_user(700ms)) << "no duplicate";
  // The history endpoint agrees: 1,001 stored events, no more.
  std::size_t stored = 0;
  std::string after;
  for (;;) {
    auto r = fr_test::http(
        gw.port(), "GET",
        "/api/history?channel=posts&limit=1000" + (after.empty() ? "" : "&after=" + after));
    ASSERT_EQ(r.status, 200);
    auto arr = r.json().as_array();
    stored += arr.size();
    if (arr.size() < 1000) break;
    after = str(arr.back(), "id");
  }
  EXPECT_EQ(stored, 1001u);
  EXPECT_EQ(db.exec("SELECT count(*) FROM g2.forrealtime_outbox"), "0");
  ::unsetenv("FORREALTIME_DATABASE_URL");
}

TEST(PostgresGateway, BadTableNameStopsTheProgramAtStart) {
  auto cfg = write_config("g3", boost::json::parse(R"({"postgres": {
      "url": "postgresql://127.0.0.1:1/none", "tables": ["posts;drop table x"]}})"));
  EXPECT_THROW(GatewayProcess({"--config", cfg.path}), std::runtime_error);
}

namespace {
double metric(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}
}  // namespace

// The outbox lag (the console's chart, forrealtime_postgres_sync_outbox_lag_seconds): rows that
// waited a second while the gateway was down show as a lag of a second or more when it reads
// them; a row read at its NOTIFY shows as almost none.
TEST(PostgresGateway, OutboxLagIsTheAgeOfTheOldestWaitingChange) {
  Db db(server().url());
  db.exec("CREATE SCHEMA g3; CREATE TABLE g3.posts (id int PRIMARY KEY)");
  // No safety-net poll during the test: only the start and the NOTIFYs read the outbox.
  auto cfg = write_config("g3", boost::json::parse(R"({"postgres": {"url": ")" + server().url() +
                                                   R"(", "schema": "g3", "tables": ["posts"],
      "poll_interval_ms": 600000}})"));
  {
    GatewayProcess gw({"--config", cfg.path});
    ASSERT_TRUE(wait_for_log(gw, "triggers installed")) << gw.log();
    EXPECT_EQ(gw.stop(), 0);
  }
  db.exec("INSERT INTO g3.posts SELECT g FROM generate_series(1, 3) g");
  std::this_thread::sleep_for(1200ms);

  GatewayProcess gw({"--config", cfg.path});
  SseClient sse(gw.port(), "/api/realtime?channel=posts&last_ack_posts=0-0");
  ASSERT_EQ(sse.status(), 200);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sse.next_user(15s)) << gw.log();
  auto m = fr_test::http(gw.port(), "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  double lag = metric(m.body, "forrealtime_postgres_sync_outbox_lag_seconds");
  EXPECT_GE(lag, 1.0) << m.body;
  EXPECT_LT(lag, 60.0);
  auto stats = fr_test::http(gw.port(), "GET", "/api/admin/stats");
  ASSERT_EQ(stats.status, 200);
  auto sj = stats.json();
  auto& pg = sj.as_object().at("postgres_sync").as_object();
  EXPECT_GE(pg.at("outbox_lag_seconds").to_number<double>(), 1.0) << stats.body;
  EXPECT_TRUE(pg.at("connected").as_bool());
  EXPECT_EQ(pg.at("events_total").to_number<std::int64_t>(), 3);

  db.exec("INSERT INTO g3.posts VALUES (4)");
  ASSERT_TRUE(sse.next_user(15s)) << gw.log();
  m = fr_test::http(gw.port(), "GET", "/metrics");
  EXPECT_LT(metric(m.body, "forrealtime_postgres_sync_outbox_lag_seconds"), 0.5) << m.body;
}
