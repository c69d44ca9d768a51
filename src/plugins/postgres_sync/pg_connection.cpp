// libpq driven by Asio (see pg_connection.hpp). libpq does the protocol; this file only decides
// when to call it: after the socket is readable/writable as libpq asked.
#include "plugins/postgres_sync/pg_connection.hpp"

#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace forrealtime::pg {

namespace asio = boost::asio;
using asio::awaitable;
using wait_type = asio::posix::stream_descriptor::wait_type;

Connection::Connection(asio::any_io_executor ex) : ex_(ex), sd_(ex), deadline_(ex) {}

Connection::~Connection() {
  close();
}

void Connection::bind_socket() {
  int fd = conn_ ? PQsocket(conn_) : -1;
  if (sd_.is_open() && sd_.native_handle() == fd) return;
  release_socket();
  if (fd >= 0) sd_.assign(fd);
}

void Connection::release_socket() {
  if (sd_.is_open()) {
    boost::system::error_code ec;
    sd_.cancel(ec);
    (void)sd_.release();  // libpq owns the descriptor: never close it here
  }
}

void Connection::close() {
  release_socket();
  if (conn_) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  notes_.clear();
}

void Connection::cancel() {
  if (sd_.is_open()) {
    boost::system::error_code ec;
    sd_.cancel(ec);
  }
}

std::string Connection::error_message() const {
  if (!conn_) return "not connected";
  std::string m = PQerrorMessage(conn_);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  for (auto& c : m)
    if (c == '\n') c = ' ';
  return m.empty() ? "connection lost" : m;
}

awaitable<boost::system::error_code> Connection::wait(
    wait_type type, std::optional<std::chrono::milliseconds> timeout) {
  if (!sd_.is_open()) co_return asio::error::bad_descriptor;
  auto gen = ++wait_gen_;
  timed_out_ = false;
  if (timeout) {
    deadline_.expires_after(*timeout);
    // The generation guards against a deadline of an earlier wait firing late.
    deadline_.async_wait([this, gen](boost::system::error_code ec) {
      if (ec || gen != wait_gen_) return;
      timed_out_ = true;
      cancel();
    });
  }
  auto [ec] = co_await sd_.async_wait(type, asio::as_tuple(asio::use_awaitable));
  ++wait_gen_;
  if (timeout) deadline_.cancel();
  if (timed_out_) co_return asio::error::timed_out;
  co_return ec;
}

awaitable<std::optional<std::string>> Connection::connect(std::string conninfo,
                                                          std::chrono::milliseconds timeout) {
  close();
  conn_ = PQconnectStart(conninfo.c_str());
  if (!conn_) co_return std::string("out of memory");
  if (PQstatus(conn_) == CONNECTION_BAD) co_return error_message();
  auto until = std::chrono::steady_clock::now() + timeout;
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  for (;;) {
    if (st == PGRES_POLLING_OK) break;
    if (st == PGRES_POLLING_FAILED) co_return error_message();
    bind_socket();  // the descriptor changes when libpq tries the next address
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) co_return std::string("connect timed out");
    auto ec = co_await wait(
        st == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write, left);
    if (ec == asio::error::timed_out) co_return std::string("connect timed out");
    if (ec) co_return "connect interrupted: " + ec.message();
    st = PQconnectPoll(conn_);
  }
  bind_socket();
  // Server notices (NOTICE, the FATAL of a shutdown) would go to stderr; the errors that
  // matter reach the log through error_message().
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  if (PQsetnonblocking(conn_, 1) != 0) co_return error_message();
  co_return std::nullopt;
}

awaitable<QueryResult> Connection::exec(std::string sql, std::chrono::milliseconds timeout) {
  if (!connected()) co_return QueryResult{"not connected", nullptr};
  if (!PQsendQuery(conn_, sql.c_str())) co_return QueryResult{error_message(), nullptr};
  co_return co_await finish_query(timeout);
}

awaitable<QueryResult> Connection::exec_params(std::string sql, std::vector<std::string> params,
                                               std::chrono::milliseconds timeout) {
  if (!connected()) co_return QueryResult{"not connected", nullptr};
  std::vector<const char*> values;
  for (auto& p : params) values.push_back(p.c_str());
  if (!PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                         values.data(), nullptr, nullptr, 0))
    co_return QueryResult{error_message(), nullptr};
  co_return co_await finish_query(timeout);
}

awaitable<QueryResult> Connection::finish_query(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(until -
                                                                 std::chrono::steady_clock::now());
  };
  // Send everything (non-blocking mode may leave part of the query in libpq's buffer).
  for (;;) {
    int f = PQflush(conn_);
    if (f == 0) break;
    if (f < 0) co_return QueryResult{error_message(), nullptr};
    auto ec = co_await wait(wait_type::wait_write, left());
    if (ec) co_return QueryResult{"sending a query: " + ec.message(), nullptr};
    if (!PQconsumeInput(conn_)) co_return QueryResult{error_message(), nullptr};
  }
  QueryResult out;
  for (;;) {
    while (PQisBusy(conn_)) {
      auto ec = co_await wait(wait_type::wait_read, left());
      if (ec) co_return QueryResult{"waiting for a result: " + ec.message(), nullptr};
      if (!PQconsumeInput(conn_)) co_return QueryResult{error_message(), nullptr};
    }
    ResultPtr r(PQgetResult(conn_));
    if (!r) break;
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && out.error.empty()) {
      std::string m = PQresultErrorMessage(r.get());
      while (!m.empty() && m.back() == '\n') m.pop_back();
      out.error = m.empty() ? "query failed" : m;
    }
    out.result = std::move(r);
  }
  collect();  // notifications that arrived with the results
  co_return out;
}

awaitable<boost::system::error_code> Connection::wait_readable() {
  co_return co_await wait(wait_type::wait_read, std::nullopt);
}

bool Connection::consume() {
  return conn_ && PQconsumeInput(conn_) && connected();
}

void Connection::collect() {
  if (!conn_) return;
  while (PGnotify* n = PQnotifies(conn_)) {
    notes_.push_back({n->relname ? n->relname : "", n->extra ? n->extra : ""});
    PQfreemem(n);
  }
}

std::vector<Notification> Connection::take_notifications() {
  collect();
  return std::exchange(notes_, {});
}

}  // namespace forrealtime::pg
