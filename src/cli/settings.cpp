// serve's settings: flags and environment names, the config file, validation, and the effective
// values as JSON (see settings.hpp).
#include "cli/settings.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include "forrealtime/auth.hpp"
#include "forrealtime/schema.hpp"
#ifdef FORREALTIME_HAVE_POSTGRES
#include "forrealtime/postgres_sync.hpp"
#endif

namespace forrealtime::cli {

void add_serve_options(CLI::App& sv, ServeSettings& s) {
  sv.add_option("--host", s.host, "Address to bind")->envname("HOST")->capture_default_str();
  sv.add_option("--port", s.port, "Port to bind (0 picks a free one)")
      ->envname("PORT")
      ->capture_default_str();
  sv.add_option("--threads", s.threads, "Worker threads (default: one per core)");
  sv.add_option("--config", s.config, "JSON config file (flags and env override it)")
      ->envname("FORREALTIME_CONFIG");
  sv.add_option("--static", s.static_dir, "Serve files from this directory at /");
  sv.add_option("--redis", s.redis,
                "Redis URL redis://[user:password@]host[:port][/db] (default: in-memory store)")
      ->envname("REDIS_URL");
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
  sv.add_option("--emit-token", s.emit_token, "Require `Authorization: Bearer TOKEN` on emit")
      ->envname("FORREALTIME_EMIT_TOKEN");
  sv.add_option("--allow-origin", s.allow_origin, "Access-Control-Allow-Origin ('' for none)")
      ->capture_default_str();
  sv.add_option("--schema", s.schema,
                "Check every emit against this schema file: {namespace: {event: JSON Schema}}")
      ->envname("FORREALTIME_SCHEMA");
  sv.add_flag("--strict,!--no-strict", s.strict,
              "With --schema: refuse events the schema does not name (default), or accept them");
  sv.add_option("--database-url", s.database_url,
                "PostgreSQL of the config file's `postgres` section (postgresSync; overrides "
                "its url)")
      ->envname("DATABASE_URL");
  sv.add_option("--admin-token", s.admin_token,
                "Require `Authorization: Bearer TOKEN` on the console's data and /api/admin/*")
      ->envname("FORREALTIME_ADMIN_TOKEN");
  sv.add_option("--drain-delay", s.drain_delay_secs,
                "On SIGTERM: seconds /readyz answers 503 before the streams are told to reconnect")
      ->envname("FORREALTIME_DRAIN_DELAY")
      ->capture_default_str();
  sv.add_option("--admin-port", s.admin_port,
                "Also serve /metrics, /livez, /readyz, the console and /api/admin/* on this port, "
                "and not on the main one (-1: no separate listener)")
      ->envname("FORREALTIME_ADMIN_PORT")
      ->capture_default_str();
  sv.add_option("--admin-host", s.admin_host, "Address of the --admin-port listener")
      ->envname("FORREALTIME_ADMIN_HOST")
      ->capture_default_str();
  sv.add_option("--public-channels", s.public_channels,
                "Channel patterns anyone may subscribe to and read (comma-separated; turns "
                "authorization on)")
      ->delimiter(',')
      ->envname("FORREALTIME_PUBLIC_CHANNELS");
  sv.add_option("--jwt-secret-file", s.jwt_secret_file,
                "HMAC secret file for HS256/384/512 tokens (turns authorization on)")
      ->envname("FORREALTIME_JWT_SECRET_FILE");
  sv.add_option("--jwt-public-key-file", s.jwt_public_key_file,
                "PEM public key(s) for RS256/384/512, ES256, ES384, EdDSA tokens")
      ->envname("FORREALTIME_JWT_PUBLIC_KEY_FILE");
  sv.add_option("--jwks-file", s.jwks_file, "JWK Set file {\"keys\": [...]} to verify tokens")
      ->envname("FORREALTIME_JWKS_FILE");
  sv.add_option("--jwt-audience", s.jwt_audience, "Tokens must carry this aud")
      ->envname("FORREALTIME_JWT_AUDIENCE");
  sv.add_option("--jwt-issuer", s.jwt_issuer, "Tokens must carry this iss")
      ->envname("FORREALTIME_JWT_ISSUER");
  sv.add_option("--jwt-cookie", s.jwt_cookie, "Cookie that may carry the token ('' for none)")
      ->envname("FORREALTIME_JWT_COOKIE")
      ->capture_default_str();
  sv.add_option("--jwt-leeway", s.jwt_leeway_secs, "Clock skew allowed on exp/nbf/iat, seconds")
      ->envname("FORREALTIME_JWT_LEEWAY")
      ->capture_default_str();
  sv.add_option("--auth-url", s.auth_url,
                "Forward auth: POST {operation, channels} here with the client's cookies and "
                "Authorization before each operation (http://; turns authorization on)")
      ->envname("FORREALTIME_AUTH_URL");
  sv.add_option("--auth-timeout", s.auth_timeout_secs,
                "Seconds to wait for --auth-url before answering 503")
      ->envname("FORREALTIME_AUTH_TIMEOUT")
      ->capture_default_str();
  sv.add_option("--cors-origin", s.cors_origins,
                "Allowed browser origin, echoed with credentials (repeatable; '*' for any, "
                "without credentials); other origins may not emit")
      ->delimiter(',')
      ->envname("FORREALTIME_CORS_ORIGIN");
  sv.add_option("--log-level", s.log_level, "trace, debug, info, warn or error")
      ->envname("LOG_LEVEL")
      ->capture_default_str();
  sv.add_option("--log-format", s.log_format, "text or json (JSON lines)")
      ->envname("LOG_FORMAT")
      ->capture_default_str();
}

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
        if (!given("--port")) s.port = static_cast<int>(val.to_number<std::int64_t>());
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
      } else if (k == "memory") {
        for (auto& [mk, mv] : val.as_object()) {
          if (mk == "max_length") {
            if (!given("--memory-max-length")) s.memory.max_length = mv.to_number<std::size_t>();
          } else if (mk == "max_channels") {
            if (!given("--memory-max-channels"))
              s.memory.max_channels = mv.to_number<std::size_t>();
          } else if (mk == "max_bytes") {
            if (!given("--memory-max-bytes")) s.memory.max_bytes = mv.to_number<std::size_t>();
          } else if (mk == "idle_expire_secs") {
            if (!given("--memory-idle-expire-secs"))
              s.memory.idle_expire_secs = mv.to_number<std::uint64_t>();
          } else {
            error = "unknown config key memory." + std::string(mk);
            return false;
          }
        }
      } else if (k == "idempotency_window_secs") {
        if (!given("--idempotency-window")) s.idempotency_window_secs = num();
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
      } else if (k == "redis_tail_wakeup") {
        if (!given("--redis-tail-wakeup")) s.redis_tail_wakeup = str();
      } else if (k == "redis_tail_batch") {
        if (!given("--redis-tail-batch")) s.redis_tail_batch = num();
      } else if (k == "log_level") {
        if (!given("--log-level")) s.log_level = str();
      } else if (k == "log_format") {
        if (!given("--log-format")) s.log_format = str();
      } else if (k == "admin_token") {
        if (!given("--admin-token")) s.admin_token = str();
      } else if (k == "drain_delay_secs") {
        if (!given("--drain-delay")) s.drain_delay_secs = val.to_number<double>();
      } else if (k == "admin_port") {
        if (!given("--admin-port")) s.admin_port = static_cast<int>(val.to_number<std::int64_t>());
      } else if (k == "admin_host") {
        if (!given("--admin-host")) s.admin_host = str();
      } else if (k == "postgres") {
        s.postgres = val;
      } else if (k == "schema") {
        if (!given("--schema")) s.schema = str();
      } else if (k == "public_channels" || k == "cors_origins") {
        auto& out = k == "public_channels" ? s.public_channels : s.cors_origins;
        if (!given(k == "public_channels" ? "--public-channels" : "--cors-origin")) {
          out.clear();
          if (val.is_string()) {
            std::string list = str();
            for (std::size_t at = 0; at <= list.size();) {
              auto comma = list.find(',', at);
              auto item = list.substr(at, comma == std::string::npos ? comma : comma - at);
              if (!item.empty()) out.push_back(item);
              if (comma == std::string::npos) break;
              at = comma + 1;
            }
          } else {
            for (auto& item : val.as_array()) out.emplace_back(item.as_string());
          }
        }
      } else if (k == "jwt_secret_file") {
        if (!given("--jwt-secret-file")) s.jwt_secret_file = str();
      } else if (k == "jwt_public_key_file") {
        if (!given("--jwt-public-key-file")) s.jwt_public_key_file = str();
      } else if (k == "jwks_file") {
        if (!given("--jwks-file")) s.jwks_file = str();
      } else if (k == "jwt_audience") {
        if (!given("--jwt-audience")) s.jwt_audience = str();
      } else if (k == "jwt_issuer") {
        if (!given("--jwt-issuer")) s.jwt_issuer = str();
      } else if (k == "jwt_cookie") {
        if (!given("--jwt-cookie")) s.jwt_cookie = str();
      } else if (k == "jwt_leeway_secs") {
        if (!given("--jwt-leeway")) s.jwt_leeway_secs = num();
      } else if (k == "auth_url") {
        if (!given("--auth-url")) s.auth_url = str();
      } else if (k == "auth_timeout_secs") {
        if (!given("--auth-timeout")) s.auth_timeout_secs = val.to_number<double>();
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
    error = "drain_delay_secs must be 0-3600";
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
    error = "ping_interval_secs must be positive";
    return false;
  }
  if (s.max_channels == 0) {
    error = "max_channels must be at least 1";
    return false;
  }
  if (!s.static_dir.empty() && !std::filesystem::is_directory(s.static_dir)) {
    error = "static: " + s.static_dir + " is not a directory";
    return false;
  }
  if (!s.redis.empty() && !s.redis.starts_with("redis://") && !s.redis.starts_with("rediss://") &&
      !s.redis.starts_with("unix://")) {
    error = "redis must be a redis://, rediss:// or unix:// URL";
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
  a.jwt_audience = s.jwt_audience;
  a.jwt_issuer = s.jwt_issuer;
  a.jwt_cookie = s.jwt_cookie;
  a.jwt_leeway = std::chrono::seconds(s.jwt_leeway_secs);
  a.auth_url = s.auth_url;
  if (!(s.auth_timeout_secs > 0) || s.auth_timeout_secs > 600)
    throw std::invalid_argument("auth_timeout_secs must be more than 0 and at most 600 seconds");
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
  boost::json::object o;
  o["host"] = s.host;
  o["port"] = s.port;
  o["threads"] = s.threads;
  o["static"] = s.static_dir;
  o["history"] = {{"max_length", s.history_max_length},
                  {"expire_after_secs", s.history_expire_secs}};
  o["memory"] = {{"max_length", s.memory.max_length},
                 {"max_channels", s.memory.max_channels},
                 {"max_bytes", s.memory.max_bytes},
                 {"idle_expire_secs", s.memory.idle_expire_secs}};
  o["max_duration_secs"] = s.max_duration_secs;
  o["idempotency_window_secs"] = s.idempotency_window_secs;
  if (s.ping_interval_secs == static_cast<double>(static_cast<std::int64_t>(s.ping_interval_secs)))
    o["ping_interval_secs"] = static_cast<std::int64_t>(s.ping_interval_secs);
  else
    o["ping_interval_secs"] = s.ping_interval_secs;
  o["max_channels"] = s.max_channels;
  o["max_body_bytes"] = s.max_body_bytes;
  o["emit_token"] = secret(s.emit_token);
  o["allow_origin"] = s.allow_origin;
  o["redis"] = mask_url_password(s.redis);
  o["key_prefix"] = s.key_prefix;
  o["redis_tail_wakeup"] = s.redis_tail_wakeup;
  o["redis_tail_batch"] = s.redis_tail_batch;
  o["log_level"] = s.log_level;
  o["log_format"] = s.log_format;
  o["admin_token"] = secret(s.admin_token);
  o["drain_delay_secs"] = s.drain_delay_secs;
  o["admin_host"] = s.admin_host;
  o["admin_port"] = s.admin_port;
  o["schema"] = s.schema;
  o["strict"] = s.strict;
  auto strings = [](const std::vector<std::string>& v) {
    boost::json::array a;
    for (auto& x : v) a.emplace_back(x);
    return a;
  };
  o["public_channels"] = strings(s.public_channels);
  o["jwt_secret_file"] = s.jwt_secret_file;
  o["jwt_public_key_file"] = s.jwt_public_key_file;
  o["jwks_file"] = s.jwks_file;
  o["jwt_audience"] = s.jwt_audience;
  o["jwt_issuer"] = s.jwt_issuer;
  o["jwt_cookie"] = s.jwt_cookie;
  o["jwt_leeway_secs"] = s.jwt_leeway_secs;
  o["auth_url"] = mask_url_password(s.auth_url);
  o["auth_timeout_secs"] = s.auth_timeout_secs;
  o["cors_origins"] = strings(s.cors_origins);
  if (!s.postgres.is_null()) {
    auto pg = s.postgres;
    if (auto* obj = pg.if_object()) {
      if (!s.database_url.empty()) (*obj)["url"] = s.database_url;
      if (auto* url = obj->if_contains("url"); url && url->is_string())
        *url = mask_url_password(std::string(url->get_string()));
    }
    o["postgres"] = std::move(pg);
  }
  return o;
}

}  // namespace forrealtime::cli
