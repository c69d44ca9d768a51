// The tail's connections and timers (see tail_io.hpp).
#include "store/redis/tail_io.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "store/redis/cluster_topology.hpp"
#include "store/redis/commands.hpp"

namespace forrealtime::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
/** How long the connection of a batch that lost its last key stays open. */
constexpr std::chrono::milliseconds idle_release_after{1000};
}  // namespace

std::string notify_flags_needed(std::string_view current) {
  bool k = current.find('K') != std::string_view::npos;
  bool t =
      current.find('t') != std::string_view::npos || current.find('A') != std::string_view::npos;
  if (k && t) return {};
  std::string want(current);
  if (!k) want += 'K';
  if (!t) want += 't';
  return want;
}

/** The I/O side of one blocking batch (its keys are in TailState). */
struct Tail::BatchIo {
  BatchIo(asio::io_context& ioc, std::size_t index) : index(index), timer(ioc) {}
  std::size_t index;
  std::shared_ptr<Connection> conn;
  enum class State { disconnected, connecting, idle, reading } state = State::disconnected;
  bool unblock_sent = false;
  std::uint64_t read_gen = 0;
  asio::steady_timer timer;
};

Tail::Tail(asio::io_context& ioc, const RedisOptions& options, const RedisEndpoint& endpoint,
           std::function<void(error_code)> on_lost)
    : Tail(ioc, options, std::make_shared<Endpoint>(endpoint, nullptr), std::move(on_lost)) {}

Tail::Tail(asio::io_context& ioc, const RedisOptions& options,
           std::shared_ptr<const Endpoint> target, std::function<void(error_code)> on_lost)
    : ioc_(ioc),
      opt_(options),
      target_(std::move(target)),
      ep_(target_->current()),
      on_lost_(std::move(on_lost)),
      tail_(options.tail_keys_per_connection, ep_.db),
      retry_timer_(ioc),
      sweep_timer_(ioc),
      backoff_(options.reconnect_min) {
  if (opt_.tail_keys_per_connection == 0) opt_.tail_keys_per_connection = 1;
  if (opt_.tail_count == 0) opt_.tail_count = 1;
}

Tail::~Tail() {
  *alive_ = false;
}

error_code Tail::down_error() const {
  return phase_ == Phase::stopping ? error_code(store_errc::stopped)
                                   : error_code(store_errc::unavailable);
}

void Tail::deliver(std::string_view key, std::span<const StoredEntry> entries) {
  if (sink_) sink_->on_entries(key.substr(opt_.key_prefix.size()), entries);
}

// --- connection life
// ------------------------------------------------------------------------------

void Tail::start(TailSink* sink) {
  sink_ = sink;
  if (phase_ == Phase::idle) connect();
}

void Tail::connect() {
  if (phase_ == Phase::stopping) return;
  phase_ = Phase::connecting;
  Connection::Config cfg{ep_, opt_.connect_timeout, opt_.command_timeout, false,
                         "forrealtime-tailread"};
  cfg.target = target_;
  rd_ = std::make_shared<Connection>(ioc_, std::move(cfg));
  auto conn = rd_;
  rd_->start(
      [this, conn](error_code ec) {
        if (rd_ != conn) return;
        if (ec) return go_down(ec);
        decide_mode();
      },
      [this, conn](error_code ec) {
        if (rd_ == conn) go_down(ec);
      });
}

