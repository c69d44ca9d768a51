// The live tail's connections and timers: the Asio shell around TailState (tail_state.hpp),
// owned by the Redis store and run on its io_context thread. It never shares a connection with
// the store's commands, so the command path can change without touching it.
//
// How the tail learns of new entries (`RedisOptions::tail_wakeup`):
//  - Wake-ups (automatic when possible): keyspace notifications of the stream class. One
//    subscriber connection holds `SUBSCRIBE __keyspace@<db>__:<key>` per watched key, one reader
//    connection reads the keys woken in one loop turn with non-blocking, pipelined
//    `XREAD COUNT c STREAMS k.. id..`, and fetches the starting positions (`XREVRANGE`). Two
//    connections per node whatever the number of watched channels; no command names a key
//    that is not dirty, so Redis parses about one key per event instead of a whole batch; and
//    no command spans slots (what Redis Cluster needs). Every `tail_block` the reader reads
//    every key from its position (the sweep) and the subscriber answers a PING: a lost
//    notification, notifications switched off on the server, or a silent subscriber cost at
//    most that much latency, never an entry. The sweep reads a sixteenth of the keys every
//    sixteenth of `tail_block`, not all at once: wake-up reads queue behind it on the reader,
//    and on a cluster (one XREAD per key, keys of different slots) reading 10,000 keys at once
//    held the events of that moment for 300-500 ms (bench/RESULTS.md section 9). On connect,
//    `notify-keyspace-events` is read and, when it lacks `K` and `t`, they are added with CONFIG
//    SET (logged).
//  - Blocking batches (the fallback, or `blocking`): when CONFIG is refused (managed Redis) or
//    the subscription is refused (ACL channel rules), logged at start: keys in batches of
//    `tail_keys_per_connection`, one `XREAD BLOCK` per batch on its own connection, re-issued
//    after each reply, `CLIENT UNBLOCK` (sent on the reader) when a batch's keys change while
//    its read is parked.
//
// Failure: any tail connection lost takes the tail down (the sink hears `on_tail_error` once,
// watches fail fast with `unavailable`), then it reconnects with backoff, decides the mode
// again, subscribes every key again and reads each from its last position once subscribed
// (`on_tail_resumed`): what Redis kept meanwhile is delivered once.
//
// Threading: everything on the store's io_context thread; nothing here is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "forrealtime/redis_store.hpp"
#include "forrealtime/store.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/tail_state.hpp"

namespace forrealtime::redis {

class Tail {
 public:
  /** `on_lost` hears every loss of a tail connection (the store drops its command connection
   *  too: a Redis that went away fails emits fast with `unavailable`, whichever connection
   *  noticed first). */
  Tail(boost::asio::io_context& ioc, const RedisOptions& options,
       std::shared_ptr<const Endpoint> target,
       std::function<void(boost::system::error_code)> on_lost = {});
  /** A fixed node, plain TCP. */
  Tail(boost::asio::io_context& ioc, const RedisOptions& options, const RedisEndpoint& endpoint,
       std::function<void(boost::system::error_code)> on_lost = {});
  ~Tail();
  Tail(const Tail&) = delete;
  Tail& operator=(const Tail&) = delete;

  /** Sets the sink and starts connecting. */
  void start(TailSink* sink);
  void watch(std::string key, Store::ArmedHandler armed);
  void unwatch(std::string_view key);
  /** Closes everything; pending watches complete with `stopped`. */
  void stop();
  /** Sentinel: the master moved. Drops every connection (as if lost) and reconnects to the
   *  new one; watches resume from their positions. */
  void reconnect_now();

  /** Redis Cluster: this tail reads one node; its wake-up reads name keys of one slot each,
   *  and `on_moved` hears every MOVED/ASK a read or position fetch got (the slot left this
   *  node: the store refreshes its map and moves the watches with `release`/`adopt`). */
  void set_cluster(std::function<void()> on_moved);
  /** A watch leaving this tail for another node's, with its count, its position (the last id
   *  handed on, when known) and the watchers still waiting for it to be armed. */
  struct Handoff {
    std::string key;
    std::size_t count = 0;
    std::optional<StreamId> position;
    std::vector<Store::ArmedHandler> waiters;
  };
  /** Removes every watch whose key `leaves` says (UNSUBSCRIBE is sent); a read in flight for
   *  one of them is ignored when it comes back, so the new tail reads from `position`. */
  std::vector<Handoff> release(const std::function<bool(std::string_view key)>& leaves);
  /** Takes a watch over from another tail: read from its position once subscribed here (or
   *  from the latest id when it had none yet). */
  void adopt(Handoff h);
  /** After the store's map changed: fetches again the positions of watches that stayed here
   *  and were waiting (a fetch that met MOVED before the map said so). */
  void retry_pending();
  bool watches(std::string_view key) { return tail_.find(key) != nullptr; }
  bool started() const { return phase_ != Phase::idle; }

