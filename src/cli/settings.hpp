// The settings of `forrealtime serve` and the commands that share them (`check-config`,
// `print-config`): one struct, the flags and environment names that fill it, the config file
// that fills what flags and environment left alone, one validation, and the effective values as
// JSON with secrets masked. Precedence: flags, then environment, then the config file, then
// defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "forrealtime/memory_store.hpp"

namespace CLI {
class App;
}

namespace forrealtime {
struct AuthOptions;
}

namespace forrealtime::cli {

struct ServeSettings {
  std::string host = "127.0.0.1";
  int port = 8787;
  unsigned threads = 0;
  std::string config;
  std::string static_dir;
  std::size_t history_max_length = 0;
  std::uint64_t history_expire_secs = 0;
  std::uint64_t max_duration_secs = 0;
  std::uint64_t idempotency_window_secs = 600;
  double ping_interval_secs = 30;
  std::size_t max_channels = 100;
  std::size_t max_body_bytes = 1024 * 1024;
  std::string emit_token;
  std::string allow_origin = "*";
  std::string redis;
  std::string key_prefix;
  // The Redis tail: auto | notifications | blocking, and keys per blocking XREAD.
  std::string redis_tail_wakeup = "auto";
  std::size_t redis_tail_batch = 128;
  // rediss://: the CA file, the client certificate and key, and verification off (never the
  // default; logged as an error).
  std::string redis_tls_ca;
  std::string redis_tls_cert;
  std::string redis_tls_key;
  bool redis_tls_insecure_skip_verify = false;
  // redis+sentinel://: the sentinels' password; and WAIT for replicas after each emit.
  std::string redis_sentinel_user;
  std::string redis_sentinel_password;
  unsigned redis_wait_replicas = 0;
  unsigned redis_wait_timeout = 1000;
  // The bounds of the in-memory store (used when no --redis is given).
  MemoryStoreOptions memory;
  std::string log_level = "info";
  std::string log_format = "text";
  // The `postgres` section of the config file (postgresSync), and DATABASE_URL.
  boost::json::value postgres;
  std::string postgres_json;  // --postgres / FORREALTIME_POSTGRES, parsed into `postgres`
  std::string database_url;
  std::string schema;
  bool strict = true;
  // Operations: the admin credential (console, admin API), the drain on SIGTERM, and an
  // optional second listener for /metrics, probes and admin.
  std::string admin_token;
  double drain_delay_secs = 0;
  std::string admin_host = "127.0.0.1";
  int admin_port = -1;  // -1: none (everything on the main listener)
  // Authorization (docs/protocol.md, "Authorization"): public channels, a JWT key or auth_url
  // turn it on; CORS origins do not.
  std::vector<std::string> public_channels;
  std::string jwt_secret_file;
  std::string jwt_public_key_file;
  std::string jwks_file;
  std::string jwks_url;
  std::uint64_t jwks_refresh_secs = 300;
  std::string jwt_audience;
  std::string jwt_issuer;
  std::string jwt_cookie = "forrealtime_token";
  std::uint64_t jwt_leeway_secs = 30;
  std::string auth_url;
  double auth_timeout_secs = 3;
  std::vector<std::string> cors_origins;
  // TLS on the main listener (both or neither); reloaded on SIGHUP.
  std::string tls_cert;
  std::string tls_key;
  // Limits (GatewayOptions): 0 turns a cap off.
  std::uint64_t header_timeout_secs = 10;
  std::size_t max_connections = 0;
  std::size_t max_connections_per_ip = 0;
  // Reverse proxies whose header names the client (GatewayOptions::trusted_proxies).
  std::vector<std::string> trusted_proxies;
  std::string client_address_header = "x-forwarded-for";
  double emit_rate = 0;
  double emit_burst = 0;
  std::size_t max_history_bytes = 8 * 1024 * 1024;
  std::size_t max_replay_bytes = 16 * 1024 * 1024;
};

/** The three spellings of one option: `--max-duration`, `FORREALTIME_MAX_DURATION`,
 *  `max_duration` (empty for --config, which a config file cannot set). */
struct OptionName {
  std::string flag, env, config_key;
};
std::vector<OptionName> option_names();

/** Every environment name serve reads: the FORREALTIME_ names and the older ones. */
std::vector<std::string> environment_names();

/** Before parsing: each older environment name (HOST, PORT, REDIS_URL, DATABASE_URL,
 *  LOG_LEVEL, LOG_FORMAT) that is set fills its FORREALTIME_ name when that is not set, and
 *  leaves a deprecation warning. */
void adopt_deprecated_environment();
/** The deprecation warnings so far (older environment names and config keys), once. */
std::vector<std::string> take_deprecation_warnings();

/** Adds serve's flags (with their environment names) to `app`, bound to `s`. */
void add_serve_options(CLI::App& app, ServeSettings& s);

/** Reads `s.config` (when set) into every setting that no flag or environment variable gave.
 *  False with `error` set on an unreadable file, bad JSON, an unknown key or a wrong type. */
bool apply_config(CLI::App& app, ServeSettings& s, std::string& error);

/** Checks the values themselves (ranges, names, the postgres section, the schema file, the
 *  static directory). False with `error` set on the first bad one. */
bool validate(const ServeSettings& s, std::string& error);

/** The effective settings in the config file's shape, secrets masked (tokens as "***", the
 *  password of a URL as "***"). */
boost::json::object effective_config(const ServeSettings& s);

/** The authorization settings as the library's AuthOptions (the emit token included); throws
 *  std::invalid_argument on a value out of range. Constructing forrealtime::Auth loads the keys. */
AuthOptions auth_options(const ServeSettings& s);

/** `scheme://user:password@host/...` -> `scheme://user:***@host/...`; other strings unchanged. */
std::string mask_url_password(const std::string& url);

}  // namespace forrealtime::cli
