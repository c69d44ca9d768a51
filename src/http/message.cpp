// Responses common to every handler; see message.hpp.
#include "http/message.hpp"

#include <spdlog/spdlog.h>

#include "auth/cors.hpp"
#include "auth/token.hpp"
#include "core/events.hpp"
#include "core/header_text.hpp"
#include "http/state.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {

HttpResponse make_response(const GatewayState& state, const HttpRequest& req, bhttp::status status,
                           std::string body, std::string_view type) {
  HttpResponse res{status, req.version()};
  res.set(bhttp::field::server, "forrealtime");
  res.set(bhttp::field::content_type, type);
  auto origin = req.find(bhttp::field::origin);
  for (auto& [name, value] : auth::cors_response_headers(
           state.core.options.cors_origins, state.allow_origin(),
           origin == req.end() ? std::optional<std::string_view>{}
                               : std::string_view(origin->value().data(), origin->value().size())))
    res.set(name, value);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse error_response(const GatewayState& state, const HttpRequest& req, bhttp::status status,
                            std::string_view message) {
  std::uint64_t suppressed = 0;
  if (state.client_errors.allow(suppressed)) {
    auto& log = state.log();
    if (suppressed) log.info("{} lines about refused requests suppressed", suppressed);
    log.info("{} {} -> {}: {}", log_excerpt(std::string_view(req.method_string()), 20),
             log_excerpt(auth::redact_target(std::string_view(req.target()))),
             static_cast<unsigned>(status), log_excerpt(message, 400));
  }
  return make_response(state, req, status, core::error_body(message));
}

HttpResponse from_response(const GatewayState& state, const HttpRequest& req, Response r) {
  if (!core::is_header_value(r.content_type)) r.content_type = "application/octet-stream";
  auto res = make_response(state, req, static_cast<bhttp::status>(r.status), std::move(r.body),
                           r.content_type);
  for (auto& [k, v] : r.headers) {
    if (core::is_header_name(k) && core::is_header_value(v)) {
      res.set(k, v);
    } else {
      state.log().warn("a header that is not a token or holds a line break was dropped: {}",
                       log_excerpt(k, 60));
    }
  }
  return res;
}

unsigned status_of(const Reply& reply) {
  return std::visit([](const auto& r) { return r.result_int(); }, reply);
}

}  // namespace forrealtime::gateway
