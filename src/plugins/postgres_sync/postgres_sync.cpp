// The postgresSync plugin: one thread, one io_context, one libpq connection. A single coroutine
// (`run`) connects with backoff, installs the triggers once, LISTENs, and then either drains
// the outbox (durable mode) or turns notification payloads into events (notify mode).
//
// Durable mode, the order of a round (the guarantee in postgres_sync.hpp rests on it):
//   1. DELETE the ids emitted in the previous round whose DELETE did not run (connection lost);
//   2. SELECT the oldest remaining rows of our tables (no `id > cursor`: a transaction that got
//      a smaller id but committed later is still read, at the next round);
//   3. emit them in id order, wait until the store acknowledged every one;
//   4. DELETE exactly the acknowledged (and the filtered-out) ids.
// A crash of this process between 3 and 4 re-emits that round; nothing else can duplicate or
// lose a committed change. A store failure keeps the row (retried); a refused event (schema)
// is logged, counted and dropped so that it cannot block the outbox.
// Several gateways on one database: a session advisory lock elects the one that drains.
#include "forrealtime/postgres_sync.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/names.hpp"
#include "plugins/postgres_sync/change.hpp"
#include "plugins/postgres_sync/pg_connection.hpp"
#include "plugins/postgres_sync/sql.hpp"

namespace forrealtime {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace std::chrono_literals;

std::string_view to_string(PgOp op) {
  switch (op) {
    case PgOp::insert:
      return "INSERT";
    case PgOp::update:
      return "UPDATE";
    case PgOp::del:
      return "DELETE";
  }
  return "?";
}

std::optional<std::string> validate(const PostgresSyncOptions& o) {
  if (auto e = pg::check_identifier("pg_schema", o.pg_schema)) return e;
  if (o.tables.empty()) return "postgresSync needs at least one table";
  std::vector<std::string_view> seen;
  for (auto& t : o.tables) {
    if (auto e = pg::check_identifier("table name", t.name, pg::kMaxTableName)) return e;
    for (auto s : seen)
      if (s == t.name) return "table '" + t.name + "' is listed twice";
    seen.push_back(t.name);
  }
  // A channel that every emit would refuse would empty the outbox into the void.
  if (!o.realtime_channel.empty())
    if (auto e = core::check_channel(o.realtime_channel)) return "realtime_channel: " + *e;
  for (auto& t : o.tables)
    if (!t.realtime_channel.empty())
      if (auto e = core::check_channel(t.realtime_channel))
        return "realtime_channel of " + t.name + ": " + *e;
  if (o.connection.empty()) return "postgresSync needs a connection string (DATABASE_URL)";
  if (o.batch_size == 0 || o.batch_size > 100000) return "batch_size must be 1-100000";
  return std::nullopt;
}

struct PostgresSync::Impl : std::enable_shared_from_this<PostgresSync::Impl> {
  struct Table {
    std::string name;
    std::string channel;
    std::string event_prefix;  // "<table>."
    std::function<bool(const json::object&, PgOp)> filter;
  };

  explicit Impl(PostgresSyncOptions o)
      : opts(std::move(o)),
        conn(ioc.get_executor()),
        idle_timer(ioc),
        sleep_timer(ioc),
        ack_timer(ioc),
        force_timer(ioc) {
    for (auto& t : opts.tables) {
      auto ch = !t.realtime_channel.empty()      ? t.realtime_channel
                : !opts.realtime_channel.empty() ? opts.realtime_channel
                                                 : t.name;
      tables.emplace(t.name, Table{t.name, ch, t.name + ".", t.filter});
      names.push_back(t.name);
    }
  }

  PostgresSyncOptions opts;
  PluginContext* ctx = nullptr;
  std::unordered_map<std::string, Table> tables;
  std::vector<std::string> names;

  asio::io_context ioc{1};
  pg::Connection conn;
  asio::steady_timer idle_timer, sleep_timer, ack_timer, force_timer;
  std::thread thread;
  std::mutex mu;  // start/stop
  bool running = false;

  // State of the io thread.
  bool stopping = false;
  bool draining = false;
  bool installed = false;
  bool leader = false;
  bool told_not_leader = false;
  std::uint64_t idle_gen = 0;
  bool tick = false;
  std::size_t inflight = 0;
  bool transient_failure = false;
  std::vector<std::string> done_ids;  // emitted or filtered, not yet deleted

