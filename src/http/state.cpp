// GatewayState; see state.hpp.
#include "http/state.hpp"

#include "http/authorize.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {

GatewayState::GatewayState(Realtime& r, GatewayOptions o)
    : realtime(r),
      core(*r.core()),
      options(std::move(o)),
      subscribe(handle(r, subscribe_middleware(options))),
      connection_limits(options.max_connections, options.max_connections_per_ip),
      emit_limits(options.emit_rate > 0 ? options.emit_rate : 1, options.emit_burst) {}

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
