// serve's settings: flags and environment names, the config file, validation, and the effective
// values as JSON (see settings.hpp).
#include "cli/settings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "forrealtime/auth.hpp"
#include "forrealtime/schema.hpp"
#include "http/client_address.hpp"
#ifdef FORREALTIME_HAVE_POSTGRES
#include "forrealtime/postgres_sync.hpp"
#endif

namespace forrealtime::cli {

namespace {

// What a config value must be: checked before it is handed to the flag's own parser.
enum class Kind { text, integer, number, boolean, list, json };

// Every option of serve, once. Its name gives the flag (--max-duration), the environment
// variable (FORREALTIME_MAX_DURATION) and the config key (max_duration). The older names still
// work, with a deprecation warning: an environment variable (`old_env`) and config keys
// (`old_keys`; "history.max_length" is the key max_length inside the object history).
struct Vocabulary {
  const char* name;
  Kind kind;
  const char* old_env = nullptr;
  std::initializer_list<const char*> old_keys = {};
};

const Vocabulary kVocabulary[] = {
    {"host", Kind::text, "HOST"},
    {"port", Kind::integer, "PORT"},
    {"threads", Kind::integer},
    {"config", Kind::text},
    {"static", Kind::text},
    {"redis", Kind::text, "REDIS_URL"},
    {"key-prefix", Kind::text},
    {"redis-tail-wakeup", Kind::text},
    {"redis-tail-batch", Kind::integer},
    {"redis-tls-ca", Kind::text},
    {"redis-tls-cert", Kind::text},
    {"redis-tls-key", Kind::text},
    {"redis-tls-insecure-skip-verify", Kind::boolean},
    {"redis-sentinel-user", Kind::text},
    {"redis-sentinel-password", Kind::text},
    {"redis-wait-replicas", Kind::integer},
    {"redis-wait-timeout", Kind::integer},
    {"memory-max-length", Kind::integer, nullptr, {"memory.max_length"}},
    {"memory-max-channels", Kind::integer, nullptr, {"memory.max_channels"}},
    {"memory-max-bytes", Kind::integer, nullptr, {"memory.max_bytes"}},
    {"memory-idle-expire-secs", Kind::integer, nullptr, {"memory.idle_expire_secs"}},
    {"history-max-length", Kind::integer, nullptr, {"history.max_length"}},
    {"history-expire-secs", Kind::integer, nullptr, {"history.expire_after_secs"}},
    {"idempotency-window", Kind::integer, nullptr, {"idempotency_window_secs"}},
    {"max-duration", Kind::integer, nullptr, {"max_duration_secs"}},
    {"ping-interval", Kind::number, nullptr, {"ping_interval_secs"}},
    {"max-channels", Kind::integer},
    {"max-body", Kind::integer, nullptr, {"max_body_bytes"}},
    {"emit-token", Kind::text},
    {"allow-origin", Kind::text},
    {"schema", Kind::text},
    {"strict", Kind::boolean},
    {"database-url", Kind::text, "DATABASE_URL"},
    {"postgres", Kind::json},
    {"admin-token", Kind::text},
    {"drain-delay", Kind::number, nullptr, {"drain_delay_secs"}},
    {"admin-port", Kind::integer},
    {"admin-host", Kind::text},
    {"public-channels", Kind::list},
    {"jwt-secret-file", Kind::text},
    {"jwt-public-key-file", Kind::text},
    {"jwks-file", Kind::text},
    {"jwks-url", Kind::text},
    {"jwks-refresh", Kind::integer},
    {"jwt-audience", Kind::text},
    {"jwt-issuer", Kind::text},
    {"jwt-cookie", Kind::text},
    {"jwt-leeway", Kind::integer, nullptr, {"jwt_leeway_secs"}},
    {"auth-url", Kind::text},
    {"auth-timeout", Kind::number, nullptr, {"auth_timeout_secs"}},
    {"cors-origin", Kind::list, nullptr, {"cors_origins"}},
    {"tls-cert", Kind::text},
    {"tls-key", Kind::text},
    {"header-timeout", Kind::integer},
    {"max-connections", Kind::integer},
    {"max-connections-per-ip", Kind::integer},
    {"trusted-proxies", Kind::list},
    {"client-address-header", Kind::text},
    {"emit-rate", Kind::number},
    {"emit-burst", Kind::number},
    {"max-history-bytes", Kind::integer},
    {"max-replay-bytes", Kind::integer},
    {"log-level", Kind::text, "LOG_LEVEL"},
    {"log-format", Kind::text, "LOG_FORMAT"},
};

std::string env_name(std::string_view name) {
  std::string out = "FORREALTIME_";
  for (char c : name) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return out;
}

std::string config_key(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::vector<std::string>& warnings() {
  static std::vector<std::string> w;
  return w;
}

// A config value as the flag's text results, or why it cannot be one.
std::optional<std::string> to_results(const boost::json::value& v, Kind kind,
                                      std::vector<std::string>& out) {
  switch (kind) {
    case Kind::text:
      if (!v.is_string()) return "a string";
      out.emplace_back(v.get_string());
      return std::nullopt;
    case Kind::integer:
      if (v.is_int64())
        out.push_back(std::to_string(v.get_int64()));
      else if (v.is_uint64())
        out.push_back(std::to_string(v.get_uint64()));
      else
        return "an integer";
      return std::nullopt;
    case Kind::number:
      if (!v.is_number()) return "a number";
      out.push_back(boost::json::serialize(v));
      return std::nullopt;
    case Kind::boolean:
      if (!v.is_bool()) return "true or false";
      out.emplace_back(v.get_bool() ? "true" : "false");
      return std::nullopt;
    case Kind::list:
      if (v.is_string()) {
        out.emplace_back(v.get_string());
        return std::nullopt;
      }
      if (!v.is_array()) return "a list of strings (or one comma-separated string)";
      for (auto& item : v.get_array()) {
        if (!item.is_string()) return "a list of strings";
        out.emplace_back(item.get_string());
      }
      return std::nullopt;
    case Kind::json:
      out.push_back(boost::json::serialize(v));
      return std::nullopt;
  }
  return "something else";
}

}  // namespace

void adopt_deprecated_environment() {
  for (auto& o : kVocabulary) {
    if (!o.old_env) continue;
    const char* old_value = std::getenv(o.old_env);
    if (!old_value) continue;
    auto now = env_name(o.name);
    if (std::getenv(now.c_str())) {
      warnings().push_back(std::string(o.old_env) + " is ignored: " + now + " is set too");
      continue;
    }
    ::setenv(now.c_str(), old_value, 1);
    warnings().push_back(std::string("the environment variable ") + o.old_env +
                         " is deprecated: use " + now);
  }
}

std::vector<std::string> take_deprecation_warnings() {
  auto out = std::move(warnings());
  warnings().clear();
  return out;
}

std::vector<std::string> environment_names() {
  std::vector<std::string> out;
  for (auto& o : kVocabulary) {
    out.push_back(env_name(o.name));
    if (o.old_env) out.emplace_back(o.old_env);
  }
  return out;
}

std::vector<OptionName> option_names() {
  std::vector<OptionName> out;
  for (auto& o : kVocabulary)
    out.push_back({std::string("--") + o.name, env_name(o.name),
                   std::string_view(o.name) == "config" ? std::string() : config_key(o.name)});
  return out;
}

void add_serve_options(CLI::App& sv, ServeSettings& s) {
  sv.add_option("--host", s.host, "Address to bind")->capture_default_str();
  sv.add_option("--port", s.port, "Port to bind (0 picks a free one)")->capture_default_str();
  sv.add_option("--threads", s.threads, "Worker threads (default: one per core)");
  sv.add_option("--config", s.config, "JSON config file (flags and env override it)");
  sv.add_option("--static", s.static_dir, "Serve files from this directory at /");
  sv.add_option("--redis", s.redis,
                "Redis URL redis://[user:password@]host[:port][/db], rediss:// for TLS, "
                "redis+sentinel://[user:password@]host:port,host:port/master-name[/db] for "
                "Sentinel, redis-cluster://[user:password@]host:port[,host:port...] for a Redis "
                "Cluster (default: in-memory store)");
  sv.add_option("--key-prefix", s.key_prefix, "Prefix of the Redis stream keys");
  sv.add_option("--redis-tail-wakeup", s.redis_tail_wakeup,
                "How the Redis tail learns of new entries: auto (keyspace notifications, set "
                "with CONFIG SET when missing, else blocking reads), notifications, blocking")
      ->check(CLI::IsMember({"auto", "notifications", "blocking"}))
      ->capture_default_str();
  sv.add_option("--redis-tail-batch", s.redis_tail_batch,
                "Keys per blocking XREAD of the Redis tail (with notifications: per read)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sv.add_option("--redis-tls-ca", s.redis_tls_ca,
                "rediss://: PEM file of the CAs that sign the Redis server's certificate "
                "(default: the system's CAs)");
  sv.add_option("--redis-tls-cert", s.redis_tls_cert,
                "rediss://: PEM client certificate, for a server that asks for one");
  sv.add_option("--redis-tls-key", s.redis_tls_key, "rediss://: PEM key of --redis-tls-cert");
  sv.add_flag("--redis-tls-insecure-skip-verify", s.redis_tls_insecure_skip_verify,
              "rediss://: do not verify the Redis server's certificate (insecure: anyone on the "
              "path can read and change the traffic)");
  sv.add_option("--redis-sentinel-user", s.redis_sentinel_user,
                "redis+sentinel://: the sentinels' own ACL user (with --redis-sentinel-password)");
  sv.add_option("--redis-sentinel-password", s.redis_sentinel_password,
                "redis+sentinel://: the password of the sentinels (requirepass on them, or of "
                "--redis-sentinel-user)");
  sv.add_option("--redis-wait-replicas", s.redis_wait_replicas,
                "After each emit, WAIT until this many replicas have it (an acknowledged event "
                "survives a failover; fewer within --redis-wait-timeout answer 504); 0: no WAIT")
      ->capture_default_str();
  sv.add_option("--redis-wait-timeout", s.redis_wait_timeout,
                "Milliseconds an emit waits for --redis-wait-replicas")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  sv.add_option("--memory-max-length", s.memory.max_length,
                "In-memory store: events kept per channel when --history-max-length is 0 "
                "(0: all)")
      ->capture_default_str();
  sv.add_option("--memory-max-channels", s.memory.max_channels,
                "In-memory store: channels at once; an emit to a new one beyond answers 507 "
                "(0: no cap)")
      ->capture_default_str();
  sv.add_option("--memory-max-bytes", s.memory.max_bytes,
                "In-memory store: bytes of stored events at once; an emit beyond answers 507 "
                "(0: no cap)")
      ->capture_default_str();
  sv.add_option("--memory-idle-expire-secs", s.memory.idle_expire_secs,
                "In-memory store: erase a channel this long after its last event when "
                "--history-expire-secs is 0 (0: never)")
      ->capture_default_str();
  sv.add_option("--history-max-length", s.history_max_length,
                "Keep about this many events per channel (0: all)")
      ->capture_default_str();
  sv.add_option("--history-expire-secs", s.history_expire_secs,
                "Drop a channel's history this long after its last event (0: never)");
  sv.add_option("--idempotency-window", s.idempotency_window_secs,
                "Seconds an emit's Idempotency-Key is remembered: a repeat within it stores "
                "nothing and answers the first id")
      ->capture_default_str();
  sv.add_option("--max-duration", s.max_duration_secs,
                "End each stream with `reconnect` after this many seconds (0: unlimited)")
      ->capture_default_str();
  sv.add_option("--ping-interval", s.ping_interval_secs, "Seconds between pings")
      ->capture_default_str();
  sv.add_option("--max-channels", s.max_channels, "Channels one connection may subscribe to")
      ->capture_default_str();
  sv.add_option("--max-body", s.max_body_bytes, "Largest emit body in bytes (413 beyond)")
      ->capture_default_str();
  sv.add_option("--emit-token", s.emit_token, "Require `Authorization: Bearer TOKEN` on emit");
  sv.add_option("--allow-origin", s.allow_origin, "Access-Control-Allow-Origin ('' for none)")
      ->capture_default_str();
  sv.add_option("--schema", s.schema,
                "Check every emit against this schema file: {namespace: {event: JSON Schema}}");
  sv.add_flag("--strict,!--no-strict", s.strict,
              "With --schema: refuse events the schema does not name (default), or accept them");
  sv.add_option("--database-url", s.database_url,
                "PostgreSQL of the config file's `postgres` section (postgresSync; overrides "
                "its url)");
  sv.add_option("--admin-token", s.admin_token,
                "Require `Authorization: Bearer TOKEN` on the console's data and /api/admin/*");
  sv.add_option("--drain-delay", s.drain_delay_secs,
                "On SIGTERM: seconds /readyz answers 503 before the streams are told to reconnect")
      ->capture_default_str();
  sv.add_option("--admin-port", s.admin_port,
                "Also serve /metrics, /livez, /readyz, the console and /api/admin/* on this port, "
                "and not on the main one (-1: no separate listener)")
      ->capture_default_str();
  sv.add_option("--admin-host", s.admin_host, "Address of the --admin-port listener")
      ->capture_default_str();
  sv.add_option("--public-channels", s.public_channels,
                "Channel patterns anyone may subscribe to and read (comma-separated; turns "
                "authorization on)")
      ->delimiter(',');
  sv.add_option("--jwt-secret-file", s.jwt_secret_file,
                "HMAC secret file for HS256/384/512 tokens (turns authorization on)");
  sv.add_option("--jwt-public-key-file", s.jwt_public_key_file,
                "PEM public key(s) for RS256/384/512, ES256, ES384, EdDSA tokens");
  sv.add_option("--jwks-file", s.jwks_file, "JWK Set file {\"keys\": [...]} to verify tokens");
  sv.add_option("--jwks-url", s.jwks_url,
                "JWK Set URL (http:// or https://), fetched at start, every --jwks-refresh and on "
                "an unknown kid (at most once per 5 s)");
  sv.add_option("--jwks-refresh", s.jwks_refresh_secs, "Seconds between --jwks-url fetches")
      ->capture_default_str();
  sv.add_option("--jwt-audience", s.jwt_audience, "Tokens must carry this aud");
  sv.add_option("--jwt-issuer", s.jwt_issuer, "Tokens must carry this iss");
  sv.add_option("--jwt-cookie", s.jwt_cookie, "Cookie that may carry the token ('' for none)")
      ->capture_default_str();
  sv.add_option("--jwt-leeway", s.jwt_leeway_secs, "Clock skew allowed on exp/nbf/iat, seconds")
      ->capture_default_str();
  sv.add_option("--auth-url", s.auth_url,
                "Forward auth: POST {operation, channels} here with the client's cookies and "
                "Authorization before each operation (http://; turns authorization on)");
  sv.add_option("--auth-timeout", s.auth_timeout_secs,
                "Seconds to wait for --auth-url before answering 503")
      ->capture_default_str();
  sv.add_option("--cors-origin", s.cors_origins,
                "Allowed browser origin, echoed with credentials (repeatable; '*' for any, "
                "without credentials); other origins may not emit")
      ->delimiter(',');
  sv.add_option("--tls-cert", s.tls_cert,
                "PEM certificate chain: serve HTTPS on the main listener (reloaded on SIGHUP)");
  sv.add_option("--tls-key", s.tls_key, "PEM private key of --tls-cert");
  sv.add_option("--header-timeout", s.header_timeout_secs,
                "Seconds a request head may take once its first byte is in; then the connection "
                "is closed (0: only the idle timeout)")
      ->capture_default_str();
  sv.add_option("--max-connections", s.max_connections,
                "Open connections at once, streams included; one more gets 503 (0: no cap)")
      ->capture_default_str();
  sv.add_option("--max-connections-per-ip", s.max_connections_per_ip,
                "Open connections at once per client address; one more gets 503 (0: no cap)")
      ->capture_default_str();
  sv.add_option("--trusted-proxies", s.trusted_proxies,
                "Reverse proxies (CIDR, address, 'loopback' or 'private'; comma-separated) whose "
                "--client-address-header names the client for limits, logs and forward auth; "
                "from other peers that header is ignored")
      ->delimiter(',');
  sv.add_option("--client-address-header", s.client_address_header,
                "The header --trusted-proxies write: x-forwarded-for or forwarded (RFC 7239)")
      ->capture_default_str();
  sv.add_option("--emit-rate", s.emit_rate,
                "Emit requests per second per credential, or per address without one; beyond, "
                "429 with Retry-After (0: no limit)")
      ->capture_default_str();
  sv.add_option(
        "--emit-burst", s.emit_burst,
        "Emits that may come at once before --emit-rate paces them (0: the rate, at least 1)")
      ->capture_default_str();
  sv.add_option("--max-history-bytes", s.max_history_bytes,
                "A history answer stops before this many bytes (Forrealtime-Truncated: bytes; 0: "
                "no cap)")
      ->capture_default_str();
  sv.add_option("--max-replay-bytes", s.max_replay_bytes,
                "A stream's replay from its last_ack stops before this many bytes and the stream "
                "ends with reconnect; the client resumes from its acks (0: no cap)")
      ->capture_default_str();
  sv.add_option("--log-level", s.log_level, "trace, debug, info, warn or error")
      ->capture_default_str();
  sv.add_option("--log-format", s.log_format, "text or json (JSON lines)")->capture_default_str();
  sv.add_option(
      "--postgres", s.postgres_json,
      "postgresSync: the `postgres` section as JSON {url, schema, channel, mode, tables}");
  // One name per option: --NAME, FORREALTIME_NAME, and the config key name.
  for (auto& o : kVocabulary) sv.get_option(std::string("--") + o.name)->envname(env_name(o.name));
}

bool apply_config(CLI::App& serve, ServeSettings& s, std::string& error) {
  auto finish = [&] {
    // --postgres / FORREALTIME_POSTGRES / the file's section, as JSON text.
    if (s.postgres_json.empty()) return true;
    boost::system::error_code ec;
    auto v = boost::json::parse(s.postgres_json, ec);
    if (ec || !v.is_object()) {
      error = "postgres must be a JSON object" + (ec ? ": " + ec.message() : std::string());
      return false;
    }
    s.postgres = std::move(v);
    return true;
  };
  if (s.config.empty()) return finish();
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
  // The file's keys, flattened: "history": {"max_length": 1} is the key history.max_length.
  std::vector<std::pair<std::string, const boost::json::value*>> keys;
  for (auto& [key, val] : v.get_object()) {
    if ((key == "history" || key == "memory") && val.is_object()) {
      for (auto& [sub, sv] : val.get_object())
        keys.emplace_back(std::string(key) + "." + std::string(sub), &sv);
    } else {
      keys.emplace_back(std::string(key), &val);
    }
  }
  std::vector<const Vocabulary*> seen;
  for (auto& [key, val] : keys) {
    const Vocabulary* found = nullptr;
    bool old = false;
    for (auto& o : kVocabulary) {
      if (std::string_view(o.name) != "config" && key == config_key(o.name)) found = &o;
      for (auto* k : o.old_keys)
        if (key == k) found = &o, old = true;
      if (found) break;
    }
    if (!found) {
      error = key.find('.') != std::string::npos ? "unknown config key " + key
                                                 : "unknown config key '" + key + "'";
      return false;
    }
    auto name = config_key(found->name);
    if (std::find(seen.begin(), seen.end(), found) != seen.end()) {
      error = "config file " + s.config + ": " + name + " is given twice (under an old name too)";
      return false;
    }
    seen.push_back(found);
    if (old) warnings().push_back("config key " + key + " is deprecated: use " + name);
    auto* opt = serve.get_option(std::string("--") + found->name);
    if (opt->count() > 0) continue;  // a flag or the environment gave it
    std::vector<std::string> results;
    if (auto want = to_results(*val, found->kind, results)) {
      error = "config file " + s.config + ": " + key + " has the wrong type (want " + *want + ")";
      return false;
    }
    if (results.empty()) continue;  // an empty list: the default, none
    try {
      for (auto& r : results) opt->add_result(r);
      opt->run_callback();
    } catch (const std::exception& e) {
      error = "config file " + s.config + ": " + key + ": " + e.what();
      return false;
    }
  }
  return finish();
}

bool validate(const ServeSettings& s, std::string& error) {
  if (s.redis_tail_wakeup != "auto" && s.redis_tail_wakeup != "notifications" &&
      s.redis_tail_wakeup != "blocking") {
    error = "redis_tail_wakeup must be auto, notifications or blocking (got '" +
            s.redis_tail_wakeup + "')";
    return false;
  }
  if (s.redis_tail_batch == 0) {
    error = "redis_tail_batch must be at least 1";
    return false;
  }
  if (s.port < 0 || s.port > 65535) {
    error = "port must be 0-65535 (got " + std::to_string(s.port) + ")";
    return false;
  }
  if (s.admin_port < -1 || s.admin_port > 65535) {
    error = "admin_port must be -1 (none) or 0-65535 (got " + std::to_string(s.admin_port) + ")";
    return false;
  }
  if (!(s.drain_delay_secs >= 0 && s.drain_delay_secs <= 3600)) {
    error = "drain_delay must be 0-3600";
    return false;
  }
  if (s.log_format != "text" && s.log_format != "json") {
    error = "log_format must be text or json (got '" + s.log_format + "')";
    return false;
  }
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(std::begin(levels), std::end(levels), s.log_level) == std::end(levels)) {
    error = "log_level must be trace, debug, info, warn or error (got '" + s.log_level + "')";
    return false;
  }
  if (s.threads > 1024) {
    error = "threads must be at most 1024";
    return false;
  }
  if (!(s.ping_interval_secs > 0)) {
    error = "ping_interval must be positive";
    return false;
  }
  if (s.max_channels == 0) {
    error = "max_channels must be at least 1";
    return false;
  }
  if (!(s.emit_rate >= 0) || s.emit_rate > 1e6 || !(s.emit_burst >= 0) || s.emit_burst > 1e6) {
    error = "emit_rate and emit_burst must be between 0 and 1000000";
    return false;
  }
  if (s.redis_tls_cert.empty() != s.redis_tls_key.empty()) {
    error = "redis_tls_cert and redis_tls_key go together";
    return false;
  }
  for (auto* f : {&s.redis_tls_ca, &s.redis_tls_cert, &s.redis_tls_key})
    if (!f->empty() && !std::filesystem::is_regular_file(*f)) {
      error = std::string(f == &s.redis_tls_ca     ? "redis_tls_ca: "
                          : f == &s.redis_tls_cert ? "redis_tls_cert: "
                                                   : "redis_tls_key: ") +
              *f + " is not a readable file";
      return false;
    }
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    error = "tls_cert and tls_key go together";
    return false;
  }
  for (auto* f : {&s.tls_cert, &s.tls_key})
    if (!f->empty() && !std::filesystem::is_regular_file(*f)) {
      error = (f == &s.tls_cert ? "tls_cert: " : "tls_key: ") + *f + " is not a readable file";
      return false;
    }
  if (s.header_timeout_secs > 3600) {
    error = "header_timeout must be at most 3600";
    return false;
  }
  if (!s.static_dir.empty() && !std::filesystem::is_directory(s.static_dir)) {
    error = "static: " + s.static_dir + " is not a directory";
    return false;
  }
  if (!s.redis.empty() && !s.redis.starts_with("redis://") && !s.redis.starts_with("rediss://") &&
      !s.redis.starts_with("unix://") && !s.redis.starts_with("redis-cluster://") &&
      !s.redis.starts_with("rediss-cluster://") && !s.redis.starts_with("redis+sentinel://") &&
      !s.redis.starts_with("rediss+sentinel://")) {
    error =
        "redis must be a redis://, rediss://, unix://, redis+sentinel://, rediss+sentinel://, "
        "redis-cluster:// or rediss-cluster:// URL";
    return false;
  }
  if (!s.schema.empty()) {
    try {
      JsonSchemaSet::load(s.schema, s.strict);
    } catch (const std::exception& e) {
      error = "--schema: " + std::string(e.what());
      return false;
    }
  }
  try {
    auto auth = auth_options(s);
    // The keys are checked here, but the JWK Set URL is not fetched (check-config makes no
    // network calls): its form only.
    if (!auth.jwks_url.empty()) {
      if (!auth.jwks_url.starts_with("http://") && !auth.jwks_url.starts_with("https://"))
        throw std::invalid_argument("--jwks-url must be an http:// or https:// URL");
      if (auth.jwks_refresh.count() < 10)
        throw std::invalid_argument("--jwks-refresh must be at least 10 seconds");
      auth.jwks_url.clear();
      if (auth.jwt_secret_file.empty() && auth.jwt_public_key_file.empty() &&
          auth.jwks_file.empty())
        auth.jwt_audience.clear(), auth.jwt_issuer.clear();
    }
    if (auth.enabled()) forrealtime::Auth check(std::move(auth));
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  for (auto& o : s.cors_origins)
    if (o != "*" && !o.starts_with("http://") && !o.starts_with("https://")) {
      error = "cors_origins: '" + o + "' is not an origin (scheme://host[:port]) or *";
      return false;
    }
  {
    std::string why;
    if (!forrealtime::gateway::TrustedProxies::parse(s.trusted_proxies, why)) {
      error = why;
      return false;
    }
    if (!forrealtime::gateway::parse_forwarded_header(s.client_address_header)) {
      error = "client_address_header: '" + s.client_address_header +
              "' is neither x-forwarded-for nor forwarded";
      return false;
    }
  }
  if (!s.postgres.is_null()) {
#ifdef FORREALTIME_HAVE_POSTGRES
    try {
      auto pg = postgres_sync_options_from_json(s.postgres);
      if (!s.database_url.empty()) pg.connection = s.database_url;
      if (auto e = forrealtime::validate(pg)) throw std::invalid_argument(*e);
    } catch (const std::exception& e) {
      error = "postgres: " + std::string(e.what());
      return false;
    }
#else
    error = "this build has no postgresSync (libpq)";
    return false;
#endif
  }
  return true;
}

AuthOptions auth_options(const ServeSettings& s) {
  AuthOptions a;
  a.public_channels = s.public_channels;
  a.jwt_secret_file = s.jwt_secret_file;
  a.jwt_public_key_file = s.jwt_public_key_file;
  a.jwks_file = s.jwks_file;
  a.jwks_url = s.jwks_url;
  a.jwks_refresh = std::chrono::seconds(s.jwks_refresh_secs);
  a.jwt_audience = s.jwt_audience;
  a.jwt_issuer = s.jwt_issuer;
  a.jwt_cookie = s.jwt_cookie;
  a.jwt_leeway = std::chrono::seconds(s.jwt_leeway_secs);
  a.auth_url = s.auth_url;
  if (!(s.auth_timeout_secs > 0) || s.auth_timeout_secs > 600)
    throw std::invalid_argument("auth_timeout must be more than 0 and at most 600 seconds");
  a.auth_timeout = std::chrono::milliseconds(static_cast<long>(s.auth_timeout_secs * 1000));
  a.emit_token = s.emit_token;
  return a;
}

std::string mask_url_password(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) {
    // libpq's key=value form: host=... password=secret ...
    auto p = url.find("password=");
    if (p == std::string::npos) return url;
    auto end = url.find(' ', p);
    return url.substr(0, p + 9) + "***" + (end == std::string::npos ? "" : url.substr(end));
  }
  auto rest = scheme + 3;
  auto at = url.find('@', rest);
  auto slash = url.find('/', rest);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  auto colon = url.find(':', rest);
  if (colon == std::string::npos || colon > at) {
    // redis://password@host is read as a password by some clients: mask it too.
    return url.substr(0, rest) + "***" + url.substr(at);
  }
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

boost::json::object effective_config(const ServeSettings& s) {
  auto secret = [](const std::string& v) -> boost::json::value {
    return v.empty() ? boost::json::value("") : boost::json::value("***");
  };
  auto number = [](double v) -> boost::json::value {
    if (v == static_cast<double>(static_cast<std::int64_t>(v))) return static_cast<std::int64_t>(v);
    return v;
  };
  auto strings = [](const std::vector<std::string>& v) {
    boost::json::array a;
    for (auto& x : v) a.emplace_back(x);
    return a;
  };
  // The keys are the vocabulary's config keys (tests/ops/vocabulary_check.py holds them to it).
  boost::json::object o;
  o["host"] = s.host;
  o["port"] = s.port;
  o["threads"] = s.threads;
  o["static"] = s.static_dir;
  o["redis"] = mask_url_password(s.redis);
  o["key_prefix"] = s.key_prefix;
  o["redis_tail_wakeup"] = s.redis_tail_wakeup;
  o["redis_tail_batch"] = s.redis_tail_batch;
  o["redis_tls_ca"] = s.redis_tls_ca;
  o["redis_tls_cert"] = s.redis_tls_cert;
  o["redis_tls_key"] = s.redis_tls_key;
  o["redis_tls_insecure_skip_verify"] = s.redis_tls_insecure_skip_verify;
  o["redis_sentinel_user"] = s.redis_sentinel_user;
  o["redis_sentinel_password"] = secret(s.redis_sentinel_password);
  o["redis_wait_replicas"] = s.redis_wait_replicas;
  o["redis_wait_timeout"] = s.redis_wait_timeout;
  o["memory_max_length"] = s.memory.max_length;
  o["memory_max_channels"] = s.memory.max_channels;
  o["memory_max_bytes"] = s.memory.max_bytes;
  o["memory_idle_expire_secs"] = s.memory.idle_expire_secs;
  o["history_max_length"] = s.history_max_length;
  o["history_expire_secs"] = s.history_expire_secs;
  o["idempotency_window"] = s.idempotency_window_secs;
  o["max_duration"] = s.max_duration_secs;
  o["ping_interval"] = number(s.ping_interval_secs);
  o["max_channels"] = s.max_channels;
  o["max_body"] = s.max_body_bytes;
  o["emit_token"] = secret(s.emit_token);
  o["allow_origin"] = s.allow_origin;
  o["schema"] = s.schema;
  o["strict"] = s.strict;
  o["database_url"] = mask_url_password(s.database_url);
  o["admin_token"] = secret(s.admin_token);
  o["drain_delay"] = number(s.drain_delay_secs);
  o["admin_port"] = s.admin_port;
  o["admin_host"] = s.admin_host;
  o["public_channels"] = strings(s.public_channels);
  o["jwt_secret_file"] = s.jwt_secret_file;
  o["jwt_public_key_file"] = s.jwt_public_key_file;
  o["jwks_file"] = s.jwks_file;
  o["jwks_url"] = mask_url_password(s.jwks_url);
  o["jwks_refresh"] = s.jwks_refresh_secs;
  o["jwt_audience"] = s.jwt_audience;
  o["jwt_issuer"] = s.jwt_issuer;
  o["jwt_cookie"] = s.jwt_cookie;
  o["jwt_leeway"] = s.jwt_leeway_secs;
  o["auth_url"] = mask_url_password(s.auth_url);
  o["auth_timeout"] = number(s.auth_timeout_secs);
  o["cors_origin"] = strings(s.cors_origins);
  o["tls_cert"] = s.tls_cert;
  o["tls_key"] = s.tls_key;
  o["header_timeout"] = s.header_timeout_secs;
  o["max_connections"] = s.max_connections;
  o["max_connections_per_ip"] = s.max_connections_per_ip;
  o["trusted_proxies"] = strings(s.trusted_proxies);
  o["client_address_header"] = s.client_address_header;
  o["emit_rate"] = number(s.emit_rate);
  o["emit_burst"] = number(s.emit_burst);
  o["max_history_bytes"] = s.max_history_bytes;
  o["max_replay_bytes"] = s.max_replay_bytes;
  o["log_level"] = s.log_level;
  o["log_format"] = s.log_format;
  if (!s.postgres.is_null()) {
    auto pg = s.postgres;
    if (auto* obj = pg.if_object())
      if (auto* url = obj->if_contains("url"); url && url->is_string())
        *url = mask_url_password(std::string(url->get_string()));
    o["postgres"] = std::move(pg);
  }
  return o;
}

}  // namespace forrealtime::cli
