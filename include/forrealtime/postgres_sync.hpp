// PostgresSync: changes to PostgreSQL tables become realtime events (PROTOCOL.md section 8).
//
//   auto& pg = rt.use<forrealtime::PostgresSync>(forrealtime::PostgresSyncOptions{
//       .connection = "postgresql://app@127.0.0.1/app",
//       .tables = {"posts", {"comments", "c", [](const boost::json::object& row, PgOp op) {
//                              return row.at("status") == "published"; }}}});
//   pg.start();                                    // installs triggers, starts listening
//   rt.plugin<forrealtime::PostgresSync>().stop();
//
// Each change is emitted on `<table's realtime_channel | plugin's | table name>` as
// `<table>.insert|update|delete` with the new row (the old one for DELETE) as data.
//
// Two modes:
//  - durable (the default): the trigger writes each change into `<schema>.forrealtime_outbox`
//    in the user's own transaction and sends an empty `pg_notify('forrealtime_outbox', '')` as a
//    wake-up. The plugin drains the outbox (at start, on every wake-up, after a reconnect and on
//    a timer), emits each row, waits for the store's ids, then deletes exactly those rows.
//    Guarantee: every committed change is emitted at least once, and exactly once unless this
//    process dies between the store's acknowledgement and the DELETE (at most one batch of
//    1000 is then emitted again). Changes of one row arrive in commit order; changes of
//    unrelated rows of concurrent transactions arrive in outbox-id order. A row never fails
//    the user's transaction, whatever its size.
//  - notify (fire-and-forget, compatible with the TypeScript plugin's triggers): the trigger
//    sends the change as the `pg_notify` payload on `forrealtime_<table>`. A change made while
//    nobody listens is lost. A payload that would pass pg_notify's 8000-byte limit is replaced
//    by `{"table","op","new","old","truncated":true}` where new/old hold only the primary key,
//    so the user's statement never fails; the event's data is then that key plus
//    `"_truncated": true`.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include "forrealtime/realtime.hpp"

namespace forrealtime {

enum class PgOp { insert, update, del };

/** "INSERT" / "UPDATE" / "DELETE" (as in TG_OP). */
std::string_view to_string(PgOp op);

struct PgTable {
  /** Table name, `^[A-Za-z_][A-Za-z0-9_]*$`, at most 43 characters (so that every derived
   *  name fits PostgreSQL's 63-byte identifiers). */
  std::string name;
  /** Channel of this table's events; the plugin's realtime_channel, then the table name. */
  std::string realtime_channel;
  /** Keeps a change when it returns true (the row is `new`, or `old` for DELETE). Called on
   *  the plugin's thread; must not block. */
  std::function<bool(const boost::json::object& row, PgOp op)> filter;

  PgTable() = default;
  PgTable(const char* n) : name(n) {}             // NOLINT: a bare table name reads naturally
  PgTable(std::string n) : name(std::move(n)) {}  // NOLINT
  PgTable(std::string n, std::string channel,
          std::function<bool(const boost::json::object&, PgOp)> f = {})
      : name(std::move(n)), realtime_channel(std::move(channel)), filter(std::move(f)) {}
};

enum class PgSyncMode { durable, notify };

struct PostgresSyncOptions {
  /** libpq connection string or URL (`postgresql://user:pw@host:port/db`), e.g. DATABASE_URL. */
  std::string connection;
  std::vector<PgTable> tables;
  std::string pg_schema = "public";
  /** Channel of every table without its own; empty = the table's name. */
  std::string realtime_channel;
  PgSyncMode mode = PgSyncMode::durable;
  /** Durable mode: the outbox is read this often even without a wake-up (safety net). */
  std::chrono::milliseconds poll_interval{2000};
  /** Durable mode: rows read and emitted per round. */
  std::size_t batch_size = 1000;
  /** Reconnect delays: doubling from min to max. */
  std::chrono::milliseconds reconnect_min{250};
  std::chrono::milliseconds reconnect_max{10000};
};

/** Checks names and options without touching the database; the message says what is wrong. */
std::optional<std::string> validate(const PostgresSyncOptions& options);

/** Reads the gateway's config-file section:
 *  `{"url", "tables": ["posts", {"name","channel","filter":{"ops":[..],"where":{col:value}}}],
 *    "schema", "channel", "mode": "durable"|"notify", "poll_interval_ms"}`.
 *  `url` may be absent (the caller fills it from DATABASE_URL). Throws std::invalid_argument. */
PostgresSyncOptions postgres_sync_options_from_json(const boost::json::value& config);

/** The plugin. Owns one thread running an io_context that drives its single libpq connection
 *  (non-blocking connect, LISTEN, outbox reads) through an Asio descriptor.
 *  Thread safety: start/stop/stats may be called from any thread. */
class PostgresSync final : public Plugin {
 public:
  /** Throws std::invalid_argument when `validate(options)` fails: no SQL runs before that. */
  explicit PostgresSync(PostgresSyncOptions options);
  ~PostgresSync() override;

  std::string_view name() const override { return "postgresSync"; }
  void init(PluginContext& context) override;
  void shutdown() override { stop(); }

  /** Connects (in the background, with retries), installs the trigger functions and triggers
   *  (CREATE OR REPLACE), then listens. A second call while started warns and does nothing. */
  void start();
  /** Stops listening: finishes the round in progress (bounded wait), then disconnects. */
  void stop();

  struct Stats {
    std::uint64_t emitted = 0;   // events acknowledged by the store
    std::uint64_t filtered = 0;  // changes dropped by a filter
    std::uint64_t failed = 0;    // emits refused (schema, bad payload): logged and dropped
    std::uint64_t reconnects = 0;
    bool connected = false;
    bool installed = false;
    // Durable mode: at the last read of the outbox (each wake-up and every poll_interval), the
    // age of the oldest change still waiting in it, in seconds; 0 when that read found it empty.
    double outbox_lag_seconds = 0;
  };
  Stats stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace forrealtime