  /** True while the tail, once started, has lost Redis (any thread). */
  bool down() const { return down_.load(std::memory_order_relaxed); }

 private:
  enum class Phase { idle, connecting, up, down, stopping };
  enum class Mode { wakeups, batches };
  struct BatchIo;

  // connection life
  void connect();
  void decide_mode();
  void use_mode(Mode m, std::string why);
  void connect_subscriber();
  void on_up();
  void go_down(boost::system::error_code ec, bool lost = true);
  void close_all(boost::system::error_code ec);
  void schedule_reconnect();
  bool up() const { return phase_ == Phase::up && rd_ && rd_->is_open(); }
  boost::system::error_code down_error() const;

  // watches
  void begin(TailWatch& w);
  bool ready(const TailWatch& w) const;
  void fetch_latest(TailWatch& w);
  void refuse_over_cap(std::string_view key);
  void deliver(std::string_view key, std::span<const StoredEntry> entries);

  // wake-ups
  void on_push(Reply r);
  void schedule_flush();
  void flush();
  void on_wake_read(const TailTicket& ticket, const redisReply* r);
  void check_types(std::vector<std::pair<std::string, std::uint64_t>> keys,
                   std::function<void()> then);
  void sweep_loop();
  void check_config();

  // blocking batches
  BatchIo& io_of(std::size_t b);
  void mark_dirty(std::size_t b);
  void connect_batch(BatchIo& io);
  void issue_read(BatchIo& io);
  void release(BatchIo& io);
  void on_read(BatchIo& io, const redisReply* r);
  void interrupt(BatchIo& io);

  boost::asio::io_context& ioc_;
  RedisOptions opt_;
  std::shared_ptr<const Endpoint> target_;
  RedisEndpoint ep_;  // as at construction: for logs, and the db
  TailSink* sink_ = nullptr;
  std::function<void(boost::system::error_code)> on_lost_;
  TailState tail_;
  Phase phase_ = Phase::idle;
  Mode mode_ = Mode::wakeups;
  bool mode_logged_ = false;
  Mode logged_mode_ = Mode::wakeups;
  std::shared_ptr<Connection> rd_;   // positions, wake-up reads, CONFIG, CLIENT UNBLOCK
  std::shared_ptr<Connection> sub_;  // SUBSCRIBE __keyspace@<db>__:<key>
  std::vector<std::unique_ptr<BatchIo>> io_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer sweep_timer_;
  std::chrono::milliseconds backoff_;
  bool error_reported_ = false;
  bool flush_posted_ = false;
  bool ping_outstanding_ = false;
  /** The sweep's ticks since the tail came up: a share of the keys each, PING and the config
   *  check every `sweep_parts`. */
  std::size_t sweep_tick_ = 0;
  static constexpr std::size_t sweep_parts = 16;
  /** CONFIG GET answered at connect: the sweep checks the flags again. */
  bool config_readable_ = false;
  /** The server refused what wake-ups need (CONFIG SET, SUBSCRIBE): batches from now on. */
  bool wakeups_refused_ = false;
  std::atomic<bool> down_{false};
  std::uint64_t refused_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::function<void()> on_moved_;
  /** Keys whose read met a cluster redirection or CLUSTERDOWN: read again after the map. */
  std::vector<std::string> stalled_;
};

/** What `notify-keyspace-events` must be so that XADD on any key reaches a subscriber of its
 *  keyspace channel: the current flags plus `K` and `t` (or empty when they are there:
 *  `K`, and `t` or `A`). Pure. */
std::string notify_flags_needed(std::string_view current);

}  // namespace forrealtime::redis
