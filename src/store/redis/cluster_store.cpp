// The Redis Cluster store (see cluster_store.hpp).
//
// Threading: the map is shared (a shared_ptr swapped under `map_mu_`, with a generation that
// the routers compare per call, so a call takes the mutex only after a change); everything
// else of the impl (tails, refreshes, the watch routing) lives on the store's own io_context
// thread; a router and its links live on their loop's thread.
#include "store/redis/cluster_store.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "store/redis/cluster_topology.hpp"
#include "store/redis/command_link.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/endpoint.hpp"
#include "store/redis/slot.hpp"
#include "store/redis/store_ops.hpp"
#include "store/redis/tail_io.hpp"

namespace forrealtime::redis {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using MapPtr = std::shared_ptr<const SlotMap>;
using Clock = std::chrono::steady_clock;

class ClusterImpl;

/** The command links of one loop: one per master, made on first use. */
class Router : public std::enable_shared_from_this<Router> {
 public:
  Router(asio::io_context& ioc, ClusterImpl& impl, std::string name)
      : ioc(ioc), impl(impl), name(std::move(name)) {}

  bool running_here() const { return ioc.get_executor().running_in_this_thread(); }
  /** The current map (null before the first), refreshed when it changed. */
  const SlotMap* map();
  /** The link to `node`, null once stopped. */
  std::shared_ptr<CommandLink> link(const NodeAddress& node);
  void stop();

  asio::io_context& ioc;
  ClusterImpl& impl;
  std::string name;
  bool removed = false;  // under the impl's routers_mu_
 private:
  bool stopped_ = false;
  std::uint64_t gen_ = 0;
  MapPtr map_;
  std::unordered_map<std::string, std::shared_ptr<CommandLink>> links_;
};

/** One call on its way: where it goes, how often it went, until when it may retry. */
template <class R>
struct Op {
  using Handler = std::function<void(R)>;
  std::string key;
  std::uint16_t slot = 0;
  /** A read: retried after a timeout too (an append with an unknown outcome is not). */
  bool repeatable = false;
  /** Writes the call's commands; `asking`: right after an ASKING (an ASK redirection). */
  std::function<void(CommandLink&, const std::shared_ptr<Connection>&, bool asking, Handler)> send;
  Handler handler;
  int attempts = 0;
  Clock::time_point deadline;
};

constexpr int max_attempts = 16;

class ClusterImpl : public std::enable_shared_from_this<ClusterImpl> {
 public:
  ClusterImpl(RedisOptions options, std::vector<RedisEndpoint> seeds,
              std::shared_ptr<boost::asio::ssl::context> tls)
      : opt_(std::move(options)),
        base_(seeds.front()),
        tls_(std::move(tls)),
        work_(asio::make_work_guard(ioc_)),
        refresh_timer_(ioc_),
        periodic_timer_(ioc_) {
    for (auto& s : seeds) seeds_.push_back(NodeAddress{s.host, s.port});
    base_.db = 0;
    tail_opt_ = opt_;
    // Blocking batches cannot serve a cluster (see cluster_store.hpp).
    tail_opt_.tail_wakeup = RedisOptions::TailWakeup::notifications;
    if (opt_.tail_count == 0) opt_.tail_count = tail_opt_.tail_count = 1;
  }

