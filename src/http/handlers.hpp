// The gateway's request handlers, each a function of (request, state) -> response like Beast's
// `handle_request`: no sockets, no connection state, so a test or a fuzz target runs them on a
// request built in memory. The router (router.hpp) picks one by path and method; the
// subscribe endpoint is not here: it keeps the connection (see connection.cpp and handler.hpp).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"

namespace forrealtime::gateway {

struct GatewayState;

/** POST /api/emit: one event or a batch (PROTOCOL.md section 5). */
boost::asio::awaitable<Reply> handle_emit(const HttpRequest& req, GatewayState& state);
/** GET /api/history (PROTOCOL.md section 7). */
boost::asio::awaitable<Reply> handle_history(const HttpRequest& req, GatewayState& state);
/** GET /healthz: 200 when the store can serve and the process is not shutting down. */
Reply handle_health(const HttpRequest& req, GatewayState& state);
/** GET /metrics: Prometheus text; with authorization on, it needs the admin credential
 *  (check_admin). */
boost::asio::awaitable<Reply> handle_metrics(const HttpRequest& req, GatewayState& state);
/** GET/HEAD of anything outside /api/: a file under GatewayOptions::static_dir. */
Reply handle_static(const HttpRequest& req, GatewayState& state);
/** OPTIONS on any path: the CORS preflight answer. */
Reply handle_preflight(const HttpRequest& req, GatewayState& state);

}  // namespace forrealtime::gateway
