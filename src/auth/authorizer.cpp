// forrealtime::Auth: public channels, JWT and forward auth combined into one decision per
// request; see forrealtime/auth.hpp. The order: channels that are all public need nothing; a
// token, when JWT is configured, is verified (a bad one is a 401 at once) and its grant decides;
// what it does not cover goes to the auth service when one is configured. Log lines name the
// operation, the decision and the reason, never a token, cookie or header value.
#include "forrealtime/auth.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "auth/forward_client.hpp"
#include "auth/jwks_fetcher.hpp"
#include "auth/jwt.hpp"
#include "auth/token.hpp"
#include "core/events.hpp"
#include "core/query.hpp"

namespace forrealtime {

namespace asio = boost::asio;

namespace {

auth::Operation to_auth(Operation op) {
  switch (op) {
    case Operation::subscribe:
      return auth::Operation::subscribe;
    case Operation::history:
      return auth::Operation::history;
    case Operation::emit:
      return auth::Operation::emit;
    case Operation::admin:
      break;
  }
  return auth::Operation::admin;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

long long unix_secs() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Response refusal(unsigned status, std::string_view message) {
  auto r = Response::json(status, core::error_body(message));
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace

struct Auth::Impl {
  AuthOptions options;
  std::shared_ptr<spdlog::logger> log;
  auth::Policy policy;
  auth::KeySet keys;  // from files
  std::shared_ptr<const auth::KeySet> file_keys;
  std::unique_ptr<auth::JwksFetcher> jwks;  // --jwks-url
  auth::VerifyOptions verify;

  std::shared_ptr<const auth::KeySet> current_keys() const {
    return jwks ? jwks->keys() : file_keys;
  }

  // A token naming a kid none of our keys has: ask for the JWK Set again (at most once per
  // interval) and wait for it, within the auth timeout. True when new keys arrived.
  asio::awaitable<bool> refetch_for_kid(const auth::KeySet& now, std::string_view token) {
    if (!jwks) co_return false;
    auto parts = auth::parse_jwt(token, nullptr);
    if (!parts || parts->kid.empty() || now.has_kid(parts->kid)) co_return false;
    auto gen = jwks->generation();
    if (!jwks->refresh_soon()) co_return false;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto deadline = std::chrono::steady_clock::now() + options.auth_timeout;
    while (jwks->generation() == gen && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return jwks->generation() != gen;
  }
  std::unique_ptr<auth::ForwardClient> forward;
  AuthCounters counters;

  AuthDecision refuse(unsigned status, std::string message, Operation op) {
    (status == 401   ? counters.unauthenticated
     : status == 403 ? counters.forbidden
                     : counters.unavailable)++;
    log->info("{} refused ({}): {}", auth::to_string(to_auth(op)), status, message);
    return AuthDecision{refusal(status, message), 0};
  }

  AuthDecision allow(std::uint64_t expires_ms, std::string subject = {}) {
    counters.allowed++;
    return AuthDecision{std::nullopt, expires_ms, std::move(subject)};
  }

  asio::awaitable<AuthDecision> check(const Request& req, Operation op,
                                      const std::vector<std::string>& channels) {
    auto aop = to_auth(op);
    auto header = [&](std::string_view name) -> std::optional<std::string_view> {
      return req.header ? req.header(name) : std::nullopt;
    };
    // The static emit token grants emit everywhere, as it did before authorization existed.
    if (op == Operation::emit && !options.emit_token.empty()) {
      if (auto a = header("authorization");
          a && a->starts_with("Bearer ") && constant_time_equal(a->substr(7), options.emit_token))
        co_return allow(0);
    }
    if (!auth::first_denied(policy, nullptr, aop, channels)) co_return allow(0);
    std::optional<std::string> denied_channel;
    bool had_credential = false;
    auto key_set = current_keys();
    if (!key_set->empty() || jwks) {
      auto token = auth::find_token(header("authorization"), header("cookie"),
                                    core::query_of(req.target), options.jwt_cookie);
      if (token) {
        had_credential = true;
        auto r = auth::verify_jwt(*key_set, *token, verify, unix_secs());
        if (std::holds_alternative<std::string>(r)) {
          auto refetch = refetch_for_kid(*key_set, *token);
          if (co_await std::move(refetch))
            r = auth::verify_jwt(*current_keys(), *token, verify, unix_secs());
        }
        if (auto* why = std::get_if<std::string>(&r)) {
          counters.bad_tokens++;
          co_return refuse(401, "invalid token: " + *why, op);
        }
        auto& cred = std::get<auth::Credential>(r);
        denied_channel = auth::first_denied(policy, &cred, aop, channels);
        if (!denied_channel)
          co_return allow(
              cred.expires_at > 0 ? static_cast<std::uint64_t>(cred.expires_at) * 1000 : 0,
              cred.sub);
      }
    }
    if (forward) {
      counters.forward_calls++;
      auto call = forward->check(aop, channels, req);
      auto d = co_await std::move(call);
      using K = auth::ForwardDecision::Kind;
      switch (d.kind) {
        case K::allow:
          if (op == Operation::admin && !d.admin)
            co_return refuse(403, "the auth service did not grant admin ({\"admin\": true})", op);
          co_return allow(d.ttl_secs ? core::now_ms() + d.ttl_secs * 1000 : 0,
                          std::move(d.subject));
        case K::unauthenticated:
          co_return refuse(401, d.reason, op);
        case K::forbidden:
          co_return refuse(403, d.reason, op);
        case K::unavailable:
          log->warn("forward auth failed: {}", d.reason);
          co_return refuse(503, "authorization is unavailable: " + d.reason, op);
      }
    }
    if (op == Operation::admin)
      co_return refuse(had_credential ? 403 : 401, "the admin grant is required", op);
    if (!had_credential) {
      auto first = auth::first_denied(policy, nullptr, aop, channels);
      co_return refuse(401,
                       "a token is required for " + std::string(auth::to_string(aop)) + " on '" +
                           first.value_or("") + "'",
                       op);
    }
    co_return refuse(403,
                     "the token does not grant " + std::string(auth::to_string(aop)) + " on '" +
                         denied_channel.value_or("") + "'",
                     op);
  }
};

Auth::Auth(AuthOptions options, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<Impl>()) {
  auto& d = *impl_;
  d.options = std::move(options);
  d.log = log ? std::move(log) : spdlog::default_logger();
  for (auto& p : d.options.public_channels)
    if (auto why = auth::check_pattern(p))
      throw std::invalid_argument("--public-channels: " + *why);
  d.policy.public_channels = d.options.public_channels;
  std::string why;
  auto load = [&](const std::string& path, const char* flag, auto add) {
    if (path.empty()) return;
    auto text = auth::KeySet::read_file(path, &why);
    if (!text || !add(std::move(*text)))
      throw std::invalid_argument(std::string(flag) + " " + path + ": " + why);
  };
  load(d.options.jwt_secret_file, "--jwt-secret-file",
       [&](std::string t) { return d.keys.add_secret(std::move(t), &why); });
  load(d.options.jwt_public_key_file, "--jwt-public-key-file",
       [&](std::string t) { return d.keys.add_pem(t, &why); });
  load(d.options.jwks_file, "--jwks-file", [&](std::string t) { return d.keys.add_jwks(t, &why); });
  if (d.keys.empty() && d.options.jwks_url.empty() &&
      (!d.options.jwt_audience.empty() || !d.options.jwt_issuer.empty()))
    throw std::invalid_argument(
        "--jwt-audience / --jwt-issuer need a key (--jwt-secret-file, --jwt-public-key-file, "
        "--jwks-file or --jwks-url)");
  {
    auto fk = std::make_shared<auth::KeySet>();
    fk->add_all(d.keys);
    d.file_keys = std::move(fk);
  }
  if (!d.options.jwks_url.empty()) {
    if (d.options.jwks_refresh.count() < 10)
      throw std::invalid_argument("--jwks-refresh must be at least 10 seconds");
    auth::JwksFetcher::Options jo;
    jo.url = d.options.jwks_url;
    jo.refresh = d.options.jwks_refresh;
    jo.timeout = d.options.auth_timeout;
    d.jwks = std::make_unique<auth::JwksFetcher>(std::move(jo), d.keys, d.log);
  }
  d.verify.audience = d.options.jwt_audience;
  d.verify.issuer = d.options.jwt_issuer;
  d.verify.leeway_secs = d.options.jwt_leeway.count();
  if (!d.options.auth_url.empty())
    d.forward = std::make_unique<auth::ForwardClient>(d.options.auth_url, d.options.auth_timeout);
}

Auth::~Auth() = default;
Auth::Auth(const Auth&) = default;
Auth& Auth::operator=(const Auth&) = default;

asio::awaitable<AuthDecision> Auth::check(const Request& request, Operation op,
                                          const std::vector<std::string>& channels) const {
  auto impl = impl_;
  auto decide = impl->check(request, op, channels);
  co_return co_await std::move(decide);
}

namespace {

asio::awaitable<std::optional<Response>> run_authorizer(Auth auth, const Request& req, Operation op,
                                                        const std::vector<std::string>& channels) {
  auto decide = auth.check(req, op, channels);
  auto d = co_await std::move(decide);
  if (d.refusal) co_return std::move(d.refusal);
  if (op == Operation::subscribe && d.grant_expires_ms && req.limit_stream)
    req.limit_stream(d.grant_expires_ms);
  if (op == Operation::subscribe && !d.subject.empty() && req.set_subject)
    req.set_subject(d.subject);
  co_return std::nullopt;
}

asio::awaitable<std::optional<Response>> run_middleware(Auth auth, Middleware next,
                                                        const Request& req,
                                                        const std::vector<std::string>& channels) {
  auto first = run_authorizer(auth, req, Operation::subscribe, channels);
  if (auto refused = co_await std::move(first)) co_return refused;
  if (!next) co_return std::nullopt;
  auto then = next(req, channels);
  co_return co_await std::move(then);
}

}  // namespace

Authorizer Auth::authorizer() const {
  return
      [auth = *this](const Request& req, Operation op, const std::vector<std::string>& channels) {
        return run_authorizer(auth, req, op, channels);
      };
}

Middleware Auth::middleware(Middleware next) const {
  return [auth = *this, next = std::move(next)](const Request& req,
                                                const std::vector<std::string>& channels) {
    return run_middleware(auth, next, req, channels);
  };
}

const AuthCounters& Auth::counters() const {
  return impl_->counters;
}

const AuthOptions& Auth::options() const {
  return impl_->options;
}

}  // namespace forrealtime
