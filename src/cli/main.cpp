// The `forrealtime` program: `serve` runs the gateway; `emit`, `history` and `tail` are clients
// of a running gateway. Settings come from flags, then environment variables, then a JSON
// config file, then defaults; a bad setting stops the program at start with a clear message.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/parse.hpp>

#include "cli/client.hpp"
#include "cli/log.hpp"
#include "forrealtime/gateway.hpp"
#include "forrealtime/memory_store.hpp"
#include "forrealtime/realtime.hpp"
#include "forrealtime/schema.hpp"
#ifdef FORREALTIME_HAVE_REDIS
#include "forrealtime/redis_store.hpp"
#endif
#ifdef FORREALTIME_HAVE_POSTGRES
#include "forrealtime/postgres_sync.hpp"
#endif

namespace {

struct ServeSettings {
  std::string host = "127.0.0.1";
  int port = 8787;
  unsigned threads = 0;
  std::string config;
  std::string static_dir;
  std::size_t history_max_length = 0;
  std::uint64_t history_expire_secs = 0;
  std::uint64_t max_duration_secs = 0;
  double ping_interval_secs = 30;
  std::size_t max_channels = 100;
  std::size_t max_body_bytes = 1024 * 1024;
  std::string emit_token;
  std::string allow_origin = "*";
  std::string redis;
  std::string key_prefix;
  std::string log_level = "info";
  std::string log_format = "text";
  // The `postgres` section of the config file (postgresSync), and DATABASE_URL.
  boost::json::value postgres;
  std::string database_url;
  std::string schema;
  bool strict = true;
};

// Applies the config file to every setting not given by flag or environment.
bool apply_config(CLI::App& serve, ServeSettings& s, std::string& error) {
  if (s.config.empty()) return true;
  std::ifstream in(s.config);
  if (!in) {
    error = "cannot read config file " + s.config;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(ss.str(), ec);
  if (ec || !v.is_object()) {
    error = "config file " + s.config + " is not a JSON object" + (ec ? ": " + ec.message() : "");
    return false;
  }
  auto given = [&](const char* flag) { return serve.get_option(flag)->count() > 0; };
  try {
    for (auto& [key, val] : v.get_object()) {
      std::string k(key);
      auto str = [&] { return std::string(val.as_string()); };
      auto num = [&] { return val.to_number<std::uint64_t>(); };
      if (k == "host") {
        if (!given("--host")) s.host = str();
      } else if (k == "port") {
        if (!given("--port")) s.port = static_cast<int>(num());
      } else if (k == "threads") {
        if (!given("--threads")) s.threads = static_cast<unsigned>(num());
      } else if (k == "static") {
        if (!given("--static")) s.static_dir = str();
      } else if (k == "history") {
        for (auto& [hk, hv] : val.as_object()) {
          if (hk == "max_length") {
            if (!given("--history-max-length")) s.history_max_length = hv.to_number<std::size_t>();
          } else if (hk == "expire_after_secs") {
            if (!given("--history-expire-secs"))
              s.history_expire_secs = hv.to_number<std::uint64_t>();
          } else {
            error = "unknown config key history." + std::string(hk);
            return false;
          }
        }
      } else if (k == "max_duration_secs") {
        if (!given("--max-duration")) s.max_duration_secs = num();
      } else if (k == "ping_interval_secs") {
        if (!given("--ping-interval")) s.ping_interval_secs = val.to_number<double>();
      } else if (k == "max_channels") {
        if (!given("--max-channels")) s.max_channels = num();
      } else if (k == "max_body_bytes") {
        if (!given("--max-body")) s.max_body_bytes = num();
      } else if (k == "emit_token") {
        if (!given("--emit-token")) s.emit_token = str();
      } else if (k == "allow_origin") {
        if (!given("--allow-origin")) s.allow_origin = str();
      } else if (k == "redis") {
        if (!given("--redis")) s.redis = str();
      } else if (k == "key_prefix") {
        if (!given("--key-prefix")) s.key_prefix = str();
      } else if (k == "log_level") {
        if (!given("--log-level")) s.log_level = str();
      } else if (k == "log_format") {
        if (!given("--log-format")) s.log_format = str();
      } else if (k == "postgres") {
        s.postgres = val;
      } else if (k == "schema") {
        if (!given("--schema")) s.schema = str();
      } else if (k == "strict") {
        if (!given("--strict") && !given("--no-strict")) s.strict = val.as_bool();
      } else {
        error = "unknown config key '" + k + "'";
        return false;
      }
    }
  } catch (const std::exception& e) {
    error = "config file " + s.config + ": a value has the wrong type (" + e.what() + ")";
    return false;
  }
  return true;
}

// `forrealtime codegen ts`: the schema file is checked as `serve` would, then turned into types.
int run_codegen_ts(const std::string& schema_file, const std::string& out_file) {
  std::string ts;
  try {
    auto set = forrealtime::JsonSchemaSet::load(schema_file);
    // The file name only: generated files are committed, and must not depend on where.
    ts = forrealtime::typescript_events(set->json(),
                                        std::filesystem::path(schema_file).filename().string());
  } catch (const std::exception& e) {
    std::cerr << "forrealtime codegen ts: " << e.what() << "\n";
    return 2;
  }
  if (out_file.empty()) {
    std::cout << ts;
    return 0;
  }
  std::ofstream out(out_file, std::ios::binary | std::ios::trunc);
  out << ts;
  if (!out.flush()) {
    std::cerr << "forrealtime codegen ts: cannot write " << out_file << "\n";
    return 1;
  }
  return 0;
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("127.");
}

int serve(CLI::App& app, ServeSettings& s) {
  std::string error;
  if (!apply_config(app, s, error)) {
    std::cerr << "forrealtime serve: " << error << "\n";
    return 2;
  }
  if (!forrealtime::cli::setup_logging(s.log_format, s.log_level)) {
    std::cerr << "forrealtime serve: --log-format must be text or json, --log-level one of "
                 "trace, debug, info, warn, error\n";
    return 2;
  }
  if (s.port < 0 || s.port > 65535) {
    std::cerr << "forrealtime serve: --port must be 0-65535\n";
    return 2;
  }
#ifdef FORREALTIME_HAVE_POSTGRES
  // postgresSync runs when the config file has a `postgres` section; --database-url or
  // DATABASE_URL override its url.
  std::optional<forrealtime::PostgresSyncOptions> pg_options;
  if (!s.postgres.is_null()) {
    try {
      pg_options = forrealtime::postgres_sync_options_from_json(s.postgres);
      if (!s.database_url.empty()) pg_options->connection = s.database_url;  // flag, env
      if (auto e = forrealtime::validate(*pg_options)) throw std::invalid_argument(*e);
    } catch (const std::exception& e) {
      std::cerr << "forrealtime serve: config file, postgres: " << e.what() << "\n";
      return 2;
    }
  }
#else
  if (!s.postgres.is_null()) {
    std::cerr << "forrealtime serve: this build has no postgresSync (libpq)\n";
    return 2;
  }
#endif
  forrealtime::Options options;
  if (!s.schema.empty()) {
    try {
      auto set = forrealtime::JsonSchemaSet::load(s.schema, s.strict);
      spdlog::info("schema {}: {} events, {}", s.schema, set->size(),
                   s.strict ? "unknown events refused" : "unknown events accepted (--no-strict)");
      options.schema = forrealtime::make_schema(std::move(set));
    } catch (const std::exception& e) {
      std::cerr << "forrealtime serve: --schema: " << e.what() << "\n";
      return 2;
    }
  }
  if (!s.redis.empty()) {
#ifdef FORREALTIME_HAVE_REDIS
    forrealtime::RedisOptions ro;
    ro.url = s.redis;
    ro.key_prefix = s.key_prefix;
    try {
      options.store = forrealtime::make_redis_store(ro);
    } catch (const std::exception& e) {
      std::cerr << "forrealtime serve: --redis: " << e.what() << "\n";
      return 2;
    }
#else
    std::cerr << "forrealtime serve: this build has no Redis store\n";
    return 2;
#endif
  }
  options.history.max_length = s.history_max_length;
  options.history.expire_after_secs = s.history_expire_secs;
  options.max_duration = std::chrono::seconds(s.max_duration_secs);
  options.ping_interval = std::chrono::milliseconds(static_cast<long>(s.ping_interval_secs * 1000));
  options.limits.max_channels_per_connection = s.max_channels;
  options.limits.max_body_bytes = s.max_body_bytes;
  options.allow_origin = s.allow_origin;

  forrealtime::Realtime rt(std::move(options));
  if (!s.redis.empty()) {
    // Give a reachable Redis a moment, so that "listening" means ready; an unreachable one
    // does not stop the gateway: it serves 503s and the store keeps retrying.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!rt.store().healthy() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!rt.store().healthy())
      spdlog::error(
          "Redis at {} is unreachable; serving anyway: /healthz answers 503, emits answer 503 and "
          "subscribers get an error until it is back (retrying with backoff)",
          s.redis);
  }
  forrealtime::GatewayOptions go;
  go.host = s.host;
  go.port = static_cast<std::uint16_t>(s.port);
  go.threads = s.threads;
  go.static_dir = s.static_dir;
  go.emit_token = s.emit_token;
  forrealtime::Gateway gateway(rt, go);
  try {
    gateway.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}:{}: {}", s.host, s.port, e.what());
    return 1;
  }
#ifdef FORREALTIME_HAVE_POSTGRES
  if (pg_options) rt.use<forrealtime::PostgresSync>(std::move(*pg_options)).start();
#endif
  if (!is_loopback(s.host) && s.emit_token.empty())
    spdlog::warn(
        "!!! listening on {} with no emit token: ANYONE who can reach this address can publish "
        "events. Set --emit-token or FORREALTIME_EMIT_TOKEN. !!!",
        s.host);
  spdlog::info("forrealtime listening on http://{}:{} (store: {}, {} threads{}{})", s.host,
               gateway.port(), rt.store().name(),
               s.threads ? s.threads : std::max(1u, std::thread::hardware_concurrency()),
               s.static_dir.empty() ? "" : ", static files from ", s.static_dir);
  // Tests and scripts that ask for port 0 read the real one from stdout.
  std::cout << "listening on http://" << s.host << ":" << gateway.port() << std::endl;

  boost::asio::io_context signals_ioc;
  boost::asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: telling every stream to reconnect, then exiting", sig);
    gateway.stop();
  });
  std::thread waiter([&] { signals_ioc.run(); });
  gateway.wait();
  signals_ioc.stop();
  waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "forrealtime: typed server-sent events backed by Redis Streams.\n\n"
      "  forrealtime serve                        run the gateway on http://127.0.0.1:8787\n"
      "  forrealtime emit room chat.message '{\"text\":\"hi\"}'\n"
      "  forrealtime history room\n"
      "  forrealtime tail room notifications\n"
      "  forrealtime codegen ts --schema events.json --out events.ts\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "forrealtime 0.1.0");

  ServeSettings s;
  auto* sv = app.add_subcommand(
      "serve",
      "Run the gateway: GET /api/realtime (SSE), POST /api/emit, GET /api/history, "
      "GET /healthz, GET /metrics, and static files");
  sv->add_option("--host", s.host, "Address to bind")->envname("HOST")->capture_default_str();
  sv->add_option("--port", s.port, "Port to bind (0 picks a free one)")
      ->envname("PORT")
      ->capture_default_str();
  sv->add_option("--threads", s.threads, "Worker threads (default: one per core)");
  sv->add_option("--config", s.config, "JSON config file (flags and env override it)")
      ->envname("FORREALTIME_CONFIG");
  sv->add_option("--static", s.static_dir, "Serve files from this directory at /");
  sv->add_option("--redis", s.redis,
                 "Redis URL redis://[user:password@]host[:port][/db] (default: in-memory store)")
      ->envname("REDIS_URL");
  sv->add_option("--key-prefix", s.key_prefix, "Prefix of the Redis stream keys");
  sv->add_option("--history-max-length", s.history_max_length,
                 "Keep about this many events per channel (0: all)")
      ->capture_default_str();
  sv->add_option("--history-expire-secs", s.history_expire_secs,
                 "Drop a channel's history this long after its last event (0: never)");
  sv->add_option("--max-duration", s.max_duration_secs,
                 "End each stream with `reconnect` after this many seconds (0: unlimited)")
      ->capture_default_str();
  sv->add_option("--ping-interval", s.ping_interval_secs, "Seconds between pings")
      ->capture_default_str();
  sv->add_option("--max-channels", s.max_channels, "Channels one connection may subscribe to")
      ->capture_default_str();
  sv->add_option("--max-body", s.max_body_bytes, "Largest emit body in bytes (413 beyond)")
      ->capture_default_str();
  sv->add_option("--emit-token", s.emit_token, "Require `Authorization: Bearer TOKEN` on emit")
      ->envname("FORREALTIME_EMIT_TOKEN");
  sv->add_option("--allow-origin", s.allow_origin, "Access-Control-Allow-Origin ('' for none)")
      ->capture_default_str();
  sv->add_option("--schema", s.schema,
                 "Check every emit against this schema file: {namespace: {event: JSON Schema}}")
      ->envname("FORREALTIME_SCHEMA");
  sv->add_flag("--strict,!--no-strict", s.strict,
               "With --schema: refuse events the schema does not name (default), or accept them");
  sv->add_option("--database-url", s.database_url,
                 "PostgreSQL of the config file's `postgres` section (postgresSync; overrides "
                 "its url)")
      ->envname("DATABASE_URL");
  sv->add_option("--log-level", s.log_level, "trace, debug, info, warn or error")
      ->envname("LOG_LEVEL")
      ->capture_default_str();
  sv->add_option("--log-format", s.log_format, "text or json (JSON lines)")
      ->envname("LOG_FORMAT")
      ->capture_default_str();

  forrealtime::cli::ClientOptions co;
  auto add_url = [&](CLI::App* sub) {
    sub->add_option("--url", co.url, "The gateway")
        ->envname("FORREALTIME_URL")
        ->capture_default_str();
  };
  std::string channel, event, json, after;
  std::vector<std::string> channels;
  int limit = 100, max_events = 0;

  auto* em = app.add_subcommand("emit", "Emit one event through a running gateway");
  em->add_option("channel", channel, "Channel")->required();
  em->add_option("event", event, "Event name, namespace.event")->required();
  em->add_option("json", json, "Payload as JSON")->required();
  em->add_option("--token", co.token, "Bearer token")->envname("FORREALTIME_EMIT_TOKEN");
  add_url(em);

  auto* hi = app.add_subcommand("history", "Print a channel's stored events, oldest first");
  hi->add_option("channel", channel, "Channel")->required();
  hi->add_option("--limit", limit, "At most this many (max 1000)")->capture_default_str();
  hi->add_option("--after", after, "Only events after this id");
  add_url(hi);

  auto* ta = app.add_subcommand("tail", "Print events as they arrive, one JSON line each");
  ta->add_option("channels", channels, "Channels")->required();
  ta->add_option("--count", max_events, "Stop after this many events (0: never)");
  add_url(ta);

  std::string schema_file, out_file;
  auto* cg = app.add_subcommand("codegen", "Generate code from a schema file");
  cg->require_subcommand(1);
  auto* cg_ts = cg->add_subcommand(
      "ts", "TypeScript types for @forrealtime/client: export type Events = {ns: {event: T}}");
  cg_ts->add_option("--schema", schema_file, "The schema file (as for serve --schema)")->required();
  cg_ts->add_option("--out", out_file, "Write here (default: standard output)");

  CLI11_PARSE(app, argc, argv);
  if (cg_ts->parsed()) return run_codegen_ts(schema_file, out_file);
  if (sv->parsed()) return serve(*sv, s);
  if (em->parsed()) return forrealtime::cli::run_emit(co, channel, event, json);
  if (hi->parsed()) return forrealtime::cli::run_history(co, channel, limit, after);
  if (ta->parsed()) return forrealtime::cli::run_tail(co, channels, max_events);
  return 0;
}
