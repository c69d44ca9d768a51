// The Redis Store: commands pipelined on one connection, and the live tail (tail_io.hpp, on
// connections of its own).
//
// Connections go where the store's Endpoint says (endpoint.hpp: the URL's node, over TLS for
// `rediss://`; with `redis+sentinel://`, the master the sentinels name, sentinel.hpp: when it
// moves, `master_moved` re-establishes the command connection, the workers' links and the tail).
//
// Appends, ranges, latest ids and infos are the commands of store_ops.hpp (XADD; EXPIRE only
// after an XADD that succeeded; the append script for idempotency keys). A call made on a
// thread running a worker's loop (`add_worker`) is sent on that loop's command link
// (command_link.hpp): no thread hop, one write per loop turn. Any other call is posted to the
// store's own thread and sent on its command connection. A command sent whose reply never came
// completes with `timeout`: it may have been executed.
//
// Failure: any connection lost (the command connection, or one of the tail's, which tells us)
// makes the store unhealthy and drops the command connection (commands fail fast with
// `unavailable`) until it reconnects with backoff; the tail reports its own losses to the sink
// and reconnects on its own, and the store is unhealthy while either is down.
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
#include "store/redis/cluster_store.hpp"
#include "store/redis/command_link.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/endpoint.hpp"
#include "store/redis/sentinel.hpp"
#include "store/redis/slot.hpp"
#include "store/redis/store_ops.hpp"
#include "store/redis/tail_io.hpp"

namespace forrealtime {
namespace redis {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(RedisOptions options, std::shared_ptr<Endpoint> target)
      : opt_(std::move(options)),
        target_(std::move(target)),
        ep_(target_->current()),
        work_(asio::make_work_guard(ioc_)),
        retry_timer_(ioc_),
        backoff_(opt_.reconnect_min),
        tail_(ioc_, opt_, target_, [this](error_code ec) { go_down(ec); }) {
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

  /** Sentinel: before `start`. */
  void use_sentinel(RedisSentinelUrl url) {
    target_->set_require_master(true);
    sentinel_ =
        std::make_shared<Sentinel>(ioc_, std::move(url), opt_, target_, [this] { master_moved(); });
  }

  void start() {
    auto self = shared_from_this();
    if (sentinel_) post([this] { sentinel_->start(); });
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
    stop_links();
    {
      std::lock_guard lock(post_mu_);
      if (stopped_) return;
      stopped_ = true;
      asio::post(ioc_, [this] { do_stop(); });
    }
    if (std::this_thread::get_id() != thread_id_ && thread_.joinable()) thread_.join();
  }

  bool healthy() const { return healthy_.load(std::memory_order_relaxed) && !tail_.down(); }
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
    send_append(cmd_, script_sha_, std::move(key), std::move(record), std::move(message), o,
                std::move(handler), {opt_.wait_replicas, opt_.wait_timeout});
    cmd_->flush();
  }

  void do_range(std::string key, RangeQuery q, Store::RangeHandler handler) {
    if (!up()) return handler(down_error());
    send_range(*cmd_, key, q, std::move(handler));
    cmd_->flush();
  }

  void do_latest(std::string key, Store::LatestHandler handler) {
    if (!up()) return handler(down_error());
    send_latest(*cmd_, key, std::move(handler));
    cmd_->flush();
  }

  void do_info(std::string key, Store::InfoHandler handler) {
    if (!up()) return handler(down_error());
    send_info(*cmd_, key, std::move(handler));
    cmd_->flush();
  }

  // --- command links on the workers' loops (any thread) ----------------------------------------

  void add_worker(asio::io_context& ioc) {
    std::lock_guard lock(workers_mu_);
    if (stopped_links_) return;
    for (auto& l : links_)
      if (&l->context() == &ioc) return;
    auto link = std::make_shared<CommandLink>(
        ioc, target_, opt_, "forrealtime-worker-" + std::to_string(links_.size()));
    links_.push_back(link);
    links_gen_.fetch_add(1, std::memory_order_release);
    asio::post(ioc, [link] { link->start(); });
  }