  std::atomic<std::uint64_t> emitted{0}, filtered{0}, failed{0}, reconnects{0};
  std::atomic<bool> connected{false}, installed_flag{false};
  std::atomic<double> outbox_lag{0};

  spdlog::logger& log() { return ctx ? ctx->logger() : *spdlog::default_logger(); }
  bool durable() const { return opts.mode == PgSyncMode::durable; }

  awaitable<void> sleep(std::chrono::milliseconds d) {
    sleep_timer.expires_after(d);
    auto [ec] = co_await sleep_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }

  awaitable<void> run() {
    auto backoff = opts.reconnect_min;
    bool ever_connected = false;
    while (!stopping) {
      auto err = co_await conn.connect(opts.connection, 10s);
      if (stopping) break;
      if (err) {
        log().warn("postgresSync: cannot connect to PostgreSQL ({}); retrying in {} ms", *err,
                   backoff.count());
        co_await sleep(backoff);
        backoff = std::min(backoff * 2, opts.reconnect_max);
        continue;
      }
      log().info("postgresSync: {} PostgreSQL", ever_connected ? "reconnected to" : "connected to");
      ever_connected = true;
      connected = true;
      auto began = std::chrono::steady_clock::now();
      std::string why = co_await session();
      connected = false;
      conn.close();
      leader = false;
      if (stopping) break;
      ++reconnects;
      if (std::chrono::steady_clock::now() - began > 5s) backoff = opts.reconnect_min;
      log().warn("postgresSync: {}; reconnecting in {} ms", why, backoff.count());
      co_await sleep(backoff);
      backoff = std::min(backoff * 2, opts.reconnect_max);
    }
    conn.close();
    force_timer.cancel();  // or io_context::run() would wait for it
    log().info("postgresSync: stopped");
  }

  // Returns why the session ended.
  awaitable<std::string> session() {
    if (!installed) {
      auto sql = durable() ? pg::install_durable_sql(opts.pg_schema, names)
                           : pg::install_notify_sql(opts.pg_schema, names);
      auto r = co_await conn.exec(sql, 30s);
      if (!r.ok()) co_return "cannot install the triggers: " + r.error;
      installed = true;
      installed_flag = true;
      log().info("postgresSync: triggers installed on {}.{} ({} mode)", opts.pg_schema,
                 pg::array_literal(names), durable() ? "durable" : "notify");
    }
    {
      auto r = co_await conn.exec(pg::listen_sql(durable(), names), 10s);
      if (!r.ok()) co_return "LISTEN failed: " + r.error;
    }
    bool need_drain = durable();
    for (;;) {
      if (stopping) co_return "stopping";
      if (need_drain) {
        need_drain = false;
        draining = true;
        auto e = co_await drain();
        draining = false;
        if (!e.empty()) co_return e;
        continue;  // look at what arrived meanwhile
      }
      for (auto& n : conn.take_notifications()) {
        if (n.channel == pg::kOutboxChannel)
          need_drain = durable();
        else
          on_notify_payload(n);
      }
      if (need_drain) continue;
      // Idle: wait for the server, the safety-net timer or stop().
      tick = false;
      auto gen = ++idle_gen;
      idle_timer.expires_after(opts.poll_interval);
      idle_timer.async_wait([this, gen](boost::system::error_code ec) {
        if (ec || gen != idle_gen) return;
        tick = true;
        conn.cancel();
      });
      auto ec = co_await conn.wait_readable();
      ++idle_gen;
      idle_timer.cancel();
      if (stopping) co_return "stopping";
      if (!ec) {
        if (!conn.consume()) co_return "lost the PostgreSQL connection: " + conn.error_message();
      } else if (!tick) {
        co_return "lost the PostgreSQL connection: " + ec.message();
      }
      if (tick) {
        if (durable()) {
          need_drain = true;
        } else {
          // Notify mode has no query to find out that the server went away silently.
          auto r = co_await conn.exec("SELECT 1", 10s);
          if (!r.ok()) co_return "lost the PostgreSQL connection: " + r.error;
        }
      }
    }
  }

