// What the gateway accepts of a request before any handler sees it: the parser's limits (body
// size, header size) and the precise answer to a request the parser refused (400, 413, 431),
// which is always sent with `Connection: close`. The connection and the fuzz target share them.
#pragma once

#include <string>

#include <boost/beast/http/parser.hpp>
#include <boost/system/error_code.hpp>

#include "http/message.hpp"

namespace forrealtime::gateway {

struct GatewayState;

using RequestParser = bhttp::request_parser<bhttp::string_body>;

/** Sets the gateway's limits on a fresh parser. */
void apply_limits(RequestParser& parser, const GatewayState& state);

/** A request refused before routing. */
struct Refusal {
  bhttp::status status;
  std::string why;
};

/** Why the parser's error `ec` refuses the request. */
Refusal refusal_for(boost::system::error_code ec, const GatewayState& state);

/** The response to a refusal (closes the connection). */
HttpResponse refusal_response(const Refusal& refusal);

}  // namespace forrealtime::gateway