  ~ClusterImpl() {
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id())
        thread_.detach();
      else
        thread_.join();
    }
  }

  void start() {
    own_ = std::make_shared<Router>(ioc_, *this, "forrealtime-commands");
    post([this] {
      refresh();
      periodic();
    });
    thread_ = std::thread([self = shared_from_this()] { self->ioc_.run(); });
    thread_id_ = thread_.get_id();
  }

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
  const RedisOptions& options() const { return opt_; }

  RedisEndpoint endpoint_of(const NodeAddress& node) const {
    RedisEndpoint ep = base_;
    ep.host = node.host;
    ep.port = node.port;
    return ep;
  }
  /** Where a connection to `node` goes, with the store's TLS context (any thread). */
  std::shared_ptr<const Endpoint> target_of(const NodeAddress& node) const {
    return std::make_shared<Endpoint>(endpoint_of(node), tls_);
  }

  // --- the map (any thread) ---------------------------------------------------------------------

  std::uint64_t map_gen() const { return map_gen_.load(std::memory_order_acquire); }
  MapPtr map_snapshot(std::uint64_t& gen) const {
    std::lock_guard lock(map_mu_);
    gen = map_gen_.load(std::memory_order_relaxed);
    return map_;
  }

  /** Asks the store's thread for a new map (coalesced). */
  void request_refresh() {
    if (refresh_posted_.exchange(true)) return;
    post([this] {
      refresh_posted_ = false;
      refresh();
    });
  }

  /** A MOVED reply: the slot is `node`'s now (applied at once, then checked by a refresh). */
  void on_moved(const Redirect& r) {
    post([this, r] {
      if (map_) {
        const NodeAddress* now = map_->node_of(r.slot);
        if (!now || !(*now == r.node)) {
          SlotMap next = *map_;
          next.assign(r.slot, r.node);
          install(std::move(next));
        }
      }
      refresh();
    });
  }

  // --- routers (any thread) -----------------------------------------------------------------

  void add_worker(asio::io_context& ioc) {
    std::lock_guard lock(routers_mu_);
    if (routers_stopped_) return;
    for (auto& r : routers_)
      if (&r->ioc == &ioc) return;
    routers_.push_back(std::make_shared<Router>(
        ioc, *this, "forrealtime-worker-" + std::to_string(routers_.size())));
    routers_gen_.fetch_add(1, std::memory_order_release);
  }

  void remove_worker(asio::io_context& ioc) {
    std::shared_ptr<Router> router;
    {
      std::lock_guard lock(routers_mu_);
      for (auto& r : routers_)
        if (&r->ioc == &ioc && !r->removed) {
          r->removed = true;
          router = r;
        }
      routers_gen_.fetch_add(1, std::memory_order_release);
    }
    if (router) router->stop();
  }

  void stop_routers() {
    std::lock_guard lock(routers_mu_);
    routers_stopped_ = true;
    for (auto& r : routers_)
      if (!r->removed) asio::post(r->ioc, [r] { r->stop(); });
    routers_gen_.fetch_add(1, std::memory_order_release);
  }

  /** The router of the loop the calling thread runs, if any (cached per thread). */
  std::shared_ptr<Router> local_router() {
    struct Cached {
      std::uint64_t store = 0;
      std::uint64_t gen = 0;
      std::weak_ptr<Router> router;
    };
    thread_local Cached cached;
    auto gen = routers_gen_.load(std::memory_order_acquire);
    if (cached.store != id_ || cached.gen != gen) {
      cached = Cached{id_, gen, {}};
      std::lock_guard lock(routers_mu_);
      if (!routers_stopped_)
        for (auto& r : routers_)
          if (!r->removed && r->running_here()) cached.router = r;
    }
    auto r = cached.router.lock();
    if (r && !r->running_here()) return nullptr;
    return r;
  }
  const std::shared_ptr<Router>& own_router() const { return own_; }

  // --- the tail (store thread) ----------------------------------------------------------------

  void do_start_tail(TailSink* sink) {
    sink_ = sink;
    for (auto& [name, t] : tails_) t->tail->start(&t->sink);
  }

  void do_watch(std::string key, Store::ArmedHandler armed) {
    if (phase_stopping_) return armed(store_errc::stopped);
    for (auto& [name, t] : tails_)
      if (t->tail->watches(key)) return t->tail->watch(std::move(key), std::move(armed));
    const NodeAddress* node = map_ ? map_->node_of(key_slot(key)) : nullptr;
    if (!node) {
      // No map yet (or the slot has no master now): placed once a map says where.
      pending_watches_.emplace_back(std::move(key), std::move(armed));
      refresh();
      return;
    }
    tail_for(*node).watch(std::move(key), std::move(armed));
  }

  void do_unwatch(std::string_view key) {
    for (auto& [name, t] : tails_)
      if (t->tail->watches(key)) return t->tail->unwatch(key);
    for (auto it = pending_watches_.begin(); it != pending_watches_.end(); ++it)
      if (it->first == key) {
        auto armed = std::move(it->second);
        pending_watches_.erase(it);
        return armed(asio::error::operation_aborted);
      }
  }

  // --- life -----------------------------------------------------------------------------------

  void stop() {
    stop_routers();
    {
      std::lock_guard lock(post_mu_);
      if (stopped_) return;
      stopped_ = true;
      asio::post(ioc_, [this] { do_stop(); });
    }
    if (std::this_thread::get_id() != thread_id_ && thread_.joinable()) thread_.join();
  }

  bool healthy() const {
    return map_ok_.load(std::memory_order_relaxed) && !tail_down_.load(std::memory_order_relaxed);
  }
  std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

 private:
  /** A tail and the sink that tells the store of its losses. */
  struct NodeTail {
    struct Sink final : TailSink {
      ClusterImpl* impl;
      std::string node;
      void on_entries(std::string_view channel, std::span<const StoredEntry> entries) override {
        if (impl->sink_) impl->sink_->on_entries(channel, entries);
      }
      void on_tail_error(error_code ec) override { impl->tail_lost(node, ec); }
      void on_tail_resumed() override { impl->tail_back(node); }
    } sink;
    std::unique_ptr<Tail> tail;
  };

  Tail& tail_for(const NodeAddress& node) {
    auto name = node.name();
    auto& slot = tails_[name];
    if (!slot) {
      slot = std::make_unique<NodeTail>();
      slot->sink.impl = this;
      slot->sink.node = name;
      slot->tail = std::make_unique<Tail>(ioc_, tail_opt_, target_of(node),
                                          [this](error_code) { refresh(); });
      slot->tail->set_cluster([this] { refresh(); });
      if (sink_) slot->tail->start(&slot->sink);
    }
    return *slot->tail;
  }

  void tail_lost(const std::string& node, error_code ec) {
    bool first = down_tails_.empty();
    down_tails_.insert(node);
    tail_down_ = true;
    refresh();
    if (first && sink_) sink_->on_tail_error(ec);
  }

  void tail_back(const std::string& node) {
    if (down_tails_.erase(node) == 0 || !down_tails_.empty()) return;
    tail_down_ = false;
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    if (sink_) sink_->on_tail_resumed();
  }

  // Puts every watch in the tail of its slot's master, with its position; retires the tails of
  // nodes that are no longer masters once they hold nothing.
  void reconcile() {
    const SlotMap& map = *map_;
    std::vector<Tail::Handoff> moving;
    for (auto& [name, t] : tails_) {
      auto out = t->tail->release([&, name = name](std::string_view key) {
        const NodeAddress* n = map.node_of(key_slot(key));
        return n && n->name() != name;
      });
      for (auto& h : out) moving.push_back(std::move(h));
    }
    if (!moving.empty())
      spdlog::info("redis cluster: {} watched channel(s) move to another master", moving.size());
    for (auto& h : moving) tail_for(*map.node_of(key_slot(h.key))).adopt(std::move(h));
    std::set<std::string> masters;
    for (auto& m : map.masters) masters.insert(m.name());
    for (auto it = tails_.begin(); it != tails_.end();) {
      if (!masters.count(it->first)) {
        // No longer a master: what it still holds (keys of slots without a master) waits for
        // a map that places them.
        for (auto& h : it->second->tail->release([](std::string_view) { return true; }))
          pending_handoffs_.push_back(std::move(h));
        it->second->tail->stop();
        if (down_tails_.erase(it->first) && down_tails_.empty()) {
          tail_down_ = false;
          if (sink_) sink_->on_tail_resumed();
        }
        retired_.push_back(std::move(it->second));
        it = tails_.erase(it);
        continue;
      }
      it->second->tail->retry_pending();
      ++it;
    }
    // Watches waiting for a master (no map yet, or their slot had none).
    auto handoffs = std::move(pending_handoffs_);
    pending_handoffs_.clear();
    for (auto& h : handoffs) {
      if (const NodeAddress* n = map.node_of(key_slot(h.key)))
        tail_for(*n).adopt(std::move(h));
      else
        pending_handoffs_.push_back(std::move(h));
    }
    auto waiting = std::move(pending_watches_);
    pending_watches_.clear();
    for (auto& [key, armed] : waiting) do_watch(std::move(key), std::move(armed));
  }

  void install(SlotMap next) {
    auto p = std::make_shared<const SlotMap>(std::move(next));
    {
      std::lock_guard lock(map_mu_);
      map_ = p;
      map_gen_.fetch_add(1, std::memory_order_release);
    }
    map_ok_ = p->covered() == slot_count;
    reconcile();
  }

  // --- topology refresh (store thread) --------------------------------------------------------

  void refresh() {
    if (phase_stopping_) return;
    if (refreshing_) {
      refresh_again_ = true;
      return;
    }
    // At most one refresh per 100 ms: a storm of MOVED or lost links asks many times.
    auto now = Clock::now();
    auto next = last_refresh_ + std::chrono::milliseconds(100);
    if (now < next) {
      if (refresh_scheduled_) return;
      refresh_scheduled_ = true;
      refresh_timer_.expires_at(next);
      refresh_timer_.async_wait([this](error_code ec) {
        refresh_scheduled_ = false;
        if (!ec) refresh();
      });
      return;
    }
    last_refresh_ = now;
    refreshing_ = true;
    candidates_.clear();
    if (map_)
      for (auto& m : map_->masters) candidates_.push_back(m);
    for (auto& s : seeds_)
      if (std::find(candidates_.begin(), candidates_.end(), s) == candidates_.end())
        candidates_.push_back(s);
    ask(0);
  }

  void ask(std::size_t i) {
    if (phase_stopping_) return;
    if (i >= candidates_.size()) {
      spdlog::warn("redis cluster: no node answered CLUSTER SLOTS; trying again");
      refreshing_ = false;
      refresh_again_ = false;
      refresh_timer_.expires_after(std::chrono::milliseconds(200));
      refresh_scheduled_ = true;
      refresh_timer_.async_wait([this](error_code ec) {
        refresh_scheduled_ = false;
        if (!ec) refresh();
      });
      return;
    }
    NodeAddress node = candidates_[i];
    auto timeout = std::min(opt_.connect_timeout, std::chrono::milliseconds(1000));
    Connection::Config cfg{endpoint_of(node), timeout, opt_.command_timeout, false,
                           "forrealtime-topology"};
    cfg.target = target_of(node);
    auto conn = std::make_shared<Connection>(ioc_, std::move(cfg));
    refresh_conn_ = conn;
    conn->start(
        [this, conn, node, i](error_code ec) {
          if (refresh_conn_ != conn) return;
          if (ec) {
            refresh_conn_.reset();
            return ask(i + 1);
          }
          encode_command(conn->out(), {"CLUSTER", "SLOTS"});
          conn->expect([this, conn, node, i](Reply r, error_code ec) {
            if (refresh_conn_ != conn) return;
            refresh_conn_.reset();
            conn->close(store_errc::stopped);
            std::optional<SlotMap> map;
            if (!ec && !is_error(r.get())) map = parse_cluster_slots(r.get(), node.host);
            if (!map || map->covered() == 0) {
              if (!ec && is_error(r.get()))
                spdlog::warn("redis cluster: {}: CLUSTER SLOTS refused: {}", node.name(),
                             text(r.get()));
              return ask(i + 1);
            }
            refreshing_ = false;
            bool changed = !map_ || map_->owner != map->owner || map_->masters != map->masters;
            if (changed) {
              spdlog::info("redis cluster: {} masters, {} of {} slots served (asked {})",
                           map->masters.size(), map->covered(), slot_count, node.name());
              install(std::move(*map));
            } else {
              reconcile();
            }
            if (refresh_again_) {
              refresh_again_ = false;
              refresh();
            }
          });
          conn->flush();
        },
        [](error_code) {});
  }

  void periodic() {
    periodic_timer_.expires_after(opt_.cluster_refresh);
    periodic_timer_.async_wait([this](error_code ec) {
      if (ec || phase_stopping_) return;
      refresh();
      periodic();
    });
  }

  void do_stop() {
    phase_stopping_ = true;
    map_ok_ = false;
    refresh_timer_.cancel();
    periodic_timer_.cancel();
    if (auto c = std::move(refresh_conn_)) c->close(store_errc::stopped);
    if (own_) own_->stop();
    for (auto& [name, t] : tails_) t->tail->stop();
    for (auto& [key, armed] : pending_watches_) armed(store_errc::stopped);
    pending_watches_.clear();
    for (auto& h : pending_handoffs_)
      for (auto& a : h.waiters) a(store_errc::stopped);
    pending_handoffs_.clear();
    work_.reset();
  }

  RedisOptions opt_;
  RedisOptions tail_opt_;
  RedisEndpoint base_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::vector<NodeAddress> seeds_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::mutex post_mu_;
  bool stopped_ = false;
  std::atomic<bool> map_ok_{false};
  std::atomic<bool> tail_down_{false};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<bool> refresh_posted_{false};

  mutable std::mutex map_mu_;
  MapPtr map_;  // written on the store thread, under map_mu_
  std::atomic<std::uint64_t> map_gen_{0};

  // store thread only
  bool phase_stopping_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;
  bool refresh_scheduled_ = false;
  Clock::time_point last_refresh_{};
  std::vector<NodeAddress> candidates_;
  std::shared_ptr<Connection> refresh_conn_;
  asio::steady_timer refresh_timer_;
  asio::steady_timer periodic_timer_;
  TailSink* sink_ = nullptr;
  std::map<std::string, std::unique_ptr<NodeTail>> tails_;
  std::vector<std::unique_ptr<NodeTail>> retired_;
  std::set<std::string> down_tails_;
  std::vector<std::pair<std::string, Store::ArmedHandler>> pending_watches_;
  std::vector<Tail::Handoff> pending_handoffs_;
  std::shared_ptr<Router> own_;

  static inline std::atomic<std::uint64_t> next_id_{1};
  const std::uint64_t id_ = next_id_.fetch_add(1);
  std::mutex routers_mu_;
  std::vector<std::shared_ptr<Router>> routers_;
  std::atomic<std::uint64_t> routers_gen_{1};
  bool routers_stopped_ = false;
};

