// postgresSync in-process (the library, the memory store) against a real PostgreSQL: the events
// of two tables, filters, a row over pg_notify's 8000-byte limit, start/stop, a server restart
// in the middle of a stream, and names refused before any SQL runs.
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "forrealtime/postgres_sync.hpp"
#include "forrealtime/realtime.hpp"
#include "pg_server.hpp"

using namespace forrealtime;
using namespace std::chrono_literals;
using fr_pg_test::Db;
using fr_pg_test::PgServer;

namespace {

PgServer& server() {
  static PgServer s;
  return s;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 15s) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

std::vector<Event> history(Realtime& rt, const std::string& channel) {
  auto h = rt.channel(channel).history({.limit = 1000});
  return h ? *h : std::vector<Event>{};
}

PostgresSyncOptions base_options(const std::string& schema) {
  PostgresSyncOptions o;
  o.connection = server().url();
  o.pg_schema = schema;
  o.poll_interval = 500ms;
  o.reconnect_min = 100ms;
  o.reconnect_max = 1s;
  return o;
}

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

}  // namespace

TEST(PostgresSync, RefusesBadNamesBeforeAnySql) {
  Db db(server().url());
  db.exec("CREATE SCHEMA bad1");
  auto o = base_options("bad1");
  o.tables = {"posts; DROP TABLE x"};
  Realtime rt;
  EXPECT_THROW(rt.use<PostgresSync>(o), std::invalid_argument);
  o.tables = {"1posts"};
  EXPECT_THROW(PostgresSync{o}, std::invalid_argument);
  o.tables = {std::string(44, 'a')};  // the trigger's name would not fit in 63 bytes
  EXPECT_THROW(PostgresSync{o}, std::invalid_argument);
  o.tables = {"posts"};
  o.pg_schema = "public\"; DROP SCHEMA bad1; --";
  EXPECT_THROW(PostgresSync{o}, std::invalid_argument);
  auto v = validate(o);
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("pg_schema"), std::string::npos) << *v;
  // Nothing reached the database.
  EXPECT_EQ(db.exec("SELECT count(*) FROM pg_proc WHERE proname LIKE 'forrealtime%'"), "0");
  EXPECT_EQ(db.exec("SELECT count(*) FROM pg_namespace WHERE nspname = 'bad1'"), "1");
}

TEST(PostgresSync, TwoTablesBecomeEventsOnTheirChannelsAndFiltersDrop) {
  Db db(server().url());
  db.exec(
      "CREATE SCHEMA s2;"
      "CREATE TABLE s2.posts (id serial PRIMARY KEY, title text);"
      "CREATE TABLE s2.comments (id serial PRIMARY KEY, body text, status text)");
  auto o = base_options("s2");
  o.tables = {"posts", PgTable("comments", "c", [](const boost::json::object& row, PgOp op) {
                return op != PgOp::del && row.at("status") == "published";
              })};
  Realtime rt;
  auto& pg = rt.use<PostgresSync>(o);
  pg.start();
  ASSERT_TRUE(eventually([&] { return pg.stats().installed; })) << "triggers not installed";

  db.exec("INSERT INTO s2.posts (title) VALUES ('hello')");
  db.exec("UPDATE s2.posts SET title = 'hello again' WHERE id = 1");
  db.exec("DELETE FROM s2.posts WHERE id = 1");
  db.exec("INSERT INTO s2.comments (body, status) VALUES ('a', 'published')");
  db.exec("INSERT INTO s2.comments (body, status) VALUES ('b', 'draft')");
  db.exec("UPDATE s2.comments SET status = 'published' WHERE body = 'b'");
  db.exec("DELETE FROM s2.comments WHERE body = 'a'");

  ASSERT_TRUE(eventually([&] {
    return history(rt, "posts").size() == 3 && history(rt, "c").size() == 2;
  })) << history(rt, "posts").size()
      << " " << history(rt, "c").size();
  auto posts = history(rt, "posts");
  EXPECT_EQ(posts[0].event, "posts.insert");
  EXPECT_EQ(str(posts[0].data, "title"), "hello");
  EXPECT_EQ(posts[1].event, "posts.update");
  EXPECT_EQ(str(posts[1].data, "title"), "hello again");
  EXPECT_EQ(posts[2].event, "posts.delete");
  EXPECT_EQ(str(posts[2].data, "title"), "hello again");  // the old row
  EXPECT_EQ(posts[2].data.as_object().at("id").as_int64(), 1);
  auto c = history(rt, "c");
  EXPECT_EQ(c[0].event, "comments.insert");
  EXPECT_EQ(str(c[0].data, "body"), "a");
  EXPECT_EQ(c[1].event, "comments.update");
  EXPECT_EQ(str(c[1].data, "body"), "b");
  EXPECT_TRUE(history(rt, "comments").empty());
  EXPECT_TRUE(eventually([&] { return pg.stats().filtered == 2; })) << pg.stats().filtered;
  // Every processed change left the outbox.
  EXPECT_TRUE(
      eventually([&] { return db.exec("SELECT count(*) FROM s2.forrealtime_outbox") == "0"; }));
  // The contract's names.
  EXPECT_EQ(db.exec("SELECT count(*) FROM pg_trigger WHERE tgname IN "
                    "('forrealtime_posts_trigger', 'forrealtime_comments_trigger')"),
            "2");
  rt.plugin<PostgresSync>().stop();
}

