// Authorization for the gateway and for C++ programs that serve forrealtime themselves: who may
// subscribe, read history and emit, decided by public channel patterns, JSON Web Tokens with a
// `realtime` grant claim, and/or a forward-auth call to your own backend (docs/protocol.md,
// "Authorization"). Once any of them is configured, everything not granted is refused: 401
// without a credential, 403 when a credential does not cover every channel asked for, 503 when
// the auth service cannot answer (fail closed).
//
//   forrealtime::Auth auth({.public_channels = {"news"}, .jwt_secret_file = "/etc/fr/secret"});
//   forrealtime::Gateway gw(rt, {.authorize = auth.authorizer()});      // the whole gateway
//   auto handler = forrealtime::handle(rt, auth.middleware());          // your own Beast server
//   // your history / emit routes:
//   auto d = co_await auth.check(request_view, forrealtime::Operation::history, {channel});
//   if (d.refusal) { /* answer *d.refusal */ }
//
// An Auth is a cheap handle: copies share the keys, the decision cache and the counters. It is
// thread-safe; `check` runs forward-auth calls on the calling coroutine's executor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forrealtime/gateway.hpp"

namespace spdlog {
class logger;
}

namespace forrealtime {

struct AuthOptions {
  /** Channel patterns anyone may subscribe to and read (`news`, `public:*`). */
  std::vector<std::string> public_channels;
  /** HMAC secret (HS256/384/512), at least 32 bytes; one trailing newline is ignored. */
  std::string jwt_secret_file;
  /** PEM public key(s): RSA (RS256/384/512), EC P-256 (ES256), P-384 (ES384), Ed25519 (EdDSA). */
  std::string jwt_public_key_file;
  /** A JWK Set file `{"keys": [...]}`. */
  std::string jwks_file;
  /** A JWK Set fetched from this http:// or https:// URL at start, every `jwks_refresh`, and
   *  soon after a token names an unknown `kid` (at most once per 5 s); a failed fetch keeps
   *  the keys fetched before. */
  std::string jwks_url;
  std::chrono::seconds jwks_refresh{300};
  /** When set, tokens must carry this `aud` / `iss`. */
  std::string jwt_audience;
  std::string jwt_issuer;
  /** The cookie that may carry the token ('' to ignore cookies). */
  std::string jwt_cookie = "forrealtime_token";
  /** Clock skew allowed on exp, nbf and iat. */
  std::chrono::seconds jwt_leeway{30};
  /** Forward auth: `POST` here before each operation not decided by the above. */
  std::string auth_url;
  std::chrono::milliseconds auth_timeout{3000};
  /** A static bearer token that may emit on every channel (the gateway's `--emit-token`). */
  std::string emit_token;

  /** True when anything above turns authorization on (emit_token alone does not). */
  bool enabled() const {
    return !public_channels.empty() || !jwt_secret_file.empty() || !jwt_public_key_file.empty() ||
           !jwks_file.empty() || !jwks_url.empty() || !auth_url.empty();
  }
};

struct AuthDecision {
  /** The refusal to send (401, 403, 503 with a JSON body), or nothing to go on. */
  std::optional<Response> refusal;
  /** When the grant ends (JWT exp, forward-auth ttl), in ms since the epoch; 0 for never. A
   *  stream opened on it ends then with the system event `grant_expired`. */
  std::uint64_t grant_expires_ms = 0;
  /** The credential's subject: a JWT's sub, or the `subject` of the forward-auth answer that
   *  allowed it; else empty. */
  std::string subject;
};

/** Counters for /metrics. */
struct AuthCounters {
  std::atomic<std::uint64_t> allowed{0};
  std::atomic<std::uint64_t> unauthenticated{0};
  std::atomic<std::uint64_t> forbidden{0};
  std::atomic<std::uint64_t> unavailable{0};
  std::atomic<std::uint64_t> bad_tokens{0};
  std::atomic<std::uint64_t> forward_calls{0};
};

class Auth {
 public:
  /** Loads the keys; throws std::invalid_argument with a message on any bad setting or file. */
  explicit Auth(AuthOptions options, std::shared_ptr<spdlog::logger> log = nullptr);
  ~Auth();
  Auth(const Auth&);
  Auth& operator=(const Auth&);

  /** Decides one request for `op` on `channels` (for emit, every channel of the batch; none for
   *  admin). Never throws. */
  boost::asio::awaitable<AuthDecision> check(const Request& request, Operation op,
                                             const std::vector<std::string>& channels) const;

  /** For GatewayOptions::authorize. A subscribe allowed until a grant expires asks the stream to
   *  end then (Request::limit_stream). */
  Authorizer authorizer() const;
  /** For handle(): the subscribe decision, then `next` when given. */
  Middleware middleware(Middleware next = {}) const;

  const AuthCounters& counters() const;
  const AuthOptions& options() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace forrealtime
