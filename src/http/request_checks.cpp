// Request limits and refusals; see request_checks.hpp.
#include "http/request_checks.hpp"

#include <boost/beast/http/error.hpp>

#include "core/events.hpp"
#include "http/state.hpp"

namespace forrealtime::gateway {

void apply_limits(RequestParser& parser, const GatewayState& state) {
  parser.body_limit(state.max_body_bytes());
}

Refusal refusal_for(boost::system::error_code ec, const GatewayState& state) {
  if (ec == bhttp::error::body_limit)
    return {bhttp::status::payload_too_large,
            "request body is larger than " + std::to_string(state.max_body_bytes()) + " bytes"};
  if (ec == bhttp::error::header_limit)
    return {bhttp::status::request_header_fields_too_large, "request headers are too large"};
  return {bhttp::status::bad_request, "malformed HTTP request: " + ec.message()};
}

HttpResponse refusal_response(const Refusal& refusal) {
  HttpResponse res{refusal.status, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::connection, "close");
  res.body() = core::error_body(refusal.why);
  res.prepare_payload();
  return res;
}

}  // namespace forrealtime::gateway
