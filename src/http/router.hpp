// Routing, in one place: the table of endpoints (path, methods, handler), the answer to a wrong
// method (405 with Allow), to an unknown /api/ path (404), to OPTIONS (the CORS preflight), and
// the fallback to static files. To add an endpoint: a row in the table in router.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"
#include "http/ops.hpp"

namespace forrealtime::gateway {

struct GatewayState;

/** HTTP methods a route accepts, as flags. */
enum Methods : std::uint8_t { kGet = 1, kHead = 2, kPost = 4, kPut = 8, kDelete = 16 };

using RouteHandler = boost::asio::awaitable<Reply> (*)(const HttpRequest&, GatewayState&);

struct Route {
  std::string_view path;   // matched exactly against the target's path
  std::uint8_t methods;    // Methods flags
  std::string_view allow;  // the Allow header of a 405
  /** The handler; null for the subscribe endpoint, whose connection becomes a stream. */
  RouteHandler handler;
};

/** The routing table. */
std::span<const Route> routes();

/** True when `req` opens an SSE stream: the connection then goes to the subscribe handler. */
bool opens_stream(const HttpRequest& req);

/** Answers any request but a stream-opening one. */
boost::asio::awaitable<Reply> route(const HttpRequest& req, GatewayState& state,
                                    Listener listener = Listener::main);

}  // namespace forrealtime::gateway
