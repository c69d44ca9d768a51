// A throwaway PostgreSQL 15 for tests: initdb in a temporary directory, postgres on a free
// loopback port (unix socket in the same directory), stopped and removed at the end. As root
// the server runs as the `postgres` user (postgres refuses to run as root).
#pragma once

#include <string>

#include <libpq-fe.h>

namespace fr_pg_test {

class PgServer {
 public:
  PgServer();
  ~PgServer();
  PgServer(const PgServer&) = delete;

  int port() const { return port_; }
  /** postgresql://postgres@127.0.0.1:PORT/postgres */
  std::string url() const;
  /** pg_ctl restart -m fast (clients are disconnected). */
  void restart();
  void stop();
  void start();

 private:
  std::string run_as_db_user(const std::string& cmd) const;
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

/** A blocking libpq connection for test setup and writes. */
class Db {
 public:
  explicit Db(const std::string& url);
  ~Db();
  Db(const Db&) = delete;
  /** Runs SQL; fails the test (throws) on error. Returns the first value of the first row. */
  std::string exec(const std::string& sql);
  /** Runs SQL, returns the error message ("" on success). */
  std::string try_exec(const std::string& sql);
  PGconn* raw() { return conn_; }

 private:
  PGconn* conn_ = nullptr;
};

}  // namespace fr_pg_test
