// The accept loop and one connection's life: read a request (with the limits of
// request_checks.hpp), hand a subscribe to the stream handler, route the rest and write the
// reply, keep-alive until the peer goes or idles out. Errors the peer causes end the
// connection quietly; anything else is logged at the spawn site.
#pragma once

#include <exception>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/ops.hpp"

namespace forrealtime::gateway {

struct GatewayState;

/** Serves one connection until it closes or becomes a stream. */
boost::asio::awaitable<void> run_connection(GatewayState& state,
                                            boost::asio::ip::tcp::socket socket,
                                            Listener listener = Listener::main);

/** Accepts connections until the acceptor is closed; each runs on the acceptor's executor. */
boost::asio::awaitable<void> run_accept(GatewayState& state,
                                        boost::asio::ip::tcp::acceptor& acceptor,
                                        Listener listener = Listener::main);

/** Spawns run_accept; when it ends by an exception, logs it and accepts again (while the
 *  acceptor is open), so one failure never stops a worker from taking connections. */
void start_accepting(GatewayState& state, boost::asio::ip::tcp::acceptor& acceptor,
                     Listener listener = Listener::main);

/** What an exception says, for a log line; any exception, std::exception or not. */
std::string describe(std::exception_ptr e);

}  // namespace forrealtime::gateway