  // One notification carrying the whole change (notify mode, or a TypeScript peer's trigger).
  void on_notify_payload(const pg::Notification& n) { emit_change(n.payload, /*outbox_id=*/{}); }

  // Parses and emits one change payload (change.hpp); returns false when it was dropped
  // (filtered, or refused by the parser with a log line) without an emit.
  bool emit_change(std::string_view payload, std::optional<std::string> outbox_id) {
    auto change = pg::parse_change(payload, names);
    if (!change) {
      ++failed;
      // The payload is untrusted: only a printable ASCII prefix of it reaches the log.
      std::string head;
      for (char c : payload.substr(0, 120)) head.push_back(c >= 0x20 && c < 0x7f ? c : '?');
      log().warn("postgresSync: change of {} bytes refused ({}): {}; dropped", payload.size(),
                 change.error().message(), head);
      return false;
    }
    const Table& table = tables.at(change->table);
    if (table.filter) {
      bool keep = false;
      try {
        keep = table.filter(change->row, change->op);
      } catch (const std::exception& e) {
        log().warn("postgresSync: the filter of {} threw ({}); change dropped", table.name,
                   e.what());
      }
      if (!keep) {
        ++filtered;
        return false;
      }
    }
    std::string event = table.event_prefix + std::string(pg::event_suffix(change->op));
    if (outbox_id) ++inflight;
    std::weak_ptr<Impl> weak = shared_from_this();
    auto ex = ioc.get_executor();
    ctx->async_emit(table.channel, event, json::value(std::move(change->row)),
                    [weak, ex, id = std::move(outbox_id), ch = table.channel](Result<StreamId> r) {
                      auto self = weak.lock();
                      if (!self) return;
                      asio::post(ex, [self, r, id, ch] { self->on_ack(r, id, ch); });
                    });
    return true;
  }

  void on_ack(const Result<StreamId>& r, const std::optional<std::string>& id,
              const std::string& channel) {
    // Only a refusal of the event itself (invalid input: channel, event name, schema) is final
    // and may drop the row. Every other error, whatever its category (store unavailable, a
    // timeout whose outcome is unknown, a store limit, a custom store's own codes), keeps the
    // row in the outbox for the next round: at least once, never lost.
    bool keep = false;
    if (r) {
      ++emitted;
    } else if (r.error() == condition::invalid_input) {
      ++failed;
      log().warn("postgresSync: event on '{}' refused ({}); dropped", channel, r.error().message());
    } else {
      keep = true;
      if (!id) {
        ++failed;  // notify mode has no row to keep: the change is lost, say so
        log().warn("postgresSync: event on '{}' not stored ({}); notify mode cannot retry it",
                   channel, r.error().message());
      }
    }
    if (!id) return;
    if (keep)
      transient_failure = true;
    else
      done_ids.push_back(*id);
    if (--inflight == 0) ack_timer.cancel();
  }

  awaitable<std::string> delete_done() {
    if (done_ids.empty()) co_return std::string{};
    // Named arguments: GCC 12 miscompiles initializer lists inside co_await expressions.
    std::vector<std::string> params{pg::array_literal(done_ids)};
    auto r =
        co_await conn.exec_params(pg::delete_outbox_sql(opts.pg_schema), std::move(params), 30s);
    if (!r.ok()) co_return "deleting emitted outbox rows failed: " + r.error;
    done_ids.clear();
    co_return std::string{};
  }

