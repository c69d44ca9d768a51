// The Redis Store: commands pipelined on one connection, and the live tail.
//
// The tail is one per process. Every watched channel's key sits in exactly one batch of at
// most `tail_keys_per_connection` keys; each batch owns a connection that runs one
// `XREAD COUNT c BLOCK ms STREAMS k1..kn id1..idn` at a time, with the last id seen per key,
// and re-issues it as soon as the reply is handed to the sink. So a quiet channel never holds
// up a busy one (a busy key returns at once, with everything it has), a process holds
// 1 + keys/batch connections whatever its number of subscribers, and no blocked command is
// left in Redis for a client that left: when the watched set of a batch changes while its read
// is parked, `CLIENT UNBLOCK <tail client id>` is sent on the command connection and the read
// is re-issued with the new set. (We chose CLIENT UNBLOCK over XADD to a wake-up key of our
// own because it writes nothing to the user's keyspace and costs one round trip; when CLIENT
// is refused by ACLs the read still picks changes up at its block timeout, and armed never
// depends on it.)
//
// watch(channel) reads the key's latest id with XREVRANGE + - COUNT 1 on the command
// connection and places the key in a batch at that id before calling `armed`: every entry
// appended after `armed` has a greater id, so the next XREAD of that batch returns it.
//
// Failure: any connection lost takes the whole store down (commands fail fast with
// `unavailable`, the sink hears `on_tail_error` once), then reconnects with backoff. On return
// the sink hears `on_tail_resumed` and every batch reads again from the last id seen per key,
// so entries appended meanwhile (that Redis kept) are delivered.
//
// A batch whose last key left keeps its connection for a second's grace (a batch that empties
// and refills at once costs no connect) and then closes it; it reconnects when a key joins. The
// number of distinct channels watched is capped (`max_watched_channels`): past it a watch of a
// new channel fails with `limit_reached`, with a log line at most once a second.
//
// Appends: a plain append is the XADD of PROTOCOL.md section 6. An append with an expiry or an
// idempotency key is one EVALSHA of the append script (commands.hpp): EXPIRE only after an XADD
// that succeeded (never a TTL on another application's key), the idempotency record checked
// and written atomically with the XADD, in the stream's cluster slot (slot.hpp). The script is
// loaded in the command connection's handshake; NOSCRIPT (cache flushed) re-sends it whole. A
// command sent whose reply never came completes with `timeout`: it may have been executed.
//
// The bookkeeping (counts, positions, batches, what a read names and what a reply means) is
// the I/O-free TailState (tail_state.hpp); this file holds the connections and timers.
//
// Threading: all state below lives on the store's one io_context thread; public calls `post`.
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "forrealtime/redis_store.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/slot.hpp"
#include "store/redis/tail_state.hpp"

namespace forrealtime {
namespace redis {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

/** How long the connection of a batch that lost its last key stays open. */
constexpr std::chrono::milliseconds idle_release_after{1000};

/** The I/O side of one tail batch (its keys are in TailState). */
struct BatchIo {
  BatchIo(asio::io_context& ioc, std::size_t index) : index(index), timer(ioc) {}
  std::size_t index;
  std::shared_ptr<Connection> conn;
  enum class State { disconnected, connecting, idle, reading } state = State::disconnected;
  bool unblock_sent = false;
  std::uint64_t read_gen = 0;
  asio::steady_timer timer;
};

class Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(RedisOptions options, RedisEndpoint endpoint)
      : opt_(std::move(options)),
        ep_(std::move(endpoint)),
        work_(asio::make_work_guard(ioc_)),
        retry_timer_(ioc_),
        backoff_(opt_.reconnect_min),
        tail_(opt_.tail_keys_per_connection) {
    if (opt_.tail_keys_per_connection == 0) opt_.tail_keys_per_connection = 1;
    if (opt_.tail_count == 0) opt_.tail_count = 1;
  }