void Tail::decide_mode() {
  using W = RedisOptions::TailWakeup;
  if (opt_.tail_wakeup == W::blocking) return use_mode(Mode::batches, "tail_wakeup is 'blocking'");
  if (wakeups_refused_ && opt_.tail_wakeup == W::automatic)
    return use_mode(Mode::batches, "the server refused what wake-ups need (see above)");
  encode_command(rd_->out(), {"CONFIG", "GET", "notify-keyspace-events"});
  rd_->expect([this, conn = rd_](Reply r, error_code ec) {
    if (ec || rd_ != conn) return;
    bool forced = opt_.tail_wakeup == W::notifications;
    if (is_error(r.get()) || size(r.get()) != 2) {
      config_readable_ = false;
      if (forced)
        return use_mode(Mode::wakeups, "tail_wakeup is 'notifications' (CONFIG GET refused: " +
                                           std::string(text(r.get())) +
                                           "; the server must send Kt notifications)");
      return use_mode(Mode::batches,
                      "cannot read notify-keyspace-events (" + std::string(text(r.get())) + ")");
    }
    config_readable_ = true;
    std::string current(text(at(r.get(), 1)));
    std::string want = notify_flags_needed(current);
    if (want.empty()) return use_mode(Mode::wakeups, "notify-keyspace-events is '" + current + "'");
    encode_command(rd_->out(), {"CONFIG", "SET", "notify-keyspace-events", want});
    rd_->expect([this, conn, current, want, forced](Reply r, error_code ec) {
      if (ec || rd_ != conn) return;
      if (!is_error(r.get())) {
        spdlog::info(
            "redis {}:{}: set notify-keyspace-events from '{}' to '{}' (keyspace notifications "
            "of streams wake the tail)",
            ep_.host, ep_.port, current, want);
        return use_mode(Mode::wakeups, "notify-keyspace-events set to '" + want + "'");
      }
      if (forced) {
        spdlog::error(
            "redis {}:{}: tail_wakeup is 'notifications' but notify-keyspace-events is '{}' and "
            "CONFIG SET refused ({}); set it to include 'Kt' on the server",
            ep_.host, ep_.port, current, text(r.get()));
        return go_down(store_errc::unavailable, false);
      }
      use_mode(Mode::batches, "notify-keyspace-events is '" + current +
                                  "' and CONFIG SET refused (" + std::string(text(r.get())) + ")");
    });
    rd_->flush();
  });
  rd_->flush();
}

void Tail::use_mode(Mode m, std::string why) {
  if (!mode_logged_ || logged_mode_ != m) {
    mode_logged_ = true;
    logged_mode_ = m;
    if (m == Mode::wakeups)
      spdlog::info(
          "redis {}:{}: the tail is woken by keyspace notifications ({}): one subscriber and one "
          "reader connection",
          ep_.host, ep_.port, why);
    else
      spdlog::warn(
          "redis {}:{}: the tail reads with blocking XREAD batches of {} keys ({}); every event "
          "makes Redis parse its batch's read again: allow 'notify-keyspace-events Kt' for a "
          "cheaper tail",
          ep_.host, ep_.port, opt_.tail_keys_per_connection, why);
  }
  mode_ = m;
  tail_.set_batched(m == Mode::batches);
  if (m == Mode::wakeups) return connect_subscriber();
  on_up();
}

void Tail::connect_subscriber() {
  Connection::Config cfg{ep_, opt_.connect_timeout, opt_.command_timeout, false,
                         "forrealtime-tailsub"};
  cfg.target = target_;
  sub_ = std::make_shared<Connection>(ioc_, std::move(cfg));
  auto conn = sub_;
  sub_->start(
      [this, conn](error_code ec) {
        if (sub_ != conn) return;
        if (ec) return go_down(ec);
        // From here on every reply is a push: confirmations, notifications, pongs. The handler
        // lives in the connection, so it holds no shared_ptr to it (that cycle leaked every
        // subscriber connection); it only runs while that connection does.
        sub_->set_push([this, c = conn.get()](Reply r) {
          if (sub_.get() == c) on_push(std::move(r));
        });
        on_up();
      },
      [this, conn](error_code ec) {
        if (sub_ == conn) go_down(ec);
      });
}