  // The loop no longer runs: its link closes (pending calls complete), and calls made on that
  // thread from now on go through the store's own thread. The link object stays (a thread may
  // still have it cached) but is stopped.
  void remove_worker(asio::io_context& ioc) {
    std::shared_ptr<CommandLink> link;
    {
      std::lock_guard lock(workers_mu_);
      for (auto& l : links_)
        if (&l->context() == &ioc && !l->removed) {
          l->removed = true;
          link = l;
        }
      links_gen_.fetch_add(1, std::memory_order_release);
    }
    if (link) link->stop();
  }

  // Stops every link whose loop still runs, on its own thread; a loop that no longer runs is
  // the gateway's to remove (remove_worker), before it is destroyed.
  void stop_links() {
    std::lock_guard lock(workers_mu_);
    stopped_links_ = true;
    for (auto& l : links_)
      if (!l->removed) asio::post(l->context(), [l] { l->stop(); });
    links_gen_.fetch_add(1, std::memory_order_release);
  }

  /** The command link of the loop the calling thread is running, if any. One thread-local
   *  look-up per call; the mutex only when the set of links changed since this thread looked. */
  CommandLink* local_link() {
    struct Cached {
      std::uint64_t store = 0;
      std::uint64_t gen = 0;
      CommandLink* link = nullptr;
    };
    thread_local Cached cached;
    auto gen = links_gen_.load(std::memory_order_acquire);
    if (cached.store != id_ || cached.gen != gen) {
      cached = Cached{id_, gen, nullptr};
      std::lock_guard lock(workers_mu_);
      if (!stopped_links_)
        for (auto& l : links_)
          if (!l->removed && l->running_here()) cached.link = l.get();
    }
    if (cached.link && !cached.link->running_here()) return nullptr;
    return cached.link;
  }

  // --- the tail (io thread): tail_io.hpp ------------------------------------------------------

  void do_start_tail(TailSink* sink) { tail_.start(sink); }
  void do_watch(std::string key, Store::ArmedHandler armed) {
    tail_.watch(std::move(key), std::move(armed));
  }
  void do_unwatch(std::string_view key) { tail_.unwatch(key); }

  // --- connection life (io thread) ------------------------------------------------------------

  void connect() {
    if (phase_ == Phase::stopping) return;
    phase_ = Phase::connecting;
    Connection::Config cfg{ep_, opt_.connect_timeout, opt_.command_timeout, false,
                           "forrealtime-commands"};
    cfg.target = target_;
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
    if (lost_) {
      lost_ = false;
      reconnects_.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("redis {}:{}: reconnected", ep_.host, ep_.port);
    }
  }

  void go_down(error_code ec) {
    if (phase_ == Phase::stopping || phase_ == Phase::down) return;
    bool was_up = phase_ == Phase::up;
    phase_ = Phase::down;
    healthy_ = false;
    spdlog::warn("redis {}:{}: connection lost ({}), reconnecting", ep_.host, ep_.port,
                 ec.message());
    close_all(store_errc::unavailable);
    if (was_up) lost_ = true;
    schedule_reconnect();
  }

  void close_all(error_code ec) {
    if (auto c = std::move(cmd_)) c->close(ec);
  }

  void schedule_reconnect() {
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, opt_.reconnect_max);
    retry_timer_.async_wait([this](error_code ec) {
      if (ec || phase_ == Phase::stopping) return;
      connect();
    });
  }

  // Sentinel named another master: every connection goes there now. What was sent to the old
  // one completes with `timeout` (it may have run), the rest with `unavailable`.
  void master_moved() {
    if (phase_ == Phase::stopping) return;
    healthy_ = false;
    if (auto c = std::move(cmd_)) c->close(store_errc::unavailable);
    if (phase_ == Phase::up) lost_ = true;
    phase_ = Phase::down;
    retry_timer_.cancel();
    backoff_ = opt_.reconnect_min;
    connect();
    tail_.reconnect_now();
    std::lock_guard lock(workers_mu_);
    for (auto& l : links_)
      if (!l->removed) asio::post(l->context(), [l] { l->reconnect_now(); });
  }

  void do_stop() {
    phase_ = Phase::stopping;
    if (sentinel_) sentinel_->stop();
    healthy_ = false;
    retry_timer_.cancel();
    close_all(store_errc::stopped);
    tail_.stop();
    work_.reset();
  }

