// A host with Asio of its own, header-only (no BOOST_ASIO_SEPARATE_COMPILATION and none of the
// library's other Asio settings): it compiles and links beside forrealtime, and both work.
#include <forrealtime/handler.hpp>
#include <forrealtime/realtime.hpp>

#if defined(BOOST_ASIO_SEPARATE_COMPILATION) || defined(BOOST_ASIO_NO_DEPRECATED) || \
    defined(BOOST_ASIO_DISABLE_CONCEPTS) || defined(BOOST_BEAST_SEPARATE_COMPILATION)
#error "forrealtime's Asio/Beast settings leaked into the host's code"
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>

namespace asio = boost::asio;

int main() {
  forrealtime::Realtime rt;
  asio::io_context ioc;
  bool ok = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
        co_await t.async_wait(asio::use_awaitable);
        auto id = rt.channel("pkg").emit("pkg.check", 1);
        ok = id && rt.channel("pkg").history()->size() == 1;
      },
      asio::detached);
  ioc.run();
  auto handler = forrealtime::handle(rt);  // the SSE endpoint is there for the host to use
  (void)handler;
  std::cout << (ok ? "asio host ok" : "asio host broken") << std::endl;
  return ok ? 0 : 1;
}
