// What request handlers read and count: the library, the gateway's options, the counters and
// the subscribe handler. One GatewayState per Gateway; handlers take it by reference and hold no
// state of their own, so the same handlers serve a socket and an in-memory fuzz input alike.
#pragma once

#include <memory>
#include <string>

#include "forrealtime/gateway.hpp"
#include "forrealtime/handler.hpp"
#include "http/client_address.hpp"
#include "http/limits.hpp"
#include "http/log_limit.hpp"
#include "http/metrics.hpp"
#include "http/ops.hpp"

namespace spdlog {
class logger;
}

namespace forrealtime::detail {
class RealtimeCore;
}

namespace forrealtime::gateway {

class TlsConfig;

struct GatewayState {
  GatewayState(Realtime& realtime, GatewayOptions options);

  Realtime& realtime;
  detail::RealtimeCore& core;
  GatewayOptions options;
  GatewayMetrics metrics;
  /** Probes, drain, connection and request counts (ops.hpp). */
  OpsState ops;
  /** The subscribe endpoint: authorization (Operation::subscribe), then the user's middleware. */
  Handler subscribe;

  /** The budget of info lines about refused requests (client errors). */
  mutable LogLimiter client_errors;
  /** The budget of warning lines about limits reached (connections, emit rate, header time). */
  mutable LogLimiter limit_lines{5};
  /** GatewayOptions::max_connections and max_connections_per_ip (main listener). */
  ConnectionLimiter connection_limits;
  /** The TLS context of the main listener (GatewayOptions::tls_cert_file); null for plain HTTP.
   *  Set by Gateway::start before any connection. */
  std::shared_ptr<TlsConfig> tls;
  /** GatewayOptions::emit_rate; unused when the rate is 0. */
  EmitLimiter emit_limits;
  /** GatewayOptions::trusted_proxies and client_address_header, parsed. */
  TrustedProxies trusted_proxies;
  ForwardedHeader client_address_header = ForwardedHeader::x_forwarded_for;

  spdlog::logger& log() const;
  /** The Access-Control-Allow-Origin every response carries; empty for none. */
  const std::string& allow_origin() const;
  std::size_t max_body_bytes() const;
};

}  // namespace forrealtime::gateway
