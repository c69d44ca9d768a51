// Responses common to every handler; see message.hpp.
#include "http/message.hpp"

#include <spdlog/spdlog.h>

#include "core/events.hpp"
#include "http/state.hpp"

namespace forrealtime::gateway {

HttpResponse make_response(const GatewayState& state, const HttpRequest& req, bhttp::status status,
                           std::string body, std::string_view type) {
  HttpResponse res{status, req.version()};
  res.set(bhttp::field::server, "forrealtime");
  res.set(bhttp::field::content_type, type);
  if (!state.allow_origin().empty())
    res.set(bhttp::field::access_control_allow_origin, state.allow_origin());
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse error_response(const GatewayState& state, const HttpRequest& req, bhttp::status status,
                            std::string_view message) {
  state.log().info("{} {} -> {}: {}", std::string_view(req.method_string()),
                   std::string_view(req.target()), static_cast<unsigned>(status), message);
  return make_response(state, req, status, core::error_body(message));
}

HttpResponse from_response(const GatewayState& state, const HttpRequest& req, Response r) {
  auto res = make_response(state, req, static_cast<bhttp::status>(r.status), std::move(r.body),
                           r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  return res;
}

unsigned status_of(const Reply& reply) {
  return std::visit([](const auto& r) { return r.result_int(); }, reply);
}

}  // namespace forrealtime::gateway