TEST(PostgresSync, PluginChannelAndBigRowDurable) {
  Db db(server().url());
  db.exec("CREATE SCHEMA s3; CREATE TABLE s3.docs (id int PRIMARY KEY, body text)");
  auto o = base_options("s3");
  o.tables = {"docs"};
  o.realtime_channel = "db";
  Realtime rt;
  auto& pg = rt.use<PostgresSync>(o);
  pg.start();
  ASSERT_TRUE(eventually([&] { return pg.stats().installed; }));
  std::string big(20000, 'x');
  EXPECT_EQ(db.try_exec("INSERT INTO s3.docs VALUES (1, '" + big + "')"), "");
  ASSERT_TRUE(eventually([&] { return history(rt, "db").size() == 1; }));
  auto e = history(rt, "db")[0];
  EXPECT_EQ(e.event, "docs.insert");
  EXPECT_EQ(str(e.data, "body").size(), 20000u);
}

TEST(PostgresSync, NotifyModeBigRowSendsTheKeyAndNeverFails) {
  Db db(server().url());
  db.exec("CREATE SCHEMA s4; CREATE TABLE s4.docs (id int PRIMARY KEY, body text)");
  auto o = base_options("s4");
  o.tables = {"docs"};
  o.mode = PgSyncMode::notify;
  Realtime rt;
  auto& pg = rt.use<PostgresSync>(o);
  pg.start();
  ASSERT_TRUE(eventually([&] { return pg.stats().installed && pg.stats().connected; }));
  std::this_thread::sleep_for(200ms);  // LISTEN follows the install
  EXPECT_EQ(db.try_exec("INSERT INTO s4.docs VALUES (1, 'small')"), "");
  EXPECT_EQ(db.try_exec("INSERT INTO s4.docs VALUES (2, '" + std::string(20000, 'y') + "')"), "");
  ASSERT_TRUE(eventually([&] { return history(rt, "docs").size() == 2; }));
  auto h = history(rt, "docs");
  EXPECT_EQ(str(h[0].data, "body"), "small");
  EXPECT_EQ(h[1].data.as_object().at("id").as_int64(), 2);
  EXPECT_EQ(h[1].data.as_object().at("_truncated"), true);
  EXPECT_FALSE(h[1].data.as_object().contains("body"));
  // The notify contract: no outbox in this mode.
  EXPECT_EQ(db.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 's4' AND "
                    "tablename = 'forrealtime_outbox'"),
            "0");
}

TEST(PostgresSync, StartTwiceIsIgnoredStopStopsAndDurableCatchesUp) {
  Db db(server().url());
  db.exec("CREATE SCHEMA s5; CREATE TABLE s5.t (id int PRIMARY KEY)");
  auto o = base_options("s5");
  o.tables = {"t"};
  Realtime rt;
  auto& pg = rt.use<PostgresSync>(o);
  pg.start();
  pg.start();  // warns, does nothing
  ASSERT_TRUE(eventually([&] { return pg.stats().installed; }));
  db.exec("INSERT INTO s5.t VALUES (1)");
  ASSERT_TRUE(eventually([&] { return history(rt, "t").size() == 1; }));
  rt.plugin<PostgresSync>().stop();
  db.exec("INSERT INTO s5.t VALUES (2)");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(history(rt, "t").size(), 1u);
  EXPECT_EQ(db.exec("SELECT count(*) FROM s5.forrealtime_outbox"), "1");
  pg.start();
  ASSERT_TRUE(eventually([&] { return history(rt, "t").size() == 2; }));
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(history(rt, "t").size(), 2u);
}

TEST(PostgresSync, PostgresRestartMidStreamLosesNothing) {
  Db db(server().url());
  db.exec("CREATE SCHEMA s6; CREATE TABLE s6.t (id int PRIMARY KEY)");
  auto o = base_options("s6");
  o.tables = {"t"};
  Realtime rt;
  auto& pg = rt.use<PostgresSync>(o);
  pg.start();
  ASSERT_TRUE(eventually([&] { return pg.stats().installed; }));
  for (int i = 1; i <= 50; ++i) db.exec("INSERT INTO s6.t VALUES (" + std::to_string(i) + ")");
  server().restart();
  Db db2(server().url());
  for (int i = 51; i <= 100; ++i) db2.exec("INSERT INTO s6.t VALUES (" + std::to_string(i) + ")");
  ASSERT_TRUE(eventually([&] { return history(rt, "t").size() >= 100; }, 30s))
      << history(rt, "t").size();
  std::this_thread::sleep_for(700ms);
  auto h = history(rt, "t");
  ASSERT_EQ(h.size(), 100u);
  std::set<std::int64_t> ids;
  for (auto& e : h) ids.insert(e.data.as_object().at("id").as_int64());
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_GE(pg.stats().reconnects, 1u);
}

