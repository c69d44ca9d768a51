// The `forrealtime` program: `serve` runs the gateway; `emit`, `history` and `tail` are clients
// of a running gateway. Settings come from flags, then environment variables, then a JSON
// config file, then defaults; a bad setting stops the program at start with a clear message.
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cli/admin.hpp"
#include "cli/client.hpp"
#include "cli/healthcheck.hpp"
#include "cli/log.hpp"
#include "cli/settings.hpp"
#include "forrealtime/auth.hpp"
#include "forrealtime/gateway.hpp"
#include "forrealtime/memory_store.hpp"
#include "forrealtime/realtime.hpp"
#include "forrealtime/schema.hpp"
#include "forrealtime/version.hpp"
#ifdef FORREALTIME_HAVE_REDIS
#include "forrealtime/redis_store.hpp"
#endif
#ifdef FORREALTIME_HAVE_POSTGRES
#include "forrealtime/postgres_sync.hpp"
#endif

namespace {

using forrealtime::cli::ServeSettings;

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

// Every stream holds a socket: the soft limit on open files goes up to the hard one (as the
// systemd unit's LimitNOFILE sets both; a container engine or a shell may leave the soft limit
// at 1024 under a far higher hard one). Logged, with a warning when it stays low.
void raise_open_files_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t before = rl.rlim_cur;
  // An unlimited hard limit is taken as the kernel's usual ceiling (fs.nr_open's default).
  rlim_t want = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : rl.rlim_max;
  if (before < want) {
    rl.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = before;
  }
  if (rl.rlim_cur != before)
    spdlog::info("open files: soft limit raised from {} to {} (the hard limit)", before,
                 rl.rlim_cur);
  if (rl.rlim_cur < 4096)
    spdlog::warn(
        "open files: the limit is {}, so at most about {} streams; raise it (systemd: "
        "LimitNOFILE=65536, docker/podman: --ulimit nofile=65536:65536)",
        rl.rlim_cur, rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0);
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("127.");
}

int serve(CLI::App& app, ServeSettings& s) {
  std::string error;
  if (!forrealtime::cli::apply_config(app, s, error)) {
    std::cerr << "forrealtime serve: " << error << "\n";
    return 2;
  }
  if (!forrealtime::cli::validate(s, error)) {
    std::cerr << "forrealtime serve: " << error << "\n";
    return 2;
  }
  if (!forrealtime::cli::setup_logging(s.log_format, s.log_level)) {
    std::cerr << "forrealtime serve: cannot set up logging\n";
    return 2;
  }
  for (auto& w : forrealtime::cli::take_deprecation_warnings()) spdlog::warn("{}", w);
  raise_open_files_limit();
#ifdef FORREALTIME_HAVE_POSTGRES
  // postgresSync runs when the config file has a `postgres` section; --database-url or
  // FORREALTIME_DATABASE_URL override its url.
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
    using W = forrealtime::RedisOptions::TailWakeup;
    ro.tail_wakeup = s.redis_tail_wakeup == "blocking"        ? W::blocking
                     : s.redis_tail_wakeup == "notifications" ? W::notifications
                                                              : W::automatic;
    ro.tail_keys_per_connection = s.redis_tail_batch;
    ro.tls.ca_file = s.redis_tls_ca;
    ro.tls.cert_file = s.redis_tls_cert;
    ro.tls.key_file = s.redis_tls_key;
    ro.tls.insecure_skip_verify = s.redis_tls_insecure_skip_verify;
    ro.sentinel_user = s.redis_sentinel_user;
    ro.sentinel_password = s.redis_sentinel_password;
    ro.wait_replicas = s.redis_wait_replicas;
    ro.wait_timeout = std::chrono::milliseconds(s.redis_wait_timeout);
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
  } else {
    options.store = forrealtime::make_memory_store(s.memory);
  }
  options.history.max_length = s.history_max_length;
  options.history.expire_after_secs = s.history_expire_secs;
  options.max_duration = std::chrono::seconds(s.max_duration_secs);
  options.idempotency_window =
      std::chrono::seconds(std::max<std::uint64_t>(1, s.idempotency_window_secs));
  options.ping_interval = std::chrono::milliseconds(static_cast<long>(s.ping_interval_secs * 1000));
  options.limits.max_channels_per_connection = s.max_channels;
  options.limits.max_body_bytes = s.max_body_bytes;
  options.limits.max_replay_bytes = s.max_replay_bytes;
  options.allow_origin = s.allow_origin;
  options.cors_origins = s.cors_origins;

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
  go.admin_token = s.admin_token;
  go.admin_port = s.admin_port;
  go.admin_host = s.admin_host;
  go.tls_cert_file = s.tls_cert;
  go.tls_key_file = s.tls_key;
  go.header_timeout = std::chrono::seconds(s.header_timeout_secs);
  go.max_connections = s.max_connections;
  go.max_connections_per_ip = s.max_connections_per_ip;
  go.trusted_proxies = s.trusted_proxies;
  go.client_address_header = s.client_address_header;
  go.emit_rate = s.emit_rate;
  go.emit_burst = s.emit_burst;
  go.max_history_bytes = s.max_history_bytes;
