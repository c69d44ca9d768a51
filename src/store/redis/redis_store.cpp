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
// Threading: all state below lives on the store's one io_context thread; public calls `post`.
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "forrealtime/redis_store.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/connection.hpp"

namespace forrealtime {
namespace redis {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

struct Batch;

struct Watch {
  std::string key;
  std::uint64_t gen = 0;
  std::size_t count = 0;
  /** The last id handed to the sink (or the latest id when watched); nullopt until known. */
  std::optional<StreamId> last;
  std::vector<Store::ArmedHandler> waiters;
  bool fetching = false;
  /** The key is not a stream: left out of the tail (an XREAD naming it would fail). */
  bool parked = false;
  Batch* batch = nullptr;
  std::size_t slot = 0;
};

struct Batch {
  explicit Batch(asio::io_context& ioc, std::size_t index) : index(index), timer(ioc) {}
  std::size_t index;
  std::vector<Watch*> keys;
  std::shared_ptr<Connection> conn;
  enum class State { disconnected, connecting, idle, reading } state = State::disconnected;
  bool dirty = false;
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
        backoff_(opt_.reconnect_min) {
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

  // --- commands (io thread) -------------------------------------------------------------------

  bool up() const { return phase_ == Phase::up && cmd_ && cmd_->is_open(); }
  error_code down_error() const {
    return phase_ == Phase::stopping ? error_code(store_errc::stopped)
                                     : error_code(store_errc::unavailable);
  }

  void do_append(std::string key, std::string message, AppendOptions o,
                 Store::AppendHandler handler) {
    if (!up()) return handler(down_error());
    append_xadd(cmd_->out(), key, message, o.max_length);
    if (o.expire_after_secs == 0) {
      cmd_->expect([handler = std::move(handler)](Reply r, error_code ec) {
        if (ec) return handler(ec);
        if (is_error(r.get())) return handler(error_of(r.get()));
        auto id = decode_id(r.get());
        if (!id) return handler(error_code(store_errc::protocol));
        handler(*id);
      });
    } else {
      append_expire(cmd_->out(), key, o.expire_after_secs);
      auto result = std::make_shared<Store::Result<StreamId>>(error_code(store_errc::protocol));
      cmd_->expect([result](Reply r, error_code ec) {
        if (ec)
          *result = ec;
        else if (is_error(r.get()))
          *result = error_of(r.get());
        else if (auto id = decode_id(r.get()))
          *result = *id;
      });
      cmd_->expect([result, handler = std::move(handler), key](Reply r, error_code ec) {
        // The entry is stored once XADD answered; a failed EXPIRE is worth a log, not an error.
        if (!ec && is_error(r.get()))
          spdlog::warn("redis: EXPIRE {} failed: {}", key, text(r.get()));
        handler(*result);
      });
    }
    cmd_->flush();
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
    auto it = watches_.find(key);
    if (it == watches_.end()) {
      it = watches_.emplace(key, Watch{}).first;
      it->second.key = key;
      it->second.gen = ++gen_;
    }
    Watch& w = it->second;
    ++w.count;
    if (w.parked) return armed(error_code(store_errc::protocol));
    if (w.batch && w.last && up()) return armed({});
    if (!up()) return armed(down_error());
    w.waiters.push_back(std::move(armed));
    if (!w.fetching) fetch_latest(w);
  }

  void do_unwatch(std::string_view key) {
    auto it = watches_.find(key);
    if (it == watches_.end()) return;
    Watch& w = it->second;
    if (--w.count > 0) return;
    auto waiters = std::move(w.waiters);
    if (w.batch) remove_from_batch(w);
    watches_.erase(it);
    for (auto& a : waiters) a(asio::error::operation_aborted);
  }

  void fetch_latest(Watch& w) {
    w.fetching = true;
    append_latest(cmd_->out(), w.key);
    cmd_->expect([this, key = w.key, gen = w.gen](Reply r, error_code ec) {
      auto it = watches_.find(key);
      if (it == watches_.end() || it->second.gen != gen) return;
      Watch& w = it->second;
      w.fetching = false;
      auto waiters = std::move(w.waiters);
      w.waiters.clear();
      if (ec) {
        for (auto& a : waiters) a(ec);
        return;
      }
      auto latest = decode_latest(r.get());
      if (!latest) {
        if (text(r.get()).starts_with("WRONGTYPE")) {
          spdlog::warn("redis: key {} is not a stream; its channel is not tailed", key);
          w.parked = true;
        }
        for (auto& a : waiters) a(latest.error());
        return;
      }
      if (!w.last || *w.last < *latest) w.last = *latest;
      if (!w.batch) add_to_batch(w);
      for (auto& a : waiters) a({});
    });
    cmd_->flush();
  }

  void add_to_batch(Watch& w) {
    Batch* b = nullptr;
    for (auto& candidate : batches_)
      if (candidate->keys.size() < opt_.tail_keys_per_connection) {
        b = candidate.get();
        break;
      }
    if (!b) {
      batches_.push_back(std::make_unique<Batch>(ioc_, batches_.size()));
      b = batches_.back().get();
    }
    w.batch = b;
    w.slot = b->keys.size();
    b->keys.push_back(&w);
    mark_dirty(*b);
  }

  void remove_from_batch(Watch& w) {
    Batch& b = *w.batch;
    Watch* moved = b.keys.back();
    b.keys[w.slot] = moved;
    moved->slot = w.slot;
    b.keys.pop_back();
    w.batch = nullptr;
    mark_dirty(b);
  }

  void mark_dirty(Batch& b) {
    b.dirty = true;
    switch (b.state) {
      case Batch::State::idle:
        return issue_read(b);
      case Batch::State::reading:
        return interrupt(b);
      case Batch::State::disconnected:
        if (up() && !b.keys.empty()) connect_batch(b);
        return;
      case Batch::State::connecting:
        return;
    }
  }

  void connect_batch(Batch& b) {
    b.state = Batch::State::connecting;
    Connection::Config cfg{ep_, opt_.connect_timeout, opt_.command_timeout, true,
                           "forrealtime-tail-" + std::to_string(b.index)};
    b.conn = std::make_shared<Connection>(ioc_, std::move(cfg));
    auto conn = b.conn;
    b.conn->start(
        [this, &b, conn](error_code ec) {
          if (b.conn != conn) return;
          if (ec) return go_down(ec);
          b.state = Batch::State::idle;
          issue_read(b);
        },
        [this, &b, conn](error_code ec) {
          if (b.conn != conn) return;
          go_down(ec);
        });
  }

  void issue_read(Batch& b) {
    b.dirty = false;
    b.unblock_sent = false;
    ++b.read_gen;
    if (b.keys.empty()) {
      b.state = Batch::State::idle;
      return;
    }
    keys_scratch_.clear();
    ids_scratch_.clear();
    for (Watch* w : b.keys) {
      keys_scratch_.push_back(w->key);
      ids_scratch_.push_back(*w->last);
    }
    append_xread(b.conn->out(), opt_.tail_count,
                 static_cast<std::uint64_t>(opt_.tail_block.count()), keys_scratch_, ids_scratch_);
    b.state = Batch::State::reading;
    auto conn = b.conn;
    b.conn->expect(
        [this, &b, conn](Reply r, error_code ec) {
          if (b.conn != conn || ec) return;  // a lost connection takes the store down
          on_read(b, r.get());
        },
        opt_.tail_block);
    b.conn->flush();
  }

  void on_read(Batch& b, const redisReply* r) {
    b.state = Batch::State::idle;
    if (is_error(r)) {
      spdlog::warn("redis: tail read failed: {}", text(r));
      if (text(r).starts_with("WRONGTYPE")) return check_types(b);
      // Retry later rather than spin on a persistent error.
      b.state = Batch::State::connecting;
      b.timer.expires_after(std::chrono::seconds(1));
      b.timer.async_wait([this, &b, conn = b.conn](error_code ec) {
        if (ec || b.conn != conn) return;
        b.state = Batch::State::idle;
        issue_read(b);
      });
      return;
    }
    bool ok = decode_xread(
        r, [&](std::string_view key, std::vector<StoredEntry>& entries, StreamId last) {
          auto it = watches_.find(key);
          if (it == watches_.end()) return;
          Watch& w = it->second;
          // A key that left this batch while the read was parked is read by its new batch.
          if (w.batch != &b || !w.last) return;
          StreamId from = *w.last;
          if (last > from) w.last = last;
          std::size_t skip = 0;
          while (skip < entries.size() && entries[skip].id <= from) ++skip;
          if (skip < entries.size() && sink_)
            sink_->on_entries(std::string_view(key).substr(opt_.key_prefix.size()),
                              std::span<const StoredEntry>(entries).subspan(skip));
        });
    if (!ok) spdlog::warn("redis: malformed tail reply ignored");
    issue_read(b);
  }

  // Finds the watched keys of a batch that are not streams (XREAD fails as a whole on one).
  void check_types(Batch& b) {
    b.state = Batch::State::connecting;  // no read until the check is done
    auto remaining = std::make_shared<std::size_t>(b.keys.size());
    auto conn = b.conn;
    for (Watch* w : b.keys) {
      encode_command(cmd_->out(), {"TYPE", w->key});
      cmd_->expect([this, &b, conn, remaining, key = w->key, gen = w->gen](Reply r, error_code ec) {
        if (b.conn != conn) return;
        auto t = text(r.get());
        auto it = watches_.find(key);
        if (!ec && it != watches_.end() && it->second.gen == gen && it->second.batch == &b &&
            t != "stream" && t != "none") {
          spdlog::warn("redis: key {} is a {}, not a stream; its channel is not tailed", key, t);
          it->second.parked = true;
          remove_from_batch(it->second);
        }
        if (--*remaining == 0) {
          b.state = Batch::State::idle;
          issue_read(b);
        }
      });
    }
    cmd_->flush();
  }

  void interrupt(Batch& b) {
    if (b.unblock_sent || !up() || !b.conn || b.conn->client_id() < 0) return;
    b.unblock_sent = true;
    encode_command(cmd_->out(), {"CLIENT", "UNBLOCK", std::to_string(b.conn->client_id())});
    cmd_->expect([this, &b, conn = b.conn, gen = b.read_gen](Reply r, error_code ec) {
      if (ec || b.conn != conn || b.read_gen != gen || b.state != Batch::State::reading) return;
      long long n = 0;
      if (is_error(r.get())) {
        spdlog::warn("redis: CLIENT UNBLOCK refused ({}); watch changes wait for the block timeout",
                     text(r.get()));
        return;
      }
      if (to_int(r.get(), n) && n == 1) return;
      // 0: our XREAD had not reached Redis yet (it travels on another connection). Try again.
      b.timer.expires_after(std::chrono::milliseconds(2));
      b.timer.async_wait([this, &b, conn, gen](error_code ec) {
        if (ec || b.conn != conn || b.read_gen != gen || b.state != Batch::State::reading) return;
        b.unblock_sent = false;
        interrupt(b);
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
      spdlog::info("redis {}:{}: reconnected", ep_.host, ep_.port);
      if (sink_) sink_->on_tail_resumed();
    }
    for (auto& [key, w] : watches_) {
      if (w.parked) continue;
      if (!w.last) {
        if (!w.fetching) fetch_latest(w);
      } else if (!w.batch) {
        add_to_batch(w);
      }
    }
    for (auto& b : batches_)
      if (b->state == Batch::State::disconnected && !b->keys.empty()) connect_batch(*b);
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
    for (auto& b : batches_) {
      b->timer.cancel();
      b->state = Batch::State::disconnected;
      b->unblock_sent = false;
      if (auto c = std::move(b->conn)) c->close(ec);
    }
    for (auto& [key, w] : watches_) {
      w.fetching = false;
      auto waiters = std::move(w.waiters);
      w.waiters.clear();
      for (auto& a : waiters) a(ec);
    }
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
    batches_.clear();
    watches_.clear();
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

  // io thread only
  Phase phase_ = Phase::connecting;
  std::shared_ptr<Connection> cmd_;
  asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_;
  bool error_reported_ = false;
  TailSink* sink_ = nullptr;
  std::uint64_t gen_ = 0;
  std::unordered_map<std::string, Watch, StringHash, std::equal_to<>> watches_;
  std::vector<std::unique_ptr<Batch>> batches_;
  std::vector<std::string_view> keys_scratch_;
  std::vector<StreamId> ids_scratch_;
};

class RedisStore final : public Store {
 public:
  explicit RedisStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  ~RedisStore() override { impl_->stop(); }

  void async_append(std::string_view channel, std::string message, AppendOptions options,
                    AppendHandler handler) override {
    auto shared = std::make_shared<AppendHandler>(std::move(handler));
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel),
                      message = std::move(message), options, shared]() mutable {
          impl->do_append(std::move(key), std::move(message), options, std::move(*shared));
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
  void stop() override { impl_->stop(); }

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace
}  // namespace redis

std::shared_ptr<Store> make_redis_store(RedisOptions options) {
  auto ep = parse_redis_url(options.url);
  if (!ep) throw std::invalid_argument("invalid Redis URL: " + options.url);
  auto impl = std::make_shared<redis::Impl>(std::move(options), std::move(*ep));
  impl->start();
  return std::make_shared<redis::RedisStore>(std::move(impl));
}

}  // namespace forrealtime
