// Redis Sentinel: which node is the master now, for a store whose URL is `redis+sentinel://`.
//
// The monitor asks the sentinels in turn `SENTINEL get-master-addr-by-name <name>` until one
// answers, sets the store's Endpoint (endpoint.hpp) to that address, and stays subscribed to
// `+switch-master` on one sentinel (the next one when that connection drops). Whenever the
// address changes, `on_moved` runs: the store drops its command connection, its workers' links
// and the tail's connections, which reconnect to the new master at once (the tail resumes every
// watch from its position, so what the new master kept is delivered once).
//
// The sentinels can be late or missed (a partition, a subscriber connection that dropped), so
// the data connections check too: each one asks `ROLE` in its handshake and refuses a node that
// is not the master, a READONLY reply drops its connection, and both, like any failed
// connection, report to the Endpoint, which makes the monitor ask again (at most every
// `min_interval`).
//
// Threading: everything runs on the store's io_context thread; `Endpoint::report_stale` may be
// called from any thread (it posts here).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "forrealtime/redis_store.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/endpoint.hpp"

namespace forrealtime::redis {

class Sentinel : public std::enable_shared_from_this<Sentinel> {
 public:
  Sentinel(boost::asio::io_context& ioc, RedisSentinelUrl url, const RedisOptions& options,
           std::shared_ptr<Endpoint> target, std::function<void()> on_moved);

  /** Asks for the master and subscribes to `+switch-master`. */
  void start();
  /** Asks the sentinels again (soon; one question at a time). */
  void rediscover();
  void stop();

 private:
  void ask(std::size_t index, std::size_t tries);
  void subscribe(std::size_t index);
  void on_push(const redisReply* r);
  void adopt(const std::string& host, std::uint16_t port, std::string_view why);
  Connection::Config config_for(std::size_t index, const char* name) const;

  boost::asio::io_context& ioc_;
  RedisSentinelUrl url_;
  RedisOptions opt_;
  std::shared_ptr<Endpoint> target_;
  std::function<void()> on_moved_;
  std::vector<std::shared_ptr<const Endpoint>> sentinels_;
  std::shared_ptr<Connection> query_;
  std::shared_ptr<Connection> sub_;
  std::size_t sub_index_ = 0;
  boost::asio::steady_timer ask_timer_;
  boost::asio::steady_timer sub_timer_;
  bool asking_ = false;
  bool ask_again_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point last_ask_{};
  static constexpr std::chrono::milliseconds min_interval{200};
};

}  // namespace forrealtime::redis
