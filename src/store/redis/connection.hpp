// One Redis connection: the thin Asio shell around a Pipeline. It resolves and connects with
// a deadline, for `rediss://` runs the TLS handshake (the certificate verified against the
// host dialled, which is also the SNI), runs the Redis handshake (AUTH, SELECT, CLIENT SETNAME,
// CLIENT ID for tail connections, ROLE under Sentinel, the caller's extra commands, then PING)
// pipelined in one write, and is open only
// once PING answered PONG (a server that wants AUTH answers NOAUTH to everything), then moves
// bytes: every queued command is written as soon as the previous write
// completes (so commands issued meanwhile leave together), every byte read goes to the
// pipeline. A clock tick times out late commands and drops a connection that stopped answering.
//
// Under Sentinel (the Endpoint requires a master), a failed connection and a READONLY reply (the
// node was demoted; the connection is then dropped) are reported to the Endpoint, which has the
// sentinels asked again.
//
// Everything runs on the owning io_context's single thread; nothing here is thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "forrealtime/redis_store.hpp"
#include "store/redis/endpoint.hpp"
#include "store/redis/pipeline.hpp"

namespace boost::asio::ssl {
template <typename Stream>
class stream;
}

namespace forrealtime::redis {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Handler = std::function<void(boost::system::error_code)>;
  using Callback = Pipeline::Callback;

  struct Config {
    /** Where to go when `target` is null (tests, tools). */
    RedisEndpoint endpoint;
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds command_timeout{5000};
    /** Ask `CLIENT ID` in the handshake (the tail needs it for `CLIENT UNBLOCK`). */
    bool want_client_id = false;
    /** `CLIENT SETNAME`, so that `CLIENT LIST` tells our connections apart. Empty: none. */
    std::string client_name;
    /** More handshake commands (encoded RESP), sent after the above and before the final
     *  PING; `on_reply` judges the reply (error replies included) and cannot fail the
     *  connection. */
    struct Extra {
      std::string command;
      std::function<void(const redisReply*)> on_reply;
    };
    std::vector<Extra> handshake_extra;
    /** The store's Endpoint: when set, `start` dials its current node with its TLS context,
     *  checks `ROLE` when it requires a master, and reports a node that is not one. */
    std::shared_ptr<const Endpoint> target;
  };

  Connection(boost::asio::io_context& ioc, Config config);
  ~Connection();

  /** Connects and runs the handshake; `done` is called once. After a successful start,
   *  `on_lost` is called once if the connection fails (never after `close`). */
  void start(Handler done, Handler on_lost);

  /** Encodes commands here, then `expect` one callback per command, then `flush`. The
   *  deadline is `command_timeout` (+ `extra`, e.g. the block time of XREAD) from now. */
  std::string& out() { return pipeline_.out(); }
  void expect(Callback cb, std::chrono::milliseconds extra = {});
  void flush();

  /** Subscriber connections: replies no command waits for go to `push` (see Pipeline). */
  void set_push(Pipeline::Push push) { pipeline_.set_push(std::move(push)); }

  /** Closes the socket and completes every queued command with `ec`; no `on_lost`. */
  void close(boost::system::error_code ec);

  bool is_open() const { return open_; }
  /** Commands were written whose replies have not all come, or a write is under way: what
   *  is encoded now can wait for the read that brings those replies (it flushes). */
  bool awaiting_replies() const { return writing_ || pipeline_.sent() > 0; }
  /** `CLIENT ID` from the handshake, -1 when unknown. */
  long long client_id() const { return client_id_; }
  /** The node dialled (`host:port`), for logs. */
  const RedisEndpoint& node() const { return config_.endpoint; }

 private:
  void fail(boost::system::error_code ec);
  void on_connected();
  void on_tcp_connected();
  void read_loop();
  void tick_loop();

  boost::asio::io_context& ioc_;
  Config config_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  /** `rediss://`: TLS over `socket_`. */
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer tick_timer_;
  Pipeline pipeline_;
  std::string wbuf_;
  std::array<char, 65536> rbuf_;
  Handler done_;
  Handler on_lost_;
  bool connected_ = false;  // TCP up: writes may go
  bool open_ = false;       // handshake done
  bool closed_ = false;
  bool writing_ = false;
  long long client_id_ = -1;
};

}  // namespace forrealtime::redis