  ~Impl() {
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id())
        thread_.detach();
      else
        thread_.join();
    }
  }

  void start() {
    auto self = shared_from_this();
    post([this] { connect(); });
    thread_ = std::thread([self] { self->ioc_.run(); });
    thread_id_ = thread_.get_id();
  }

  // --- public calls, any thread ---------------------------------------------------------------

  template <class F>
  bool post(F&& f) {
    std::lock_guard lock(post_mu_);
    if (stopped_) return false;
    asio::post(ioc_, std::forward<F>(f));
    return true;
  }

  std::string key_of(std::string_view channel) const {
    std::string k;
    k.reserve(opt_.key_prefix.size() + channel.size());
    k.append(opt_.key_prefix).append(channel);
    return k;
  }

  const std::string& key_prefix() const { return opt_.key_prefix; }

  void stop() {
    {
      std::lock_guard lock(post_mu_);
      if (stopped_) return;
      stopped_ = true;
      asio::post(ioc_, [this] { do_stop(); });
    }
    if (std::this_thread::get_id() != thread_id_ && thread_.joinable()) thread_.join();
  }

  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

  // --- commands (io thread) -------------------------------------------------------------------

  bool up() const { return phase_ == Phase::up && cmd_ && cmd_->is_open(); }
  error_code down_error() const {
    return phase_ == Phase::stopping ? error_code(store_errc::stopped)
                                     : error_code(store_errc::unavailable);
  }

  void do_append(std::string key, std::string record, std::string message, AppendOptions o,
                 Store::AppendHandler handler) {
    if (!up()) return handler(down_error());
    if (record.empty() && o.expire_after_secs == 0) {
      // The common case stays the one command of PROTOCOL.md section 6, no script.
      append_xadd(cmd_->out(), key, message, o.max_length);
      cmd_->expect([handler = std::move(handler)](Reply r, error_code ec) {
        finish_append(r.get(), ec, handler);
      });
      return cmd_->flush();
    }
    // XADD + EXPIRE (+ the idempotency record) in one script: EXPIRE runs only if XADD did, and
    // the record is checked and written atomically with the XADD.
    auto window =
        static_cast<std::uint64_t>(std::max<std::int64_t>(1, o.idempotency_window.count()));
    append_scripted(cmd_->out(), script_sha_, key, record, message, o.max_length,
                    o.expire_after_secs, window);
    cmd_->expect([this, key = std::move(key), record = std::move(record),
                  message = std::move(message), o, window,
                  handler = std::move(handler)](Reply r, error_code ec) mutable {
      if (!ec && is_error(r.get()) && text(r.get()).starts_with("NOSCRIPT")) {
        // Redis lost its script cache (SCRIPT FLUSH, a restart, a failover): the script did not
        // run, so sending it whole (which caches it again) is safe.
        if (!up()) return handler(down_error());
        append_scripted(cmd_->out(), {}, key, record, message, o.max_length, o.expire_after_secs,
                        window);
        cmd_->expect([handler = std::move(handler)](Reply r, error_code ec) {
          finish_append(r.get(), ec, handler);
        });
        return cmd_->flush();
      }
      finish_append(r.get(), ec, handler);
    });
    cmd_->flush();
  }

  static void finish_append(const redisReply* r, error_code ec,
                            const Store::AppendHandler& handler) {
    if (ec) return handler(ec);
    if (is_error(r)) {
      spdlog::warn("redis: append refused: {}", text(r));
      return handler(error_of(r));
    }
    auto id = decode_id(r);
    if (!id) return handler(error_code(store_errc::protocol));
    handler(*id);
  }

  void do_range(std::string key, RangeQuery q, Store::RangeHandler handler) {
    if (!up()) return handler(down_error());
    if (q.limit == 0 || (q.start_exclusive && q.start == StreamId::max()) ||
        (q.start_exclusive ? q.start >= q.end : q.start > q.end))
      return handler(std::vector<StoredEntry>{});
    append_xrange(cmd_->out(), key, q);
    cmd_->expect([handler = std::move(handler)](Reply r, error_code ec) {
      if (ec) return handler(ec);
      if (is_error(r.get())) return handler(error_of(r.get()));
      std::vector<StoredEntry> entries;
      if (!decode_entries(r.get(), entries)) return handler(error_code(store_errc::protocol));
      handler(std::move(entries));
    });
    cmd_->flush();
  }

  void do_latest(std::string key, Store::LatestHandler handler) {
    if (!up()) return handler(down_error());
    append_latest(cmd_->out(), key);
    cmd_->expect([handler = std::move(handler)](Reply r, error_code ec) {
      if (ec) return handler(ec);
      handler(decode_latest(r.get()));
    });
    cmd_->flush();
  }

  void do_info(std::string key, Store::InfoHandler handler) {
    if (!up()) return handler(down_error());
    append_xinfo(cmd_->out(), key);
    cmd_->expect([handler = std::move(handler)](Reply r, error_code ec) {
      if (ec) return handler(ec);
      handler(decode_info(r.get()));
    });
    cmd_->flush();
  }

  // --- the tail (io thread) -------------------------------------------------------------------

  void do_start_tail(TailSink* sink) { sink_ = sink; }

  void do_watch(std::string key, Store::ArmedHandler armed) {
    bool is_new = tail_.find(key) == nullptr;
    TailWatch& w = tail_.add_watcher(key);
    if (is_new && tail_.watch_count() > opt_.max_watched_channels) w.over_cap = true;
    if (w.over_cap) {
      refuse_over_cap(key);
      return armed(error_code(store_errc::limit_reached));
    }
    if (w.parked) return armed(error_code(store_errc::protocol));
    if (w.batch != TailState::none && w.position && up()) return armed({});
    if (!up()) return armed(down_error());
    w.waiters.push_back(std::move(armed));
    if (!w.fetching) fetch_latest(w);
  }

  // One log line per second at most, however many subscribers are refused.
  void refuse_over_cap(std::string_view key) {
    ++refused_;
    auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log_ < std::chrono::seconds(1)) return;
    last_refusal_log_ = now;
    spdlog::warn(
        "redis: cannot watch '{}': this process watches {} channels, the cap "
        "(max_watched_channels = {}); {} watch(es) refused so far",
        key, tail_.watch_count() - 1, opt_.max_watched_channels, refused_);
  }

  void do_unwatch(std::string_view key) {
    std::vector<Store::ArmedHandler> orphans;
    std::size_t b = tail_.remove_watcher(key, orphans);
    if (b != TailState::none) mark_dirty(b);
    for (auto& a : orphans) a(asio::error::operation_aborted);
  }

  void fetch_latest(TailWatch& w) {
    w.fetching = true;
    append_latest(cmd_->out(), w.key);
    cmd_->expect([this, key = w.key, gen = w.gen](Reply r, error_code ec) {
      TailWatch* w = tail_.find(key, gen);
      if (!w) return;
      w->fetching = false;
      auto waiters = std::move(w->waiters);
      w->waiters.clear();
      if (ec) {
        for (auto& a : waiters) a(ec);
        return;
      }
      auto latest = decode_latest(r.get());
      if (!latest) {
        if (text(r.get()).starts_with("WRONGTYPE")) {
          spdlog::warn("redis: key {} is not a stream; its channel is not tailed", key);
          tail_.park(*w);
        }
        for (auto& a : waiters) a(latest.error());
        return;
      }
      if (std::size_t b = tail_.place(*w, *latest); b != TailState::none) mark_dirty(b);
      for (auto& a : waiters) a({});
    });
    cmd_->flush();
  }

  BatchIo& io_of(std::size_t b) {
    while (io_.size() <= b) io_.push_back(std::make_unique<BatchIo>(ioc_, io_.size()));
    return *io_[b];
  }

  // The keys of batch b changed: the read must name the new set, now.
  void mark_dirty(std::size_t b) {
    BatchIo& io = io_of(b);
    switch (io.state) {
      case BatchIo::State::idle:
        return issue_read(io);
      case BatchIo::State::reading:
        return interrupt(io);
      case BatchIo::State::disconnected:
        if (up() && tail_.batch_size(b) > 0) connect_batch(io);
        return;
      case BatchIo::State::connecting:
        return;  // reads the current set when it gets there
    }
  }

  void connect_batch(BatchIo& io) {
    io.state = BatchIo::State::connecting;
    Connection::Config cfg{ep_, opt_.connect_timeout, opt_.command_timeout, true,
                           "forrealtime-tail-" + std::to_string(io.index)};
    io.conn = std::make_shared<Connection>(ioc_, std::move(cfg));
    auto conn = io.conn;
    io.conn->start(
        [this, &io, conn](error_code ec) {
          if (io.conn != conn) return;
          if (ec) return go_down(ec);
          io.state = BatchIo::State::idle;
          issue_read(io);
        },
        [this, &io, conn](error_code ec) {
          if (io.conn != conn) return;
          go_down(ec);
        });
  }

  void issue_read(BatchIo& io) {
    io.unblock_sent = false;
    ++io.read_gen;
    if (!tail_.encode_read(io.index, opt_.tail_count,
                           static_cast<std::uint64_t>(opt_.tail_block.count()), io.conn->out())) {
      // Nothing to read: nothing left blocked in Redis, and the connection goes after a grace
      // (defect 7: it used to stay forever, so connections followed the peak of channels ever
      // watched). The grace spares a connect to a batch that empties and refills at once.
      io.state = BatchIo::State::idle;
      io.timer.expires_after(idle_release_after);
      io.timer.async_wait([this, &io, conn = io.conn](error_code ec) {
        if (ec || io.conn != conn || io.state != BatchIo::State::idle) return;
        if (tail_.batch_size(io.index) == 0) release(io);
      });
      return;
    }
    io.timer.cancel();  // in idle or fresh state the timer is only the release grace
    io.state = BatchIo::State::reading;
    io.conn->expect(
        [this, &io, conn = io.conn](Reply r, error_code ec) {
          if (io.conn != conn || ec) return;  // a lost connection takes the store down
          on_read(io, r.get());
        },
        opt_.tail_block);
    io.conn->flush();
  }

  // Closes the connection of an empty batch; it reconnects when the batch gains a key.
  void release(BatchIo& io) {
    io.timer.cancel();
    io.state = BatchIo::State::disconnected;
    io.unblock_sent = false;
    if (auto c = std::move(io.conn)) c->close(asio::error::operation_aborted);
  }

  void on_read(BatchIo& io, const redisReply* r) {
    io.state = BatchIo::State::idle;
    if (is_error(r)) {
      spdlog::warn("redis: tail read failed: {}", text(r));
      if (text(r).starts_with("WRONGTYPE")) return check_types(io);
      // Retry later rather than spin on a persistent error.
      io.state = BatchIo::State::connecting;
      io.timer.expires_after(std::chrono::seconds(1));
      io.timer.async_wait([this, &io, conn = io.conn](error_code ec) {
        if (ec || io.conn != conn) return;
        io.state = BatchIo::State::idle;
        issue_read(io);
      });
      return;
    }
    bool ok = tail_.apply_read(io.index, r, [this](std::string_view key, auto entries) {
      if (sink_) sink_->on_entries(key.substr(opt_.key_prefix.size()), entries);
    });
    if (!ok) spdlog::warn("redis: malformed tail reply ignored");
    issue_read(io);
  }

  // Finds the watched keys of a batch that are not streams (XREAD fails as a whole on one).
  void check_types(BatchIo& io) {
    io.state = BatchIo::State::connecting;  // no read until the check is done
    std::vector<std::pair<std::string, std::uint64_t>> keys;
    for (const TailWatch* w : tail_.batch_keys(io.index)) keys.emplace_back(w->key, w->gen);
    if (keys.empty()) return issue_read(io);
    auto remaining = std::make_shared<std::size_t>(keys.size());
    for (auto& [key, gen] : keys) {
      encode_command(cmd_->out(), {"TYPE", key});
      cmd_->expect([this, &io, conn = io.conn, remaining, key = key, gen = gen](Reply r,
                                                                                error_code ec) {
        if (io.conn != conn) return;
        auto t = text(r.get());
        TailWatch* w = tail_.find(key, gen);
        if (!ec && w && w->batch == io.index && t != "stream" && t != "none") {
          spdlog::warn("redis: key {} is a {}, not a stream; its channel is not tailed", key, t);
          tail_.park(*w);
        }
        if (--*remaining == 0) {
          io.state = BatchIo::State::idle;
          issue_read(io);
        }
      });
    }
    cmd_->flush();
  }

  // Wakes the parked read of a batch so that it is re-issued with the batch's new keys.
  void interrupt(BatchIo& io) {
    if (io.unblock_sent || !up() || !io.conn || io.conn->client_id() < 0) return;
    io.unblock_sent = true;
    encode_command(cmd_->out(), {"CLIENT", "UNBLOCK", std::to_string(io.conn->client_id())});
    cmd_->expect([this, &io, conn = io.conn, gen = io.read_gen](Reply r, error_code ec) {
      if (ec || io.conn != conn || io.read_gen != gen || io.state != BatchIo::State::reading)
        return;
      long long n = 0;
      if (is_error(r.get())) {
        spdlog::warn("redis: CLIENT UNBLOCK refused ({}); watch changes wait for the block timeout",
                     text(r.get()));
        return;
      }
      if (to_int(r.get(), n) && n == 1) return;
      // 0: our XREAD had not reached Redis yet (it travels on another connection). Try again.
      io.timer.expires_after(std::chrono::milliseconds(2));
      io.timer.async_wait([this, &io, conn, gen](error_code ec) {
        if (ec || io.conn != conn || io.read_gen != gen || io.state != BatchIo::State::reading)
          return;
        io.unblock_sent = false;
        interrupt(io);
      });
    });
    cmd_->flush();
  }

  // --- connection life (io thread) ------------------------------------------------------------

  void connect() {
    if (phase_ == Phase::stopping) return;
    phase_ = Phase::connecting;
    Connection::Config cfg{ep_, opt_.connect_timeout, opt_.command_timeout, false,
                           "forrealtime-commands"};
    std::string load;
    encode_command(load, {"SCRIPT", "LOAD", append_script});
    cfg.handshake_extra.push_back({std::move(load), [this](const redisReply* r) {
                                     if (!is_error(r) && text(r).size() == 40) {
                                       script_sha_ = text(r);
                                       return;
                                     }
                                     // EVAL with the whole script still works (and if scripts
                                     // are refused, such appends fail with Redis's reason).
                                     script_sha_.clear();
                                     spdlog::warn(
                                         "redis: SCRIPT LOAD refused ({}); appends "
                                         "with expiry or idempotency keys send the "
                                         "script each time",
                                         text(r));
                                   }});
    cmd_ = std::make_shared<Connection>(ioc_, std::move(cfg));
    auto conn = cmd_;
    cmd_->start(
        [this, conn](error_code ec) {
          if (cmd_ != conn) return;
          if (ec) {
            spdlog::warn("redis {}:{}: cannot connect ({}), retrying in {} ms", ep_.host, ep_.port,
                         ec.message(), backoff_.count());
            cmd_.reset();
            phase_ = Phase::down;
            return schedule_reconnect();
          }
          on_up();
        },
        [this, conn](error_code ec) {
          if (cmd_ != conn) return;
          go_down(ec);
        });
  }

  void on_up() {
    phase_ = Phase::up;
    healthy_ = true;
    backoff_ = opt_.reconnect_min;
    if (error_reported_) {
      error_reported_ = false;
      reconnects_.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("redis {}:{}: reconnected", ep_.host, ep_.port);
      if (sink_) sink_->on_tail_resumed();
    }
    tail_.for_each([this](TailWatch& w) {
      if (w.parked || w.over_cap) return;
      if (!w.position) {
        if (!w.fetching) fetch_latest(w);
      } else if (std::size_t b = tail_.place(w, *w.position); b != TailState::none) {
        mark_dirty(b);
      }
    });
    for (std::size_t b = 0; b < tail_.batch_count(); ++b)
      if (tail_.batch_size(b) > 0 && io_of(b).state == BatchIo::State::disconnected)
        connect_batch(io_of(b));
  }

  void go_down(error_code ec) {
    if (phase_ == Phase::stopping || phase_ == Phase::down) return;
    bool was_up = phase_ == Phase::up;
    phase_ = Phase::down;
    healthy_ = false;
    spdlog::warn("redis {}:{}: connection lost ({}), reconnecting", ep_.host, ep_.port,
                 ec.message());
    close_all(store_errc::unavailable);
    if (was_up && !error_reported_) {
      error_reported_ = true;
      if (sink_) sink_->on_tail_error(ec ? ec : error_code(store_errc::unavailable));
    }
    schedule_reconnect();
  }

  void close_all(error_code ec) {
    if (auto c = std::move(cmd_)) c->close(ec);
    for (auto& io : io_) {
      io->timer.cancel();
      io->state = BatchIo::State::disconnected;
      io->unblock_sent = false;
      if (auto c = std::move(io->conn)) c->close(ec);
    }
    tail_.for_each([ec](TailWatch& w) {
      w.fetching = false;
      auto waiters = std::move(w.waiters);
      w.waiters.clear();
      for (auto& a : waiters) a(ec);
    });
  }

  void schedule_reconnect() {
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, opt_.reconnect_max);
    retry_timer_.async_wait([this](error_code ec) {
      if (ec || phase_ == Phase::stopping) return;
      connect();
    });
  }

  void do_stop() {
    phase_ = Phase::stopping;
    healthy_ = false;
    retry_timer_.cancel();
    close_all(store_errc::stopped);
    io_.clear();
    tail_ = TailState(opt_.tail_keys_per_connection);
    sink_ = nullptr;
    work_.reset();
  }

 private:
  enum class Phase { connecting, up, down, stopping };

  RedisOptions opt_;
  RedisEndpoint ep_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::mutex post_mu_;
  bool stopped_ = false;
  std::atomic<bool> healthy_{false};
  std::atomic<std::uint64_t> reconnects_{0};

  // io thread only
  Phase phase_ = Phase::connecting;
  std::shared_ptr<Connection> cmd_;
  std::string script_sha_;  // of the append script, from SCRIPT LOAD; empty: send it whole
  asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_;
  bool error_reported_ = false;
  TailSink* sink_ = nullptr;
  TailState tail_;
  std::vector<std::unique_ptr<BatchIo>> io_;
  std::uint64_t refused_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
};

