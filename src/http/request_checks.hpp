// What the gateway accepts of a request before any handler sees it: the parser's limits (body
// size, header size), the checks of the head before its body is read (Transfer-Encoding), and
// the precise answer to a request refused (400, 413, 431, 501), always sent with
// `Connection: close`. The connection and the fuzz target share them.
#pragma once

#include <optional>
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

/** Checks a request head once the parser has read it, before any of its body: a
 *  Transfer-Encoding other than exactly `chunked` is refused, since a body whose length cannot
 *  be determined would otherwise be read as the next request (RFC 9112 section 6.3: 400 and
 *  close); so is one in an HTTP/1.0 request (section 6.1). */
std::optional<Refusal> check_head(const RequestParser& parser);

/** The response to a refusal (closes the connection). */
HttpResponse refusal_response(const Refusal& refusal);

}  // namespace forrealtime::gateway