void Tail::on_up() {
  phase_ = Phase::up;
  down_ = false;
  backoff_ = opt_.reconnect_min;
  if (error_reported_) {
    error_reported_ = false;
    spdlog::info("redis {}:{}: the tail is back", ep_.host, ep_.port);
    if (sink_) sink_->on_tail_resumed();
  }
  if (mode_ == Mode::wakeups) {
    // Every key again; each is read from its position once Redis confirms its SUBSCRIBE.
    tail_.subscribe_all();
    schedule_flush();
    sweep_tick_ = 1;  // the first PING a whole tail_block from now
    sweep_loop();
    return;
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

// `lost`: a connection failed (rather than the server refusing what wake-ups need).
void Tail::go_down(error_code ec, bool lost) {
  if (phase_ == Phase::stopping || phase_ == Phase::down) return;
  bool was_up = phase_ == Phase::up;
  phase_ = Phase::down;
  down_ = true;
  spdlog::warn("redis {}:{}: tail connection {} ({}), reconnecting", ep_.host, ep_.port,
               lost ? "lost" : "closed", ec.message());
  close_all(store_errc::unavailable);
  if (was_up && !error_reported_) {
    error_reported_ = true;
    if (sink_) sink_->on_tail_error(ec ? ec : error_code(store_errc::unavailable));
  }
  if (lost && on_lost_) on_lost_(ec);
  schedule_reconnect();
}

void Tail::close_all(error_code ec) {
  if (auto c = std::move(rd_)) c->close(ec);
  if (auto c = std::move(sub_)) c->close(ec);
  sweep_timer_.cancel();
  ping_outstanding_ = false;
  for (auto& io : io_) {
    io->timer.cancel();
    io->state = BatchIo::State::disconnected;
    io->unblock_sent = false;
    if (auto c = std::move(io->conn)) c->close(ec);
  }
  tail_.reset_subscriptions();
  tail_.for_each([ec](TailWatch& w) {
    w.fetching = false;
    auto waiters = std::move(w.waiters);
    w.waiters.clear();
    for (auto& a : waiters) a(ec);
  });
}

void Tail::schedule_reconnect() {
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, opt_.reconnect_max);
  retry_timer_.async_wait([this](error_code ec) {
    if (ec || phase_ == Phase::stopping) return;
    connect();
  });
}

void Tail::reconnect_now() {
  if (phase_ == Phase::idle || phase_ == Phase::stopping) return;
  if (phase_ != Phase::down) go_down(store_errc::unavailable, false);
  retry_timer_.cancel();
  backoff_ = opt_.reconnect_min;
  connect();
}

void Tail::stop() {
  phase_ = Phase::stopping;
  retry_timer_.cancel();
  close_all(store_errc::stopped);
  io_.clear();
  tail_ = TailState(opt_.tail_keys_per_connection, ep_.db);
  sink_ = nullptr;
}

// --- watches
// --------------------------------------------------------------------------------------

bool Tail::ready(const TailWatch& w) const {
  if (!w.position) return false;
  return mode_ == Mode::batches ? w.batch != TailState::none : w.sub == TailWatch::Sub::confirmed;
}

void Tail::watch(std::string key, Store::ArmedHandler armed) {
  bool is_new = tail_.find(key) == nullptr;
  TailWatch& w = tail_.add_watcher(key);
  if (is_new && tail_.watch_count() > opt_.max_watched_channels) w.over_cap = true;
  if (w.over_cap) {
    refuse_over_cap(key);
    return armed(error_code(store_errc::limit_reached));
  }
  if (w.parked) return armed(error_code(store_errc::protocol));
  if (phase_ == Phase::idle) connect();
  if (up() && ready(w)) return armed({});
  // Down after having been up (or stopping): fail fast; the watch stays counted and is
  // established when the tail is back. Still connecting the first time: wait for it.
  if (phase_ == Phase::down || phase_ == Phase::stopping ||
      (phase_ == Phase::connecting && error_reported_))
    return armed(down_error());
  w.waiters.push_back(std::move(armed));
  if (up()) begin(w);
}

void Tail::begin(TailWatch& w) {
  if (mode_ == Mode::batches) {
    if (!w.position && !w.fetching) fetch_latest(w);
    return;
  }
  if (w.sub == TailWatch::Sub::none) {
    tail_.subscribe(w);
    schedule_flush();
  } else if (w.sub == TailWatch::Sub::confirmed && !w.position && !w.fetching) {
    fetch_latest(w);
  }
}

void Tail::refuse_over_cap(std::string_view key) {
  ++refused_;
  auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ < std::chrono::seconds(1)) return;
  last_refusal_log_ = now;
  spdlog::warn(
      "redis: cannot watch '{}': this process watches {} channels, the cap "
      "(max_watched_channels = {}); {} watch(es) refused so far",
      key, tail_.watch_count() - 1, opt_.max_watched_channels, refused_);
}

void Tail::unwatch(std::string_view key) {
  std::vector<Store::ArmedHandler> orphans;
  std::size_t b = tail_.remove_watcher(key, orphans);  // queues its UNSUBSCRIBE
  if (b != TailState::none) mark_dirty(b);
  schedule_flush();
  for (auto& a : orphans) a(asio::error::operation_aborted);
}

