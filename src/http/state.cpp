// GatewayState; see state.hpp.
#include "http/state.hpp"

#include <stdexcept>

#include "http/authorize.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {

GatewayState::GatewayState(Realtime& r, GatewayOptions o)
    : realtime(r),
      core(*r.core()),
      options(std::move(o)),
      subscribe(handle(r, subscribe_middleware(options))),
      connection_limits(options.max_connections, options.max_connections_per_ip),
      emit_limits(options.emit_rate > 0 ? options.emit_rate : 1, options.emit_burst) {
  // Bad configuration fails here, at start, not at the first request.
  std::string error;
  auto trusted = TrustedProxies::parse(options.trusted_proxies, error);
  if (!trusted) throw std::invalid_argument(error);
  trusted_proxies = std::move(*trusted);
  auto header = parse_forwarded_header(options.client_address_header);
  if (!header)
    throw std::invalid_argument("client_address_header: '" + options.client_address_header +
                                "' is neither x-forwarded-for nor forwarded");
  client_address_header = *header;
}

spdlog::logger& GatewayState::log() const {
  return *core.log;
}

const std::string& GatewayState::allow_origin() const {
  return core.options.allow_origin;
}

std::size_t GatewayState::max_body_bytes() const {
  return core.options.limits.max_body_bytes;
}

}  // namespace forrealtime::gateway
