// A command link: one pipelined Redis command connection living on a worker's event loop, so
// that the store's calls made on that worker go to Redis without a thread hop (issue 15).
//
// The gateway's workers (and Realtime's internal loop) declare their io_contexts to the store
// (`Store::add_worker`). The Redis store gives each one a link; a call made on a thread running
// that io_context is encoded into the link's output buffer at once. It is written at once when
// nothing is in flight on the connection (one send, no loop turn); else it waits for the replies
// in flight and leaves with every command issued meanwhile in one write right after them, so
// concurrent emits on a worker share one write and one read (at most one batch in flight, as
// Nagle's algorithm does for TCP segments). Replies complete the handlers on the same thread: no
// futex, no wake-up of another thread, no epoll_ctl on an interrupter, per emit.
//
// Life: `start` connects (the handshake of connection.hpp, plus SCRIPT LOAD of the append
// script); calls made while it connects wait in order and leave once it is up (or fail with
// `unavailable` if that fails). A lost connection fails the commands in flight (`timeout` for
// those sent: they may have run; `unavailable` for the others) and reconnects with backoff;
// meanwhile calls fail fast with `unavailable`. `stop` closes it for good: pending and later
// calls complete with `stopped`.
//
// Threading: every member function runs on the link's io_context thread, except `stop`, which
// may also be called from any thread once no thread runs that io_context any more (the
// gateway's shutdown: the loop stopped, before it is destroyed).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "forrealtime/redis_store.hpp"
#include "store/redis/connection.hpp"

namespace forrealtime::redis {

class CommandLink : public std::enable_shared_from_this<CommandLink> {
 public:
  CommandLink(boost::asio::io_context& ioc, std::shared_ptr<const Endpoint> target,
              const RedisOptions& options, std::string client_name);
  /** A fixed node, plain TCP. */
  CommandLink(boost::asio::io_context& ioc, RedisEndpoint endpoint, const RedisOptions& options,
              std::string client_name);

  boost::asio::io_context& context() const { return ioc_; }
  /** True on a thread that is running this link's io_context. */
  bool running_here() const { return ioc_.get_executor().running_in_this_thread(); }

  void start();
  void stop();
  /** Sentinel: the master moved. Drops the connection (what was sent completes with
   *  `timeout`, as on a loss) and reconnects at once. */
  void reconnect_now();

  /** The store's bookkeeping, under its lock: this link's loop was removed (or the store
   *  stopped) and no call may pick it any more. */
  bool removed = false;

  void append(std::string key, std::string record_key, std::string message,
              const AppendOptions& options, Store::AppendHandler handler);
  void range(std::string key, RangeQuery query, Store::RangeHandler handler);
  void latest(std::string key, Store::LatestHandler handler);
  void info(std::string key, Store::InfoHandler handler);
  /** Redis Cluster routing: runs `send(connection)` as the calls above run theirs (now when
   *  up, once connected when connecting); else calls `fail` with the state's error. Exactly one
   *  of the two is called. */
  void exec(std::function<void(const std::shared_ptr<Connection>&)> send,
            std::function<void(boost::system::error_code)> fail);
  /** The append script's SHA1 once loaded on this connection; empty: send it whole. */
  const std::string& script_sha() const { return script_sha_; }

 private:
  enum class State { idle, connecting, up, down, stopped };
  /** Runs `send(connection)` now when up (and flushes at the end of the loop turn), later
   *  when connecting; else completes `handler` with the error of the state. */
  template <class Send, class Handler>
  void submit(Send send, Handler handler);
  void connect();
  void on_lost();
  void flush_soon();
  boost::system::error_code state_error() const;

  boost::asio::io_context& ioc_;
  std::shared_ptr<const Endpoint> target_;
  RedisEndpoint endpoint_;  // as at construction, for logs
  RedisOptions options_;
  std::string client_name_;
  State state_ = State::idle;
  std::shared_ptr<Connection> conn_;
  std::string script_sha_;
  std::optional<boost::asio::steady_timer> retry_timer_;
  std::chrono::milliseconds backoff_;
  /** Calls made while connecting, in order: called with no error once up, else with it. */
  std::vector<std::function<void(boost::system::error_code)>> waiting_;
};

}  // namespace forrealtime::redis