#ifdef FORREALTIME_HAVE_POSTGRES
  if (pg_options)
    go.extra_metrics = [&rt](std::string& out) {
      auto st = rt.plugin<forrealtime::PostgresSync>().stats();
      auto line = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
        out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
        out.append(name).append(" ").append(type).append("\n").append(name).append(" ");
        out.append(std::to_string(v)).append("\n");
      };
      line("forrealtime_postgres_sync_events_total", "counter",
           "Table changes emitted by postgresSync (acknowledged by the store).", st.emitted);
      line("forrealtime_postgres_sync_filtered_total", "counter",
           "Table changes dropped by a filter.", st.filtered);
      line("forrealtime_postgres_sync_failed_total", "counter",
           "Table changes refused (schema, bad payload): logged and dropped.", st.failed);
      line("forrealtime_postgres_sync_reconnects_total", "counter", "Reconnections to PostgreSQL.",
           st.reconnects);
      line("forrealtime_postgres_sync_connected", "gauge", "1 while connected to PostgreSQL.",
           st.connected ? 1 : 0);
      out.append(
          "# HELP forrealtime_postgres_sync_outbox_lag_seconds At the last read of the outbox, "
          "the age of the oldest change waiting in it (0: it was empty).\n"
          "# TYPE forrealtime_postgres_sync_outbox_lag_seconds gauge\n"
          "forrealtime_postgres_sync_outbox_lag_seconds ");
      out.append(std::to_string(st.outbox_lag_seconds)).append("\n");
    };
  if (pg_options)
    go.extra_stats = [&rt](std::string& out) {
      auto st = rt.plugin<forrealtime::PostgresSync>().stats();
      out += ",\"postgres_sync\":{\"connected\":";
      out += st.connected ? "true" : "false";
      out += ",\"events_total\":" + std::to_string(st.emitted);
      out += ",\"failed_total\":" + std::to_string(st.failed);
      out += ",\"outbox_lag_seconds\":" + std::to_string(st.outbox_lag_seconds) + "}";
    };