 private:
  enum class Phase { connecting, up, down, stopping };

  RedisOptions opt_;
  std::shared_ptr<Endpoint> target_;
  RedisEndpoint ep_;  // as at start, for logs
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
  bool lost_ = false;                   // went down after being up: the next up is a reconnect
  std::shared_ptr<Sentinel> sentinel_;  // redis+sentinel:// only
  Tail tail_;

  // the workers' command links (any thread, under workers_mu_; links_gen_ tells threads that
  // cached a look-up that the set changed)
  static inline std::atomic<std::uint64_t> next_id_{1};
  const std::uint64_t id_ = next_id_.fetch_add(1);
  std::mutex workers_mu_;
  std::vector<std::shared_ptr<CommandLink>> links_;
  std::atomic<std::uint64_t> links_gen_{1};
  bool stopped_links_ = false;
};

class RedisStore final : public Store {
 public:
  explicit RedisStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  ~RedisStore() override { impl_->stop(); }

  void async_append(std::string_view channel, std::string message, AppendOptions options,
                    AppendHandler handler) override {
    if (auto* link = impl_->local_link()) {
      std::string record;
      if (!options.idempotency_key.empty())
        record =
            redis::idempotency_record_key(impl_->key_prefix(), channel, options.idempotency_key);
      return link->append(impl_->key_of(channel), std::move(record), std::move(message), options,
                          std::move(handler));
    }
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
    if (auto* link = impl_->local_link())
      return link->range(impl_->key_of(channel), query, std::move(handler));
    auto shared = std::make_shared<RangeHandler>(std::move(handler));
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel), query, shared]() mutable {
          impl->do_range(std::move(key), query, std::move(*shared));
        }))
      (*shared)(error_code(store_errc::stopped));
  }
  void async_latest(std::string_view channel, LatestHandler handler) override {
    if (auto* link = impl_->local_link())
      return link->latest(impl_->key_of(channel), std::move(handler));
    auto shared = std::make_shared<LatestHandler>(std::move(handler));
    if (!impl_->post([impl = impl_.get(), key = impl_->key_of(channel), shared]() mutable {
          impl->do_latest(std::move(key), std::move(*shared));
        }))
      (*shared)(error_code(store_errc::stopped));
  }
  void async_info(std::string_view channel, InfoHandler handler) override {
    if (auto* link = impl_->local_link())
      return link->info(impl_->key_of(channel), std::move(handler));
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
  void add_worker(boost::asio::io_context& ioc) override { impl_->add_worker(ioc); }
  void remove_worker(boost::asio::io_context& ioc) override { impl_->remove_worker(ioc); }
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
  if (options.url.starts_with("redis-cluster://") || options.url.starts_with("rediss-cluster://")) {
    auto seeds = parse_redis_cluster_url(options.url);
    if (!seeds) throw std::invalid_argument("invalid Redis Cluster URL: " + options.url);
    auto tls = seeds->front().tls ? redis::make_tls_context(options.tls) : nullptr;
    return redis::make_cluster_store(std::move(options), std::move(*seeds), std::move(tls));
  }
  std::optional<RedisSentinelUrl> sentinel;
  boost::system::result<RedisEndpoint> ep;
  if (options.url.starts_with("redis+sentinel:") || options.url.starts_with("rediss+sentinel:")) {
    auto s = parse_redis_sentinel_url(options.url);
    if (!s) throw std::invalid_argument("invalid Redis Sentinel URL: " + options.url);
    ep = s->node;
    sentinel = std::move(*s);
  } else {
    ep = parse_redis_url(options.url);
  }
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
  // rediss://: the TLS context, its files loaded now (a missing CA file fails here).
  auto tls = ep->tls ? redis::make_tls_context(options.tls) : nullptr;
  auto target = std::make_shared<redis::Endpoint>(std::move(*ep), std::move(tls));
  auto impl = std::make_shared<redis::Impl>(std::move(options), std::move(target));
  if (sentinel) impl->use_sentinel(std::move(*sentinel));
  impl->start();
  return std::make_shared<redis::RedisStore>(std::move(impl));
}

}  // namespace forrealtime
