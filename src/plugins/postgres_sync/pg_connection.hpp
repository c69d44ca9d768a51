// One libpq connection driven by Asio: a non-blocking connect (PQconnectStart/PQconnectPoll),
// queries sent with PQsendQuery[Params] and read with PQconsumeInput/PQgetResult, and
// notifications collected with PQnotifies, all waiting on PQsocket through a
// posix::stream_descriptor that never owns the descriptor (libpq does).
//
// Call-order rules: use from one coroutine at a time on the connection's executor; `cancel()`
// may be called from a handler on the same executor and makes the pending wait end with
// operation_aborted. The object is reused across reconnects (`close()` then `connect()`), so
// that timer handlers never outlive it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <libpq-fe.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace forrealtime::pg {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct QueryResult {
  /** Empty when every statement succeeded. */
  std::string error;
  /** The last result (rows of the last statement). */
  ResultPtr result;
  bool ok() const { return error.empty(); }
};

struct Notification {
  std::string channel;
  std::string payload;
};

class Connection {
 public:
  explicit Connection(boost::asio::any_io_executor ex);
  ~Connection();
  Connection(const Connection&) = delete;

  /** Connects; an error message, or nothing on success. */
  boost::asio::awaitable<std::optional<std::string>> connect(std::string conninfo,
                                                             std::chrono::milliseconds timeout);
  /** Runs SQL text (may hold several statements, no parameters). */
  boost::asio::awaitable<QueryResult> exec(std::string sql, std::chrono::milliseconds timeout);
  /** Runs one statement with text parameters. */
  boost::asio::awaitable<QueryResult> exec_params(std::string sql, std::vector<std::string> params,
                                                  std::chrono::milliseconds timeout);
  /** Waits until the server sends something (a notification), or cancel(). */
  boost::asio::awaitable<boost::system::error_code> wait_readable();
  /** Reads what arrived; false when the connection is broken. */
  bool consume();
  /** The notifications received so far. */
  std::vector<Notification> take_notifications();

  void cancel();
  void close();
  bool connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
  std::string error_message() const;

 private:
  boost::asio::awaitable<boost::system::error_code> wait(
      boost::asio::posix::stream_descriptor::wait_type type,
      std::optional<std::chrono::milliseconds> timeout);
  boost::asio::awaitable<QueryResult> finish_query(std::chrono::milliseconds timeout);
  void collect();
  void bind_socket();
  void release_socket();

  boost::asio::any_io_executor ex_;
  PGconn* conn_ = nullptr;
  boost::asio::posix::stream_descriptor sd_;
  boost::asio::steady_timer deadline_;
  std::uint64_t wait_gen_ = 0;
  bool timed_out_ = false;
  std::vector<Notification> notes_;
};

}  // namespace forrealtime::pg