class RedisStore final : public Store {
 public:
  explicit RedisStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  ~RedisStore() override { impl_->stop(); }

  void async_append(std::string_view channel, std::string message, AppendOptions options,
                    AppendHandler handler) override {
    auto shared = std::make_shared<AppendHandler>(std::move(handler));
    std::string record;
    if (!options.idempotency_key.empty())
      record = redis::idempotency_record_key(impl_->key_prefix(), channel, options.idempotency_key);
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel), record = std::move(record),
                      message = std::move(message), options = std::move(options),
                      shared]() mutable {
          impl->do_append(std::move(key), std::move(record), std::move(message), std::move(options),
                          std::move(*shared));
        }))
      (*shared)(error_code(store_errc::stopped));
  }
  void async_range(std::string_view channel, RangeQuery query, RangeHandler handler) override {
    auto shared = std::make_shared<RangeHandler>(std::move(handler));
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel), query, shared]() mutable {
          impl->do_range(std::move(key), query, std::move(*shared));
        }))
      (*shared)(error_code(store_errc::stopped));
  }
  void async_latest(std::string_view channel, LatestHandler handler) override {
    auto shared = std::make_shared<LatestHandler>(std::move(handler));
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel), shared]() mutable {
          impl->do_latest(std::move(key), std::move(*shared));
        }))
      (*shared)(error_code(store_errc::stopped));
  }
  void async_info(std::string_view channel, InfoHandler handler) override {
    auto shared = std::make_shared<InfoHandler>(std::move(handler));
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel), shared]() mutable {
          impl->do_info(std::move(key), std::move(*shared));
        }))
      (*shared)(error_code(store_errc::stopped));
  }
  void start_tail(TailSink& sink) override {
    impl_->post([impl = impl_.get(), s = &sink] { impl->do_start_tail(s); });
  }
  void watch(std::string_view channel, ArmedHandler armed) override {
    auto shared = std::make_shared<ArmedHandler>(std::move(armed));
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel), shared]() mutable {
          impl->do_watch(std::move(key), std::move(*shared));
        }))
      (*shared)(error_code(store_errc::stopped));
  }
  void unwatch(std::string_view channel) override {
    impl_->post([impl = impl_.get(), key = impl_->key_of(channel)] { impl->do_unwatch(key); });
  }
  bool healthy() const override { return impl_->healthy(); }
  std::string_view name() const override { return "redis"; }
  std::uint64_t reconnects() const override { return impl_->reconnects(); }
  void stop() override { impl_->stop(); }

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace
}  // namespace redis

std::shared_ptr<Store> make_redis_store(RedisOptions options) {
  auto ep = parse_redis_url(options.url);
  if (!ep) throw std::invalid_argument("invalid Redis URL: " + options.url);
  // A prefix with a lone `{` (or an empty `{}` first) moves the hash tag of our own keys: the
  // idempotency record of an append may then sit in another cluster slot than its stream.
  if (auto open = options.key_prefix.find('{'); open != std::string::npos) {
    auto close = options.key_prefix.find('}', open + 1);
    if (close == std::string::npos || close == open + 1)
      spdlog::warn(
          "redis: key_prefix '{}' holds a '{{' without a hash tag; idempotency records may not "
          "share their stream's Redis Cluster slot (fine on a single Redis)",
          options.key_prefix);
  }
  auto impl = std::make_shared<redis::Impl>(std::move(options), std::move(*ep));
  impl->start();
  return std::make_shared<redis::RedisStore>(std::move(impl));
}

}  // namespace forrealtime