TEST(PostgresSync, ConfigSectionBuildsOptionsAndFilters) {
  auto v = boost::json::parse(R"({"url":"postgresql://x","schema":"app","channel":"db",
    "mode":"notify","tables":["posts",{"name":"comments","channel":"c",
    "filter":{"ops":["INSERT","UPDATE"],"where":{"status":"published"}}}]})");
  auto o = postgres_sync_options_from_json(v);
  EXPECT_EQ(o.connection, "postgresql://x");
  EXPECT_EQ(o.pg_schema, "app");
  EXPECT_EQ(o.realtime_channel, "db");
  EXPECT_EQ(o.mode, PgSyncMode::notify);
  ASSERT_EQ(o.tables.size(), 2u);
  EXPECT_EQ(o.tables[0].name, "posts");
  EXPECT_FALSE(o.tables[0].filter);
  EXPECT_EQ(o.tables[1].realtime_channel, "c");
  ASSERT_TRUE(o.tables[1].filter);
  auto& f = o.tables[1].filter;
  EXPECT_TRUE(f({{"status", "published"}}, PgOp::insert));
  EXPECT_FALSE(f({{"status", "draft"}}, PgOp::insert));
  EXPECT_FALSE(f({{"status", "published"}}, PgOp::del));
  EXPECT_FALSE(f({}, PgOp::update));
  EXPECT_THROW(postgres_sync_options_from_json(boost::json::parse(R"({"tables":[1]})")),
               std::invalid_argument);
  EXPECT_THROW(postgres_sync_options_from_json(boost::json::parse(R"({"mode":"fast"})")),
               std::invalid_argument);
  EXPECT_THROW(postgres_sync_options_from_json(boost::json::parse(R"({"tabels":[]})")),
               std::invalid_argument);
}

TEST(PostgresSync, TheReadmeExampleWorks) {
  Db db(server().url());
  db.exec(
      "CREATE TABLE posts (id serial PRIMARY KEY, title text);"
      "CREATE TABLE comments (id serial PRIMARY KEY, status text)");
  ::setenv("DATABASE_URL", server().url().c_str(), 1);
  Realtime rt;
  // As in README.md.
  auto& pg = rt.use<forrealtime::PostgresSync>(forrealtime::PostgresSyncOptions{
      .connection = std::getenv("DATABASE_URL"),
      .tables = {"posts",
                 {"comments", "c",
                  [](const boost::json::object& row, forrealtime::PgOp op) {
                    return op != forrealtime::PgOp::del && row.at("status") == "published";
                  }}},
      .realtime_channel = "db"});
  pg.start();
  ASSERT_TRUE(eventually([&] { return pg.stats().installed; }));
  db.exec(
      "INSERT INTO posts (title) VALUES ('t'); INSERT INTO comments (status) VALUES ('draft');"
      "INSERT INTO comments (status) VALUES ('published')");
  ASSERT_TRUE(
      eventually([&] { return history(rt, "db").size() == 1 && history(rt, "c").size() == 1; }));
  EXPECT_EQ(history(rt, "db")[0].event, "posts.insert");
  rt.plugin<forrealtime::PostgresSync>().stop();
  EXPECT_FALSE(pg.stats().connected);
  // A channel every emit would refuse is refused at construction, not at the first change.
  PostgresSyncOptions o = base_options("public");
  o.tables = {PgTable("posts", std::string(300, 'c'))};
  EXPECT_THROW(PostgresSync{o}, std::invalid_argument);
}

// Outbox ids are taken at INSERT time, not at commit: a transaction that took a smaller id but
// commits after a later one must still be emitted (a `WHERE id > last` cursor would skip it).
TEST(PostgresSync, ATransactionThatCommitsLateIsNotSkipped) {
  Db db(server().url());
  db.exec("CREATE SCHEMA s7; CREATE TABLE s7.t (id int PRIMARY KEY)");
  auto o = base_options("s7");
  o.tables = {"t"};
  Realtime rt;
  auto& pg = rt.use<PostgresSync>(o);
  pg.start();
  ASSERT_TRUE(eventually([&] { return pg.stats().installed; }));
  Db slow(server().url());
  slow.exec("BEGIN; INSERT INTO s7.t VALUES (1)");  // takes outbox id n, not committed
  db.exec("INSERT INTO s7.t VALUES (2)");           // takes n+1, committed first
  ASSERT_TRUE(eventually([&] { return history(rt, "t").size() == 1; }));
  slow.exec("COMMIT");
  ASSERT_TRUE(eventually([&] { return history(rt, "t").size() == 2; }));
  auto h = history(rt, "t");
  EXPECT_EQ(h[0].data.as_object().at("id").as_int64(), 2);  // commit order
  EXPECT_EQ(h[1].data.as_object().at("id").as_int64(), 1);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(history(rt, "t").size(), 2u);
}
