// The SSE endpoint as a framework-agnostic handler.
//
// `handle(realtime, middleware)` returns a `Handler`. Give it a `Request` (a view of the HTTP
// request: method, target, headers) and an `SseSink` (what your HTTP framework writes through);
// it parses the channel list (PROTOCOL.md section 1), runs the middleware, and then either
// answers with an error / the middleware's response, or opens the stream and keeps serving it
// on the sink's executor after the coroutine returns.
//
//   auto handler = forrealtime::handle(rt, [](const forrealtime::Request& req,
//                                             const std::vector<std::string>& channels)
//                                              -> std::optional<forrealtime::Response> {
//     if (req.header("authorization") != "Bearer secret")
//       return forrealtime::Response::json(401, R"({"error":"unauthorized"})");
//     return std::nullopt;  // go on and stream
//   });
//   co_await handler(request_view, forrealtime::make_socket_sink(std::move(socket), 11));
//
// With Boost.Beast, forrealtime/beast.hpp does the adapting in one call.
//
// Shutting down: `realtime.shutdown()` ends every stream with `reconnect`; then stop the
// io_contexts that run streams, destroy the Realtime, and only then those io_contexts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace forrealtime {

class Realtime;

/** A view of an HTTP request; valid for the duration of the handler call. */
struct Request {
  std::string_view method;
  std::string_view target;  // path and query, e.g. /api/realtime?channel=a
  /** Header lookup by case-insensitive name. */
  std::function<std::optional<std::string_view>(std::string_view name)> header;
  /** 11 for HTTP/1.1, 10 for HTTP/1.0, 20 for HTTP/2. */
  int version = 11;
  /** Set by the subscribe handler for its middleware: call it with a time (ms since the epoch)
   *  at which the stream must end, with the system event `grant_expired` (an expiring grant).
   *  The earliest call wins. Empty outside a subscribe. */
  std::function<void(std::uint64_t ms)> limit_stream;
  /** Set by the subscribe handler for its middleware: call it with the authenticated subject
   *  (a JWT's sub) so that an operator can end that subject's streams. Empty outside a
   *  subscribe. */
  std::function<void(std::string subject)> set_subject;
};

/** A complete (non-streaming) HTTP response. */
struct Response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(unsigned status, std::string body) {
    return Response{status, std::move(body), "application/json", {}};
  }
};

/** What an HTTP framework implements so that a stream can be written through it. All calls
 *  happen on `get_executor()`, which must not run handlers concurrently (an io_context run by
 *  one thread, or a strand). */
class SseSink {
 public:
  /** Hears of the sink's progress; calls stop after `close()`. */
  class Listener {
   public:
    virtual void on_written(boost::system::error_code ec) = 0;
    virtual void on_closed(boost::system::error_code ec) = 0;

   protected:
    ~Listener() = default;
  };

  virtual ~SseSink() = default;
  virtual boost::asio::any_io_executor get_executor() = 0;
  /** Sends a complete response and closes the connection. */
  virtual void respond(Response response) = 0;
  /** Starts the stream: `head` gives the status and headers (its body is ignored). From now on
   *  `listener` hears when the peer goes away. */
  virtual void open(const Response& head, Listener& listener) = 0;
  /** Writes the buffers, whose memory stays valid until `on_written`. One write at a time.
   *  `on_written` may be called before `write` returns (a write that completed at once). */
  virtual void write(std::span<const boost::asio::const_buffer> buffers) = 0;
  /** Closes the connection. */
  virtual void close() = 0;
};

/** Middleware runs after the channel list is parsed and before anything is streamed. Return a
 *  response to refuse (401, 403, ...), or nothing to let the stream open. */
using Middleware = std::function<boost::asio::awaitable<std::optional<Response>>(
    const Request&, const std::vector<std::string>& channels)>;
using SyncMiddleware =
    std::function<std::optional<Response>(const Request&, const std::vector<std::string>&)>;

class Handler {
 public:
  /** Serves one subscribe request. Returns once the request is answered or the stream is open;
   *  the stream then lives on by itself on the sink's executor. */
  boost::asio::awaitable<void> operator()(Request request, std::shared_ptr<SseSink> sink) const;

  Handler(Realtime& realtime, Middleware middleware)
      : realtime_(&realtime), middleware_(std::move(middleware)) {}

 private:
  Realtime* realtime_;
  Middleware middleware_;
};

Handler handle(Realtime& realtime, Middleware middleware = {});
Handler handle(Realtime& realtime, SyncMiddleware middleware);

}  // namespace forrealtime
