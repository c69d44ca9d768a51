// The accept loop and the connection session; see connection.hpp.
#include "http/connection.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "core/query.hpp"
#include "forrealtime/beast.hpp"
#include "http/log_limit.hpp"
#include "http/request_checks.hpp"
#include "http/router.hpp"
#include "http/state.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string peer(boost::beast::tcp_stream& s) {
  error_code ec;
  auto ep = s.socket().remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

asio::awaitable<void> run_connection(GatewayState& state, tcp::socket socket, Listener listener) {
  // Counted while the coroutine lives: a stream's connection counts until the stream ends.
  struct Open {
    std::atomic<std::int64_t>& n;
    explicit Open(std::atomic<std::int64_t>& c) : n(c) {
      n.fetch_add(1, std::memory_order_relaxed);
    }
    ~Open() { n.fetch_sub(1, std::memory_order_relaxed); }
  } open(state.ops.connections);
  boost::beast::tcp_stream stream(std::move(socket));
  boost::beast::flat_buffer buffer;
  for (;;) {
    RequestParser parser;
    apply_limits(parser, state);
    stream.expires_after(state.options.idle_timeout);
    // The head first: it is checked before any byte of the body is read as a body (or, worse,
    // as the next request).
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    std::optional<Refusal> refusal;
    if (!ec) refusal = check_head(parser);
    if (!ec && !refusal && !parser.is_done()) {
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      ec = bec;
    }
    if (!refusal && (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                     ec == asio::error::connection_reset || ec == boost::beast::error::timeout ||
                     ec == asio::error::operation_aborted))
      co_return;
    if (ec && !refusal) refusal = refusal_for(ec, state);
    if (refusal) {
      auto& dp = state.core.hub->metrics();
      if (refusal->status == bhttp::status::payload_too_large) dp.hit(metrics::Limit::body_size);
      if (refusal->status == bhttp::status::request_header_fields_too_large)
        dp.hit(metrics::Limit::header_size);
      state.ops.count(RouteLabel::other, static_cast<unsigned>(refusal->status));
      std::uint64_t suppressed = 0;
      if (state.client_errors.allow(suppressed)) {
        if (suppressed) state.log().info("{} lines about refused requests suppressed", suppressed);
        state.log().info("bad request from {}: {}", peer(stream), log_excerpt(refusal->why, 400));
      }
      auto res = refusal_response(*refusal);
      co_await bhttp::async_write(stream, res, use_tuple);
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    state.metrics.http_requests++;
    auto req = parser.release();
    auto path = core::path_of(std::string_view(req.target()));
    if (opens_stream(req) && served_on(listener, path, state)) {
      state.metrics.subscribes++;
      state.ops.count(RouteLabel::subscribe, 200);
      auto serve_op = beast::serve(state.subscribe, std::move(stream), std::move(req));
      co_await std::move(serve_op);
      co_return;
    }
    auto route_op = route(req, state, listener);
    Reply reply = co_await std::move(route_op);
    state.ops.count(route_label(path), status_of(reply));
    bool keep = std::visit([](const auto& r) { return r.keep_alive(); }, reply);
    error_code wec;
    if (auto* res = std::get_if<HttpResponse>(&reply)) {
      auto [e, wn] = co_await bhttp::async_write(stream, *res, use_tuple);
      wec = e;
    } else {
      auto [e, wn] = co_await bhttp::async_write(stream, std::get<FileResponse>(reply), use_tuple);
      wec = e;
    }
    if (wec || !keep) {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
  }
}

asio::awaitable<void> run_accept(GatewayState& state, tcp::acceptor& acceptor, Listener listener) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: say so and back off instead of spinning.
      state.log().warn("accept failed: {}", ec.message());
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(use_tuple);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor.get_executor(), run_connection(state, std::move(socket), listener),
                   [&state](std::exception_ptr e) {
                     if (e) state.log().error("connection failed: {}", describe(e));
                   });
  }
}

void start_accepting(GatewayState& state, tcp::acceptor& acceptor, Listener listener) {
  asio::co_spawn(acceptor.get_executor(), run_accept(state, acceptor, listener),
                 [&state, &acceptor, listener](std::exception_ptr e) {
                   if (!e) return;
                   // The loop must not end while the acceptor is open: log, and accept again.
                   state.log().error("the accept loop failed: {}; accepting again", describe(e));
                   if (acceptor.is_open()) start_accepting(state, acceptor, listener);
                 });
}

}  // namespace forrealtime::gateway
