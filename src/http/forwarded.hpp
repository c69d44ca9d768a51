// The client of each request on a connection, for the gateway's connection loop: who the TCP
// peer is and whether it is a trusted proxy (once per connection), then per request the client
// address that limits and log lines use (client_address.hpp's rule over the request's headers).
// When something may read it (an authorizer or middleware, e.g. forward auth), the request's
// X-Forwarded-For is replaced with the chain a proxy would send on: a client that is not a
// trusted proxy cannot put words there.
#pragma once

#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "http/client_address.hpp"
#include "http/message.hpp"

namespace forrealtime::gateway {

struct GatewayState;

/** The TCP peer of a connection. */
struct Peer {
  /** Its address as text; "?" when the socket could not say. */
  std::string address;
  boost::asio::ip::address ip;
  /** In GatewayOptions::trusted_proxies: its requests' headers name the client. */
  bool trusted = false;
};

Peer peer_of(const GatewayState& state, const boost::asio::ip::tcp::socket& socket);

/** The client of `req`, which came from `peer`; rewrites `req`'s X-Forwarded-For (see above). */
ClientAddress request_client(const GatewayState& state, const Peer& peer, HttpRequest& req);

/** How log lines name a client: `203.0.113.9 (via 10.0.0.1)` when a proxy forwarded it. */
std::string describe_client(const ClientAddress& client, const Peer& peer);

}  // namespace forrealtime::gateway
