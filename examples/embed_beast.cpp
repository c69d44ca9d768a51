// Embedding forrealtime in your own Boost.Beast server.
//
// The server below has a route of its own (GET /hello) and mounts the SSE endpoint at
// /api/realtime behind a middleware that wants `?token=demo` (EventSource cannot send headers,
// so browsers pass credentials in the query or a cookie). A timer emits a `clock.tick` event on
// channel `clock` every second.
//
//   ./embed_beast 8080
//   curl -N 'http://127.0.0.1:8080/api/realtime?channel=clock&token=demo'
#include <iostream>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <forrealtime/beast.hpp>
#include <forrealtime/realtime.hpp>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> session(tcp::socket socket, const forrealtime::Handler& realtime) {
  boost::beast::tcp_stream stream(std::move(socket));
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) co_return;
    if (req.target().starts_with("/api/realtime")) {
      co_await forrealtime::beast::serve(realtime, std::move(stream), std::move(req));
      co_return;  // the stream owns the connection now
    }
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = req.target() == "/hello" ? "hello from your own route\n" : "try /hello\n";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, use_tuple);
    if (!req.keep_alive()) co_return;
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, const forrealtime::Handler& realtime) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), realtime), asio::detached);
  }
}

asio::awaitable<void> tick(forrealtime::Realtime& rt) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int n = 0;; ++n) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    rt.channel("clock").async_emit("clock.tick", {{"n", n}}, [](auto) {});
  }
}

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::stoi(argv[1])) : 8080;
  forrealtime::Realtime rt({.history = {.max_length = 1000}});

  // Middleware: runs after the channel list is parsed, before anything is streamed.
  auto handler = forrealtime::handle(
      rt,
      [](const forrealtime::Request& req,
         const std::vector<std::string>& channels) -> std::optional<forrealtime::Response> {
        if (req.target.find("token=demo") == std::string_view::npos)
          return forrealtime::Response::json(401, R"({"error":"add ?token=demo"})");
        return std::nullopt;
      });

  asio::io_context ioc(1);  // one thread: a shard of its own, no strand needed
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), port});
  std::cout << "listening on http://127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
  asio::co_spawn(ioc, listen(acceptor, handler), asio::detached);
  asio::co_spawn(ioc, tick(rt), asio::detached);
  ioc.run();
}
