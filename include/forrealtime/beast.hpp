// Mounting the SSE endpoint in your own Boost.Beast server: one call hands the connection over.
//
//   // inside your session coroutine, after http::async_read(stream, buffer, req, ...):
//   if (req.target().starts_with("/api/realtime")) {
//     co_await forrealtime::beast::serve(handler, std::move(stream), std::move(req));
//     co_return;  // the connection now belongs to the stream
//   }
//
// Including this header brings in Beast; the rest of forrealtime's headers do not.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "forrealtime/handler.hpp"
#include "forrealtime/socket_sink.hpp"

namespace forrealtime::beast {

/** A Request view of a Beast request (valid while `req` lives). */
template <class Body, class Fields>
Request request_view(const boost::beast::http::request<Body, Fields>& req) {
  Request r;
  r.method = std::string_view(req.method_string().data(), req.method_string().size());
  r.target = std::string_view(req.target().data(), req.target().size());
  r.version = static_cast<int>(req.version());
  r.header = [&req](std::string_view name) -> std::optional<std::string_view> {
    auto it = req.find(boost::beast::string_view(name.data(), name.size()));
    if (it == req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  };
  return r;
}

/** Serves a subscribe request read from `stream`; takes the connection over. */
template <class Body, class Fields>
boost::asio::awaitable<void> serve(const Handler& handler, boost::beast::tcp_stream stream,
                                   boost::beast::http::request<Body, Fields> req) {
  stream.expires_never();
  int version = static_cast<int>(req.version());
  // Named first: GCC 12 destroys temporaries of a co_await expression twice.
  auto op = handler(request_view(req), make_socket_sink(stream.release_socket(), version));
  co_await std::move(op);
}

}  // namespace forrealtime::beast