const SlotMap* Router::map() {
  if (impl.map_gen() != gen_) map_ = impl.map_snapshot(gen_);
  return map_.get();
}

std::shared_ptr<CommandLink> Router::link(const NodeAddress& node) {
  if (stopped_) return nullptr;
  auto name_of = node.name();
  auto& l = links_[name_of];
  if (!l) {
    l = std::make_shared<CommandLink>(ioc, impl.target_of(node), impl.options(),
                                      name + "-" + name_of);
    l->start();
  }
  return l;
}

void Router::stop() {
  if (stopped_) return;
  stopped_ = true;
  auto links = std::move(links_);
  links_.clear();
  for (auto& [n, l] : links) l->stop();
}

// --- one call's routing (on its router's thread) -------------------------------------------

template <class R>
void run(const std::shared_ptr<Router>& router, const std::shared_ptr<Op<R>>& op,
         std::optional<NodeAddress> to, bool asking);

template <class R>
void finish(const std::shared_ptr<Op<R>>& op, error_code ec) {
  // Cluster codes never leave the store: nothing was done.
  if (ec.category() == cluster_category()) ec = store_errc::unavailable;
  op->handler(R(ec));
}

template <class R>
void later(const std::shared_ptr<Router>& router, const std::shared_ptr<Op<R>>& op, error_code ec) {
  auto delay = std::chrono::milliseconds(std::min(20 << std::min(op->attempts, 5), 500));
  if (++op->attempts > max_attempts || Clock::now() + delay > op->deadline) return finish(op, ec);
  auto timer = std::make_shared<asio::steady_timer>(router->ioc, delay);
  timer->async_wait([timer, router, op, ec](error_code) { run(router, op, std::nullopt, false); });
}