// The position a watch starts from. With wake-ups it is read only after the SUBSCRIBE was
// confirmed, so every later entry is notified.
void Tail::fetch_latest(TailWatch& w) {
  if (!up()) return;
  w.fetching = true;
  append_latest(rd_->out(), w.key);
  rd_->expect([this, conn = rd_, key = w.key, gen = w.gen](Reply r, error_code ec) {
    if (rd_ != conn) return;
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
    if (!latest && on_moved_ && latest.error().category() == cluster_category()) {
      // The slot left this node: the store moves the watch (waiters included) once its map
      // says where to; meanwhile it waits.
      w->waiters = std::move(waiters);
      on_moved_();
      return;
    }
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
  rd_->flush();
}

// --- cluster
// --------------------------------------------------------------------------------------

void Tail::set_cluster(std::function<void()> on_moved) {
  on_moved_ = std::move(on_moved);
  tail_.set_one_slot(true);
}

std::vector<Tail::Handoff> Tail::release(const std::function<bool(std::string_view)>& leaves) {
  std::vector<std::string> keys;
  tail_.for_each([&](TailWatch& w) {
    if (leaves(w.key)) keys.push_back(w.key);
  });
  std::vector<Handoff> out;
  for (auto& key : keys) {
    TailWatch* w = tail_.find(key);
    Handoff h{key, w->count, w->position, std::move(w->waiters)};
    w->waiters.clear();
    w->count = 1;
    std::vector<Store::ArmedHandler> none;
    std::size_t b = tail_.remove_watcher(key, none);  // queues its UNSUBSCRIBE
    if (b != TailState::none) mark_dirty(b);
    out.push_back(std::move(h));
  }
  if (!out.empty()) schedule_flush();
  return out;
}

void Tail::adopt(Handoff h) {
  bool is_new = tail_.find(h.key) == nullptr;
  TailWatch& w = tail_.add_watcher(h.key);
  w.count += h.count - 1;
  if (h.position) tail_.place(w, *h.position);
  for (auto& a : h.waiters) w.waiters.push_back(std::move(a));
  if (phase_ == Phase::idle) connect();
  if (!up()) return;
  if (!is_new && ready(w)) {
    // Already watched here: read from the older position too (entries above it are
    // delivered; the position never goes back, so nothing twice).
    auto waiters = std::move(w.waiters);
    w.waiters.clear();
    for (auto& a : waiters) a({});
    tail_.wake(w.key);
    return schedule_flush();
  }
  begin(w);
}

void Tail::retry_pending() {
  if (!up()) return;
  for (auto& key : stalled_) tail_.wake(key);
  stalled_.clear();
  schedule_flush();
  tail_.for_each([this](TailWatch& w) {
    if (!w.position && !w.fetching && !w.parked && !w.over_cap && !w.waiters.empty() &&
        w.sub == TailWatch::Sub::confirmed)
      fetch_latest(w);
  });
}

// --- wake-ups
// -------------------------------------------------------------------------------------

void Tail::on_push(Reply r) {
  TailPush p = tail_.decode_push(r.get());
  switch (p.kind) {
    case TailPush::Kind::message:
      // Only XADD adds entries; XTRIM (MAXLEN), XDEL, XSETID ... need no read.
      if (p.event == "xadd") {
        tail_.wake(p.key);
        schedule_flush();
      }
      return;
    case TailPush::Kind::subscribed:
    case TailPush::Kind::unsubscribed:
      if (TailWatch* w = tail_.on_subscription_reply(p.key)) {
        if (w->position)
          tail_.wake(w->key);  // back after a reconnect: read what was written meanwhile
        else if (!w->fetching)
          fetch_latest(*w);
        schedule_flush();
      }
      return;
    case TailPush::Kind::pong:
      ping_outstanding_ = false;
      return;
    case TailPush::Kind::other:
      if (is_error(r.get())) {
        // ACL channel rules (NOPERM) or anything else that refuses a subscription: the keys
        // would never be confirmed. Batches need no subscription.
        spdlog::error("redis {}:{}: the tail's subscription was refused: {}", ep_.host, ep_.port,
                      text(r.get()));
        if (opt_.tail_wakeup == RedisOptions::TailWakeup::automatic) wakeups_refused_ = true;
        go_down(store_errc::unavailable, false);
      }
      return;
  }
}

void Tail::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  // After the handlers of this loop turn: the notifications of one read from the subscriber
  // become one write of reads.
  asio::post(ioc_, [this, alive = alive_] {
    if (!*alive) return;
    flush_posted_ = false;
    flush();
  });
}

void Tail::flush() {
  if (!up() || mode_ != Mode::wakeups) return;
  if (sub_ && sub_->is_open() && tail_.encode_subscriptions(sub_->out())) sub_->flush();
  TailTicket ticket;
  bool any = false;
  while (
      tail_.encode_wake_read(opt_.tail_keys_per_connection, opt_.tail_count, rd_->out(), ticket)) {
    any = true;
    rd_->expect([this, conn = rd_, ticket = std::move(ticket)](Reply r, error_code ec) {
      if (ec || rd_ != conn) return;  // a lost connection takes the tail down
      on_wake_read(ticket, r.get());
    });
    ticket = {};
  }
  if (any) rd_->flush();
}

void Tail::on_wake_read(const TailTicket& ticket, const redisReply* r) {
  if (is_error(r) && on_moved_ &&
      (text(r).starts_with("MOVED ") || text(r).starts_with("ASK ") ||
       text(r).starts_with("TRYAGAIN") || text(r).starts_with("CLUSTERDOWN"))) {
    // The slot is moving or moved, or the cluster is failing over: the store asks for the map,
    // moves the watches whose slot left this node (the new tail reads from the position), and
    // `retry_pending` reads again those that stayed.
    tail_.abandon(ticket);
    for (auto& [key, gen] : ticket) stalled_.push_back(key);
    on_moved_();
    return;
  }
  if (is_error(r)) {
    tail_.abandon(ticket);
    spdlog::warn("redis: tail read failed: {}", text(r));
    auto keys = ticket;
    if (text(r).starts_with("WRONGTYPE"))
      return check_types(std::move(keys), [this, keys] {
        for (auto& [key, gen] : keys) tail_.wake(key);
        schedule_flush();
      });
    // Retry later rather than spin on a persistent error; the sweep reads them again.
    return;
  }
  if (!tail_.apply_wake_read(
          ticket, opt_.tail_count, r,
          [this](std::string_view key, std::span<const StoredEntry> e) { deliver(key, e); }))
    spdlog::warn("redis: malformed tail reply ignored");
  if (tail_.dirty_count()) schedule_flush();
}

// Finds the watched keys that are not streams (XREAD fails as a whole on one) and parks them.
void Tail::check_types(std::vector<std::pair<std::string, std::uint64_t>> keys,
                       std::function<void()> then) {
  if (keys.empty() || !up()) return then();
  auto remaining = std::make_shared<std::size_t>(keys.size());
  auto done = std::make_shared<std::function<void()>>(std::move(then));
  for (auto& [key, gen] : keys) {
    encode_command(rd_->out(), {"TYPE", key});
    rd_->expect([this, conn = rd_, remaining, done, key = key, gen = gen](Reply r, error_code ec) {
      if (rd_ != conn) return;
      auto t = text(r.get());
      TailWatch* w = tail_.find(key, gen);
      if (!ec && w && t != "stream" && t != "none") {
        spdlog::warn("redis: key {} is a {}, not a stream; its channel is not tailed", key, t);
        std::size_t b = tail_.park(*w);
        (void)b;  // the batch that lost it is being re-read by the caller
      }
      if (--*remaining == 0) (*done)();
    });
  }
  rd_->flush();
}

void Tail::sweep_loop() {
  sweep_timer_.expires_after(std::max<std::chrono::milliseconds>(opt_.tail_block / sweep_parts,
                                                                 std::chrono::milliseconds(1)));
  sweep_timer_.async_wait([this, conn = rd_](error_code ec) {
    if (ec || rd_ != conn || !up() || mode_ != Mode::wakeups) return;
    std::size_t part = sweep_tick_++ % sweep_parts;
    if (part == 0) {
      // Once per tail_block: the subscriber must have answered the last PING.
      if (ping_outstanding_) {
        spdlog::warn("redis {}:{}: the tail's subscriber did not answer PING", ep_.host, ep_.port);
        return go_down(store_errc::timeout);
      }
      if (sub_ && sub_->is_open()) {
        encode_command(sub_->out(), {"PING"});
        ping_outstanding_ = true;
        sub_->flush();
      }
      if (config_readable_) check_config();
    }
    // The sweep, a share of the keys per tick: whatever a lost notification (or notifications
    // switched off) left behind.
    tail_.wake_share(part, sweep_parts);
    schedule_flush();
    sweep_loop();
  });
}

// Someone switched notifications off: switch them on again, or fall back to batches.
void Tail::check_config() {
  encode_command(rd_->out(), {"CONFIG", "GET", "notify-keyspace-events"});
  rd_->expect([this, conn = rd_](Reply r, error_code ec) {
    if (ec || rd_ != conn || is_error(r.get()) || size(r.get()) != 2) return;
    std::string current(text(at(r.get(), 1)));
    std::string want = notify_flags_needed(current);
    if (want.empty()) return;
    spdlog::warn("redis {}:{}: notify-keyspace-events changed to '{}'; setting '{}'", ep_.host,
                 ep_.port, current, want);
    encode_command(rd_->out(), {"CONFIG", "SET", "notify-keyspace-events", want});
    rd_->expect([this, conn](Reply r, error_code ec) {
      if (ec || rd_ != conn) return;
      if (!is_error(r.get())) {
        tail_.wake_all();  // what was written while they were off
        return schedule_flush();
      }
      spdlog::error("redis {}:{}: cannot set notify-keyspace-events again ({})", ep_.host, ep_.port,
                    text(r.get()));
      if (opt_.tail_wakeup == RedisOptions::TailWakeup::automatic) wakeups_refused_ = true;
      go_down(store_errc::unavailable, false);
    });
    rd_->flush();
  });
  rd_->flush();
}

// --- blocking batches
// -----------------------------------------------------------------------------

Tail::BatchIo& Tail::io_of(std::size_t b) {
  while (io_.size() <= b) io_.push_back(std::make_unique<BatchIo>(ioc_, io_.size()));
  return *io_[b];
}

// The keys of batch b changed: the read must name the new set, now.
void Tail::mark_dirty(std::size_t b) {
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

void Tail::connect_batch(BatchIo& io) {
  io.state = BatchIo::State::connecting;
  Connection::Config cfg{ep_, opt_.connect_timeout, opt_.command_timeout, true,
                         "forrealtime-tail-" + std::to_string(io.index)};
  cfg.target = target_;
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

void Tail::issue_read(BatchIo& io) {
  io.unblock_sent = false;
  ++io.read_gen;
  if (!io.conn || !tail_.batched() ||
      !tail_.encode_read(io.index, opt_.tail_count,
                         static_cast<std::uint64_t>(opt_.tail_block.count()), io.conn->out())) {
    // Nothing to read: nothing left blocked in Redis, and the connection goes after a grace
    // (defect 7: it used to stay forever, so connections followed the peak of channels ever
    // watched). The grace spares a connect to a batch that empties and refills at once.
    io.state = BatchIo::State::idle;
    io.timer.expires_after(idle_release_after);
    io.timer.async_wait([this, &io, conn = io.conn](error_code ec) {
      if (ec || io.conn != conn || io.state != BatchIo::State::idle) return;
      if (!tail_.batched() || io.index >= tail_.batch_count() || tail_.batch_size(io.index) == 0)
        release(io);
    });
    return;
  }
  io.timer.cancel();  // in idle or fresh state the timer is only the release grace
  io.state = BatchIo::State::reading;
  io.conn->expect(
      [this, &io, conn = io.conn](Reply r, error_code ec) {
        if (io.conn != conn || ec) return;  // a lost connection takes the tail down
        on_read(io, r.get());
      },
      opt_.tail_block);
  io.conn->flush();
}

// Closes the connection of an empty batch; it reconnects when the batch gains a key.
void Tail::release(BatchIo& io) {
  io.timer.cancel();
  io.state = BatchIo::State::disconnected;
  io.unblock_sent = false;
  if (auto c = std::move(io.conn)) c->close(asio::error::operation_aborted);
}

void Tail::on_read(BatchIo& io, const redisReply* r) {
  io.state = BatchIo::State::idle;
  if (is_error(r)) {
    spdlog::warn("redis: tail read failed: {}", text(r));
    if (text(r).starts_with("WRONGTYPE")) {
      io.state = BatchIo::State::connecting;  // no read until the check is done
      std::vector<std::pair<std::string, std::uint64_t>> keys;
      for (const TailWatch* w : tail_.batch_keys(io.index)) keys.emplace_back(w->key, w->gen);
      return check_types(std::move(keys), [this, &io, conn = io.conn] {
        if (io.conn != conn) return;
        io.state = BatchIo::State::idle;
        issue_read(io);
      });
    }
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
  bool ok = tail_.apply_read(io.index, r,
                             [this](std::string_view key, auto entries) { deliver(key, entries); });
  if (!ok) spdlog::warn("redis: malformed tail reply ignored");
  issue_read(io);
}

// Wakes the parked read of a batch so that it is re-issued with the batch's new keys.
void Tail::interrupt(BatchIo& io) {
  if (io.unblock_sent || !up() || !io.conn || io.conn->client_id() < 0) return;
  io.unblock_sent = true;
  encode_command(rd_->out(), {"CLIENT", "UNBLOCK", std::to_string(io.conn->client_id())});
  rd_->expect([this, &io, conn = io.conn, gen = io.read_gen](Reply r, error_code ec) {
    if (ec || io.conn != conn || io.read_gen != gen || io.state != BatchIo::State::reading) return;
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
  rd_->flush();
}

}  // namespace forrealtime::redis
