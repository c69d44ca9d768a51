// PgServer and Db (see pg_server.hpp).
#include "pg_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace fr_pg_test {

namespace {

const char* kBin = "/usr/lib/postgresql/15/bin";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::array<char, 512> buf;
  while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error("`" + cmd + "` failed: " + out);
  return out;
}

}  // namespace

std::string PgServer::run_as_db_user(const std::string& cmd) const {
  if (::geteuid() == 0) return run("runuser -u postgres -- " + cmd);
  return run(cmd);
}

PgServer::PgServer() {
  char tmpl[] = "/tmp/forrealtime-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (::geteuid() == 0) run("chown postgres: " + dir_);
  run_as_db_user(std::string(kBin) + "/initdb -D " + dir_ + "/data -U postgres -A trust " +
                 "--no-sync -E UTF8 --locale=C");
  port_ = free_port();
  start();
}

void PgServer::start() {
  run_as_db_user(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                 "/log -w -t 30 -o \"-p " + std::to_string(port_) +
                 " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir_ +
                 " -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start");
  running_ = true;
}

void PgServer::stop() {
  if (!running_) return;
  run_as_db_user(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -w -t 30 -m fast stop");
  running_ = false;
}

void PgServer::restart() {
  run_as_db_user(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -w -t 30 -m fast -l " + dir_ +
                 "/log restart");
  running_ = true;
}

PgServer::~PgServer() {
  try {
    if (running_)
      run_as_db_user(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -w -t 30 -m immediate stop");
  } catch (...) {
  }
  if (!dir_.empty() && !std::getenv("FORREALTIME_KEEP_PG")) run("rm -rf " + dir_);
}

std::string PgServer::url() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

Db::Db(const std::string& url) {
  for (int i = 0; i < 50; ++i) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) == CONNECTION_OK) return;
    PQfinish(conn_);
    conn_ = nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("cannot connect to " + url);
}

Db::~Db() {
  if (conn_) PQfinish(conn_);
}

std::string Db::try_exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  auto st = PQresultStatus(r);
  std::string err;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
  PQclear(r);
  if (!err.empty() && PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
  return err;
}

std::string Db::exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    throw std::runtime_error("SQL failed: " + err + " in: " + sql.substr(0, 200));
  }
  std::string out;
  if (PQntuples(r) > 0 && PQnfields(r) > 0) out = PQgetvalue(r, 0, 0);
  PQclear(r);
  return out;
}

}  // namespace fr_pg_test