template <class R>
void on_result(const std::shared_ptr<Router>& router, const std::shared_ptr<Op<R>>& op,
               const NodeAddress& node, R r) {
  if (r) return op->handler(std::move(r));
  error_code ec = r.error();
  if (ec.category() == cluster_category()) {
    std::optional<Redirect> redirect = std::move(last_redirect());
    last_redirect().reset();
    if ((ec == cluster_errc::moved || ec == cluster_errc::ask) && redirect) {
      if (++op->attempts > max_attempts) return finish(op, ec);
      if (redirect->node.host.empty()) redirect->node.host = node.host;
      if (ec == cluster_errc::moved) router->impl.on_moved(*redirect);
      return run(router, op, redirect->node, ec == cluster_errc::ask);
    }
    return later(router, op, ec);  // TRYAGAIN, CLUSTERDOWN
  }
  if (ec == store_errc::unavailable || (ec == store_errc::timeout && op->repeatable)) {
    // The node's link is down (nothing sent), or a read got no answer: a failover, maybe.
    router->impl.request_refresh();
    return later(router, op, ec);
  }
  op->handler(std::move(r));
}

template <class R>
void run(const std::shared_ptr<Router>& router, const std::shared_ptr<Op<R>>& op,
         std::optional<NodeAddress> to, bool asking) {
  if (!to) {
    const SlotMap* map = router->map();
    const NodeAddress* n = map ? map->node_of(op->slot) : nullptr;
    if (!n) {
      router->impl.request_refresh();
      return later(router, op, store_errc::unavailable);
    }
    to = *n;
  }
  auto link = router->link(*to);
  if (!link) return op->handler(R(error_code(store_errc::stopped)));
  auto done = std::make_shared<typename Op<R>::Handler>(
      [router, op, node = *to](R r) { on_result(router, op, node, std::move(r)); });
  link->exec(
      [op, asking, done, l = link.get()](const std::shared_ptr<Connection>& c) {
        if (asking) {
          encode_command(c->out(), {"ASKING"});
          c->expect([](Reply, error_code) {});
        }
        op->send(*l, c, asking, std::move(*done));
      },
      [done](error_code ec) { (*done)(R(ec)); });
}

