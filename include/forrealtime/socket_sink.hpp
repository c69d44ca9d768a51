// An SseSink over a plain TCP socket: HTTP/1.1 chunked (or HTTP/1.0 close-delimited) framing,
// written by hand so that streaming needs no Beast. Use it from any Asio-based server.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "forrealtime/handler.hpp"

namespace forrealtime {

/** Takes the socket (whose executor must be single-threaded or a strand) of a connection
 *  whose request has been read. `http_version` is 11 or 10. */
std::shared_ptr<SseSink> make_socket_sink(boost::asio::ip::tcp::socket socket,
                                          int http_version = 11);

}  // namespace forrealtime