  // Empties the outbox of our tables; an error message when the connection failed.
  awaitable<std::string> drain() {
    if (!leader) {
      std::vector<std::string> params{"forrealtime_outbox:" + opts.pg_schema};
      auto r = co_await conn.exec_params("SELECT pg_try_advisory_lock(hashtext($1))",
                                         std::move(params), 10s);
      if (!r.ok()) co_return "advisory lock failed: " + r.error;
      leader = PQntuples(r.result.get()) == 1 &&
               std::string_view(PQgetvalue(r.result.get(), 0, 0)) == "t";
      if (!leader) {
        if (!told_not_leader)
          log().info("postgresSync: another instance drains {}.forrealtime_outbox; standing by",
                     opts.pg_schema);
        told_not_leader = true;
        co_return std::string{};
      }
      if (told_not_leader) log().info("postgresSync: this instance now drains the outbox");
      told_not_leader = false;
    }
    for (;;) {
      if (auto e = co_await delete_done(); !e.empty()) co_return e;
      if (stopping) co_return std::string{};
      std::vector<std::string> params{pg::array_literal(names), std::to_string(opts.batch_size)};
      auto r =
          co_await conn.exec_params(pg::select_outbox_sql(opts.pg_schema), std::move(params), 30s);
      if (!r.ok()) co_return "reading the outbox failed: " + r.error;
      int n = PQntuples(r.result.get());
      // Rows come oldest first: the first one's age is how far behind the outbox is.
      outbox_lag = n == 0 ? 0.0 : std::strtod(PQgetvalue(r.result.get(), 0, 2), nullptr);
      if (n == 0) co_return std::string{};
      transient_failure = false;
      for (int i = 0; i < n; ++i) {
        std::string id = PQgetvalue(r.result.get(), i, 0);
        std::string_view payload(PQgetvalue(r.result.get(), i, 1),
                                 static_cast<std::size_t>(PQgetlength(r.result.get(), i, 1)));
        if (!emit_change(payload, id)) done_ids.push_back(id);
      }
      // Wait for every acknowledgement; a stop gives the store a few more seconds.
      auto started = std::chrono::steady_clock::now();
      while (inflight > 0) {
        ack_timer.expires_after(1s);
        auto [ec] = co_await ack_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
        auto waited = std::chrono::steady_clock::now() - started;
        if (inflight > 0 && waited > 30s && waited < 31s)
          log().warn("postgresSync: the store has not acknowledged {} events for 30 s", inflight);
        if (inflight > 0 && stopping && waited > 5s) {
          log().warn(
              "postgresSync: stopping with {} events unacknowledged (they will be "
              "emitted again at the next start)",
              inflight);
          break;
        }
      }
      if (auto e = co_await delete_done(); !e.empty()) co_return e;
      if (transient_failure) {
        log().warn("postgresSync: the store failed; retrying the outbox in {} ms",
                   opts.poll_interval.count());
        co_return std::string{};  // the safety-net timer comes back
      }
      if (static_cast<std::size_t>(n) < opts.batch_size) co_return std::string{};
    }
  }

  void request_stop() {
    stopping = true;
    sleep_timer.cancel();
    if (!draining) {
      conn.cancel();
    } else {
      // A round in progress may finish (so that it does not emit twice), within limits.
      force_timer.expires_after(10s);
      force_timer.async_wait([this](boost::system::error_code ec) {
        if (!ec) conn.cancel();
      });
    }
  }
};

PostgresSync::PostgresSync(PostgresSyncOptions options) {
  if (auto e = validate(options)) throw std::invalid_argument("postgresSync: " + *e);
  impl_ = std::make_shared<Impl>(std::move(options));
}

PostgresSync::~PostgresSync() {
  stop();
}

void PostgresSync::init(PluginContext& context) {
  impl_->ctx = &context;
}

void PostgresSync::start() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->ctx) throw std::logic_error("postgresSync: add it with rt.use<PostgresSync>() first");
  if (impl_->running) {
    impl_->log().warn("postgresSync: start() called twice; ignored");
    return;
  }
  impl_->running = true;
  impl_->stopping = false;
  impl_->ioc.restart();
  auto self = impl_;
  asio::co_spawn(impl_->ioc, self->run(), [self](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      self->log().error("postgresSync: stopped by an error: {}", ex.what());
    }
  });
  impl_->thread = std::thread([self] { self->ioc.run(); });
}

void PostgresSync::stop() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->running) return;
  auto self = impl_;
  asio::post(impl_->ioc, [self] { self->request_stop(); });
  if (impl_->thread.get_id() == std::this_thread::get_id()) {
    impl_->thread.detach();  // stop() from a filter: the thread ends by itself
  } else {
    impl_->thread.join();
  }
  impl_->running = false;
}

PostgresSync::Stats PostgresSync::stats() const {
  Stats s;
  s.emitted = impl_->emitted;
  s.filtered = impl_->filtered;
  s.failed = impl_->failed;
  s.reconnects = impl_->reconnects;
  s.connected = impl_->connected;
  s.installed = impl_->installed_flag;
  s.outbox_lag_seconds = impl_->outbox_lag;
  return s;
}

}  // namespace forrealtime