template <class R>
void start_op(ClusterImpl& impl, std::shared_ptr<Op<R>> op) {
  op->slot = key_slot(op->key);
  op->deadline = Clock::now() + impl.options().command_timeout;
  if (auto router = impl.local_router()) return run(router, op, std::nullopt, false);
  auto handler = op->handler;
  if (!impl.post([&impl, op] { run(impl.own_router(), op, std::nullopt, false); }))
    handler(R(error_code(store_errc::stopped)));
}

class ClusterStore final : public Store {
 public:
  explicit ClusterStore(std::shared_ptr<ClusterImpl> impl) : impl_(std::move(impl)) {}
  ~ClusterStore() override { impl_->stop(); }

  void async_append(std::string_view channel, std::string message, AppendOptions options,
                    AppendHandler handler) override {
    auto op = std::make_shared<Op<Result<StreamId>>>();
    op->key = impl_->key_of(channel);
    std::string record;
    if (!options.idempotency_key.empty())
      record = idempotency_record_key(impl_->key_prefix(), channel, options.idempotency_key);
    WaitReplicas wait{impl_->options().wait_replicas, impl_->options().wait_timeout};
    op->send = [key = op->key, record = std::move(record), message = std::move(message),
                options = std::move(options),
                wait](CommandLink& link, const std::shared_ptr<Connection>& c, bool asking,
                      AppendHandler h) {
      // Copies: a redirected append is sent again. WAIT goes to the master that took it.
      send_append(c, link.script_sha(), key, record, message, options, std::move(h), wait, asking);
    };
    op->handler = std::move(handler);
    start_op(*impl_, std::move(op));
  }

