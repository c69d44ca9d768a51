// GatewayState; see state.hpp.
#include "http/state.hpp"

#include "http/authorize.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {

GatewayState::GatewayState(Realtime& r, GatewayOptions o)
    : realtime(r),
      core(*r.core()),
      options(std::move(o)),
      subscribe(handle(r, subscribe_middleware(options))) {}

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
