// The gateway's HTTP message types and the two ways every handler answers: a response with a
// body, or an error as `{"error": "..."}` that is also logged. Beast stays in src/http: no
// public header includes this file.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "forrealtime/handler.hpp"

namespace forrealtime::gateway {

namespace bhttp = boost::beast::http;

using HttpRequest = bhttp::request<bhttp::string_body>;
using HttpResponse = bhttp::response<bhttp::string_body>;
/** A file streamed from disk (static files). */
using FileResponse = bhttp::response<bhttp::file_body>;
/** A 200 `application/json` answer to a request without `Origin`, for the hot path (an emit): the
 *  connection writes make_response's head for it from a copy it keeps (response_text.hpp), with
 *  this body's Content-Length, and no Beast fields are built per answer. */
struct JsonOk {
  std::string body;
  bool keep = true;  // the request's keep_alive()
  unsigned result_int() const { return 200; }
  bool keep_alive() const { return keep; }
};
/** What a route answers. */
using Reply = std::variant<HttpResponse, FileResponse, JsonOk>;

struct GatewayState;

/** A response to `req` with the common headers (Server, Content-Type, CORS origin,
 *  keep-alive as the request asked). */
HttpResponse make_response(const GatewayState& state, const HttpRequest& req, bhttp::status status,
                           std::string body, std::string_view type = "application/json");

/** An error response `{"error": message}`, logged at info with the method and path. */
HttpResponse error_response(const GatewayState& state, const HttpRequest& req, bhttp::status status,
                            std::string_view message);

/** A library-level Response (from middleware or an authorizer) as a Beast response. */
HttpResponse from_response(const GatewayState& state, const HttpRequest& req, Response r);

/** The status of a reply, whichever body it has. */
unsigned status_of(const Reply& reply);

}  // namespace forrealtime::gateway