  void async_range(std::string_view channel, RangeQuery query, RangeHandler handler) override {
    auto op = std::make_shared<Op<Result<std::vector<StoredEntry>>>>();
    op->key = impl_->key_of(channel);
    op->repeatable = true;
    op->send = [key = op->key, query](CommandLink&, const std::shared_ptr<Connection>& c, bool,
                                      RangeHandler h) { send_range(*c, key, query, std::move(h)); };
    op->handler = std::move(handler);
    start_op(*impl_, std::move(op));
  }

  void async_latest(std::string_view channel, LatestHandler handler) override {
    auto op = std::make_shared<Op<Result<StreamId>>>();
    op->key = impl_->key_of(channel);
    op->repeatable = true;
    op->send = [key = op->key](CommandLink&, const std::shared_ptr<Connection>& c, bool,
                               LatestHandler h) { send_latest(*c, key, std::move(h)); };
    op->handler = std::move(handler);
    start_op(*impl_, std::move(op));
  }

  void async_info(std::string_view channel, InfoHandler handler) override {
    auto op = std::make_shared<Op<Result<StreamInfo>>>();
    op->key = impl_->key_of(channel);
    op->repeatable = true;
    op->send = [key = op->key](CommandLink&, const std::shared_ptr<Connection>& c, bool,
                               InfoHandler h) { send_info(*c, key, std::move(h)); };
    op->handler = std::move(handler);
    start_op(*impl_, std::move(op));
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
  std::string_view name() const override { return "redis-cluster"; }
  std::uint64_t reconnects() const override { return impl_->reconnects(); }
  void stop() override { impl_->stop(); }

 private:
  std::shared_ptr<ClusterImpl> impl_;
};

}  // namespace

std::shared_ptr<Store> make_cluster_store(RedisOptions options, std::vector<RedisEndpoint> seeds,
                                          std::shared_ptr<boost::asio::ssl::context> tls) {
  if (seeds.empty()) throw std::invalid_argument("a Redis Cluster URL needs at least one node");
  if (options.tail_wakeup == RedisOptions::TailWakeup::blocking)
    throw std::invalid_argument(
        "tail_wakeup 'blocking' cannot serve a Redis Cluster (a blocking XREAD cannot span slots); "
        "use keyspace notifications");
  auto impl = std::make_shared<ClusterImpl>(std::move(options), std::move(seeds), std::move(tls));
  impl->start();
  return std::make_shared<ClusterStore>(std::move(impl));
}

}  // namespace forrealtime::redis
