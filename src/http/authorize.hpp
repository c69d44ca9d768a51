// The authorization step before each operation (subscribe, history, emit, admin): the emit
// token when one is set, then GatewayOptions::authorize when given. Handlers call it once the
// operation's channels are known and answer its refusal as is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "forrealtime/gateway.hpp"
#include "http/message.hpp"

namespace forrealtime::gateway {

/** The emit token check (`Authorization: Bearer <token>`, compared in constant time); a 401
 *  with `WWW-Authenticate: Bearer` when it fails, nothing when it passes or no token is set. */
std::optional<HttpResponse> check_emit_token(const GatewayState& state, const HttpRequest& req);

/** A browser page of another origin may not emit (it needs no preflight for a form or a
 *  `text/plain` POST): 403 when the request's `Origin` is neither the gateway's own nor allowed
 *  by Options::cors_origins; without those, by the legacy `allow_origin` (`*`: any), except that
 *  with an authorizer set only the gateway's own origin may emit. Nothing without `Origin`. */
std::optional<HttpResponse> check_emit_origin(const GatewayState& state, const HttpRequest& req);

/** Runs the configured Authorizer for `op` on `channels`; its refusal as a response, or nothing
 *  to go on. An Authorizer that throws is answered 500 and logged. */
boost::asio::awaitable<std::optional<HttpResponse>> authorize(
    const GatewayState& state, const HttpRequest& req, Operation op,
    const std::vector<std::string>& channels);

/** The subscribe endpoint's middleware: the Authorizer for Operation::subscribe, then the user's
 *  middleware; empty when neither is set. */
Middleware subscribe_middleware(const GatewayOptions& options);

}  // namespace forrealtime::gateway
