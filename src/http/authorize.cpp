// Authorization before each operation; see authorize.hpp.
#include "http/authorize.hpp"

#include <spdlog/spdlog.h>

#include "auth/cors.hpp"
#include "auth/token.hpp"
#include "core/events.hpp"
#include "forrealtime/beast.hpp"
#include "http/state.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {
namespace {

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::optional<HttpResponse> check_emit_origin(const GatewayState& state, const HttpRequest& req) {
  auto o = req.find(bhttp::field::origin);
  if (o == req.end()) return std::nullopt;
  std::string_view origin(o->value().data(), o->value().size());
  auto h = req.find(bhttp::field::host);
  std::optional<std::string_view> host;
  if (h != req.end()) host = std::string_view(h->value().data(), h->value().size());
  auto& cors = state.core.options.cors_origins;
  std::vector<std::string> legacy;
  if (cors.empty() && !state.options.authorize && !state.allow_origin().empty())
    legacy.push_back(state.allow_origin());
  if (auth::origin_allowed(cors.empty() ? legacy : cors, origin, host)) return std::nullopt;
  return error_response(state, req, bhttp::status::forbidden,
                        "emits from origin " + std::string(origin.substr(0, 200)) +
                            " are not allowed (see --cors-origin)");
}

std::optional<HttpResponse> check_emit_token(const GatewayState& state, const HttpRequest& req) {
  auto& token = state.options.emit_token;
  if (token.empty()) return std::nullopt;
  auto auth = req[bhttp::field::authorization];
  std::string_view a(auth.data(), auth.size());
  if (a.starts_with("Bearer ") && constant_time_equal(a.substr(7), token)) return std::nullopt;
  auto r = error_response(state, req, bhttp::status::unauthorized, "missing or wrong bearer token");
  r.set(bhttp::field::www_authenticate, "Bearer");
  return r;
}

boost::asio::awaitable<std::optional<HttpResponse>> authorize(
    const GatewayState& state, const HttpRequest& req, Operation op,
    const std::vector<std::string>& channels) {
  if (!state.options.authorize) co_return std::nullopt;
  std::optional<Response> refused;
  bool failed = false;
  try {
    auto view = beast::request_view(req);
    auto check = state.options.authorize(view, op, channels);
    refused = co_await std::move(check);
  } catch (const std::exception& e) {
    state.log().error("authorizer threw: {}", e.what());
    failed = true;
  } catch (...) {
    state.log().error("authorizer threw something that is not a std::exception");
    failed = true;
  }
  if (failed)
    co_return error_response(state, req, bhttp::status::internal_server_error,
                             "internal error in authorization");
  if (!refused) co_return std::nullopt;
  state.log().info("{} {} -> {}: refused by the authorizer", std::string_view(req.method_string()),
                   auth::redact_target(std::string_view(req.target())), refused->status);
  co_return from_response(state, req, std::move(*refused));
}

namespace {

// A free coroutine holding its own copies: it does not depend on the closure that started it.
boost::asio::awaitable<std::optional<Response>> run_subscribe_checks(
    Authorizer authorize, Middleware middleware, const Request& req,
    const std::vector<std::string>& channels) {
  auto check = authorize(req, Operation::subscribe, channels);
  if (auto refused = co_await std::move(check)) co_return refused;
  if (!middleware) co_return std::nullopt;
  auto next = middleware(req, channels);
  co_return co_await std::move(next);
}

}  // namespace

Middleware subscribe_middleware(const GatewayOptions& options) {
  if (!options.authorize) return options.middleware;
  return [authorize = options.authorize, middleware = options.middleware](
             const Request& req, const std::vector<std::string>& channels) {
    return run_subscribe_checks(authorize, middleware, req, channels);
  };
}

}  // namespace forrealtime::gateway