#endif
  std::optional<forrealtime::Auth> auth;
  try {
    auto ao = forrealtime::cli::auth_options(s);
    if (ao.enabled()) auth.emplace(std::move(ao));
  } catch (const std::exception& e) {
    std::cerr << "forrealtime serve: " << e.what() << "\n";
    return 2;
  }
  if (auth) {
    // The emit token becomes one more credential of the authorizer, beside tokens that grant emit.
    go.emit_token.clear();
    go.authorize = auth->authorizer();
    std::string how;
    if (!s.public_channels.empty())
      how += std::to_string(s.public_channels.size()) + " public channel patterns";
    if (!s.jwt_secret_file.empty() || !s.jwt_public_key_file.empty() || !s.jwks_file.empty() ||
        !s.jwks_url.empty())
      how += std::string(how.empty() ? "" : ", ") + "JWT";
    if (!s.auth_url.empty()) how += std::string(how.empty() ? "" : ", ") + "forward auth";
    spdlog::info("authorization on ({}): subscribe, history and emit need a grant", how);
  } else {
    spdlog::warn(
        "no authorization configured: reads are public (anyone who can reach the gateway may "
        "subscribe to and read the history of any channel); see --public-channels, "
        "--jwt-secret-file, --auth-url");
  }
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
  // The signals are caught from here on, before "listening" is printed: a script that reads
  // that line and sends SIGTERM at once must get the drain, not the default action.
  boost::asio::io_context signals_ioc;
  boost::asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  // SIGHUP: read the TLS certificate and key again; open streams keep going.
  boost::asio::signal_set hup(signals_ioc);
  std::function<void(boost::system::error_code, int)> on_hup = [&](boost::system::error_code ec,
                                                                   int) {
    if (ec) return;
    if (s.tls_cert.empty()) {
      spdlog::info("SIGHUP: no TLS configured, nothing to reload");
    } else {
      try {
        gateway.reload_tls();
        spdlog::info("SIGHUP: TLS certificate {} and key reloaded; open streams keep theirs",
                     s.tls_cert);
      } catch (const std::exception& e) {
        spdlog::error("SIGHUP: TLS reload failed, keeping the previous certificate: {}", e.what());
      }
    }
    hup.async_wait(on_hup);
  };
  hup.add(SIGHUP);
  hup.async_wait(on_hup);
  const char* scheme = s.tls_cert.empty() ? "http" : "https";
  spdlog::info("forrealtime listening on {}://{}:{} (store: {}, {} threads{}{})", scheme, s.host,
               gateway.port(), rt.store().name(),
               s.threads ? s.threads : std::max(1u, std::thread::hardware_concurrency()),
               s.static_dir.empty() ? "" : ", static files from ", s.static_dir);
  // Tests and scripts that ask for port 0 read the real one from stdout.
  std::cout << "listening on " << scheme << "://" << s.host << ":" << gateway.port() << std::endl;
  if (s.admin_port >= 0) {
    spdlog::info("admin listener (metrics, probes, console, admin API) on http://{}:{}",
                 s.admin_host, gateway.admin_port());
    std::cout << "admin listening on http://" << s.admin_host << ":" << gateway.admin_port()
              << std::endl;
  }
  if (s.admin_token.empty() && !is_loopback(s.admin_port >= 0 ? s.admin_host : s.host))
    spdlog::warn(
        "!!! the admin API and the console are reachable without a credential on a "
        "non-loopback address. Set --admin-token or FORREALTIME_ADMIN_TOKEN. !!!");

  // SIGTERM/SIGINT: /readyz goes 503 at once, the drain delay lets load balancers notice, then
  // every stream gets `reconnect` and the process exits 0. A second signal skips the delay.
  boost::asio::steady_timer drain_timer(signals_ioc);
  bool draining = false;
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int sig) {
    if (ec) return;
    if (draining || s.drain_delay_secs <= 0) {
      spdlog::info("signal {}: telling every stream to reconnect, then exiting", sig);
      drain_timer.cancel();
      gateway.stop();
      return;
    }
    draining = true;
    gateway.drain();
    spdlog::info(
        "signal {}: draining for {} s (/readyz answers 503), then every stream gets "
        "reconnect; a second signal skips the wait",
        sig, s.drain_delay_secs);
    drain_timer.expires_after(
        std::chrono::milliseconds(static_cast<std::int64_t>(s.drain_delay_secs * 1000)));
    drain_timer.async_wait([&](boost::system::error_code tec) {
      if (tec) return;
      spdlog::info("drain delay over: telling every stream to reconnect, then exiting");
      gateway.stop();
    });
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
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
      "  forrealtime history room --last 20\n"
      "  forrealtime tail room notifications\n"
      "  forrealtime codegen ts --schema events.json --out events.ts\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "forrealtime " FORREALTIME_VERSION);

  ServeSettings s;
  auto* sv = app.add_subcommand(
      "serve",
      "Run the gateway: GET /api/realtime (SSE), POST /api/emit, GET /api/history, "
      "GET /healthz, GET /metrics, and static files");
  forrealtime::cli::add_serve_options(*sv, s);

  // check-config and print-config take serve's flags too, so they judge exactly what serve
  // would run with (the config file, then environment and flags over it).
  ServeSettings check_settings, print_settings;
  std::string check_file;
  auto* cc = app.add_subcommand(
      "check-config",
      "Check a config file (and serve's flags and environment) as serve would; exit 0 when "
      "serve would start, 2 with the reason otherwise");
  cc->add_option("file", check_file, "The config file (default: --config, FORREALTIME_CONFIG)");
  forrealtime::cli::add_serve_options(*cc, check_settings);
  auto* pc = app.add_subcommand(
      "print-config", "Print the effective settings as a JSON config file, secrets masked");
  forrealtime::cli::add_serve_options(*pc, print_settings);

  // healthcheck takes serve's flags too, so that it probes where serve listens.
  ServeSettings health_settings;
  forrealtime::cli::HealthcheckOptions ho;
  auto* hc = app.add_subcommand(
      "healthcheck",
      "Probe /livez (or /readyz) of a running gateway where its settings (serve's flags, "
      "environment and config file, or those of a running serve with --process) say it "
      "listens: exit 0 on 200, 1 otherwise (the container image's HEALTHCHECK)");
  forrealtime::cli::add_healthcheck_options(*hc, ho);
  forrealtime::cli::add_serve_options(*hc, health_settings);

  forrealtime::cli::ClientOptions co;
  auto add_url = [&](CLI::App* sub) {
    sub->add_option("--url", co.url, "The gateway")
        ->envname("FORREALTIME_URL")
        ->capture_default_str();
    sub->add_option("--timeout", co.timeout_secs,
                    "Give up after this many seconds without an answer (tail: until the stream "
                    "opens)")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
  };
  std::string channel, event, json, after;
  std::vector<std::string> channels;
  int limit = 100, last = 0, max_events = 0;

  auto* em = app.add_subcommand("emit", "Emit one event through a running gateway");
  em->add_option("channel", channel, "Channel")->required();
  em->add_option("event", event, "Event name, namespace.event")->required();
  em->add_option("json", json, "Payload as JSON")->required();
  em->add_option("--token", co.token, "Bearer token")->envname("FORREALTIME_EMIT_TOKEN");
  add_url(em);

  auto* hi = app.add_subcommand("history", "Print a channel's stored events, oldest first");
  hi->add_option("channel", channel, "Channel")->required();
  auto* hi_limit =
      hi->add_option("--limit", limit, "At most this many (max 1000)")->capture_default_str();
  hi->add_option("--last", last, "The newest N instead (1..1000), still oldest first")
      ->check(CLI::Range(1, 1000))
      ->excludes(hi_limit);
  hi->add_option("--after", after, "Only events after this id");
  add_url(hi);

  auto* ta = app.add_subcommand("tail", "Print events as they arrive, one JSON line each");
  ta->add_option("channels", channels, "Channels")->required();
  ta->add_option("--count", max_events, "Stop after this many events (0: never)");
  add_url(ta);

  forrealtime::cli::AdminOptions ao;
  std::string admin_what, admin_channel;
  auto* ad = app.add_subcommand(
      "admin",
      "The admin API of a running gateway:\n"
      "  forrealtime admin stats            status and counters (JSON)\n"
      "  forrealtime admin channels         channels with subscribers here\n"
      "  forrealtime admin channel NAME     one channel's length, first and last id\n"
      "  forrealtime admin close NAME       end the streams of a channel (they reconnect)");
  ad->add_option("command", admin_what, "stats, channels, channel, close or close-subject")
      ->required();
  ad->add_option("channel", admin_channel,
                 "The channel (channel, close), or a token's subject (close-subject)");
  ad->add_option("--url", ao.url, "The gateway (its admin listener when it has one)")
      ->envname("FORREALTIME_URL")
      ->capture_default_str();
  ad->add_option("--token", ao.token, "The gateway's admin token")
      ->envname("FORREALTIME_ADMIN_TOKEN");
  ad->add_option("--timeout", ao.timeout_secs, "Seconds to wait for the answer")
      ->capture_default_str();
  ad->add_flag("--json", ao.json, "Print the JSON answer");

  std::string schema_file, out_file;
  auto* cg = app.add_subcommand("codegen", "Generate code from a schema file");
  cg->require_subcommand(1);
  auto* cg_ts = cg->add_subcommand(
      "ts", "TypeScript types for @forrealtime/client: export type Events = {ns: {event: T}}");
  cg_ts->add_option("--schema", schema_file, "The schema file (as for serve --schema)")->required();
  cg_ts->add_option("--out", out_file, "Write here (default: standard output)");

  forrealtime::cli::adopt_deprecated_environment();
  CLI11_PARSE(app, argc, argv);
  if (cg_ts->parsed()) return run_codegen_ts(schema_file, out_file);
  if (sv->parsed()) return serve(*sv, s);
  if (ad->parsed()) return forrealtime::cli::run_admin(ao, admin_what, admin_channel);
  if (hc->parsed()) return forrealtime::cli::run_healthcheck(*hc, health_settings, ho);
  auto print_warnings = [](const char* command) {
    for (auto& w : forrealtime::cli::take_deprecation_warnings())
      std::cerr << "forrealtime " << command << ": warning: " << w << "\n";
  };
  if (cc->parsed()) {
    if (!check_file.empty()) check_settings.config = check_file;
    std::string error;
    bool ok = forrealtime::cli::apply_config(*cc, check_settings, error) &&
              forrealtime::cli::validate(check_settings, error);
    print_warnings("check-config");
    if (!ok) {
      std::cerr << "forrealtime check-config: " << error << "\n";
      return 2;
    }
    std::cout << "forrealtime check-config: "
              << (check_settings.config.empty() ? std::string("settings") : check_settings.config)
              << ": ok\n";
    return 0;
  }
  if (pc->parsed()) {
    std::string error;
    bool ok = forrealtime::cli::apply_config(*pc, print_settings, error);
    print_warnings("print-config");
    if (!ok) {
      std::cerr << "forrealtime print-config: " << error << "\n";
      return 2;
    }
    std::cout << boost::json::serialize(forrealtime::cli::effective_config(print_settings)) << "\n";
    return 0;
  }
  if (em->parsed()) return forrealtime::cli::run_emit(co, channel, event, json);
  if (hi->parsed()) return forrealtime::cli::run_history(co, channel, limit, after, last);
  if (ta->parsed()) return forrealtime::cli::run_tail(co, channels, max_events);
  return 0;
}
