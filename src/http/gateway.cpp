// The gateway: Beast HTTP/1.1 on one io_context per thread, each with its own SO_REUSEPORT
// acceptor, so a connection lives on one worker for its whole life and nothing on the data path
// is shared between threads but the hub's routes. This file starts and stops the workers; the
// connection loop is in connection.cpp, routing in router.cpp, the endpoints in handlers.cpp.
#include "forrealtime/gateway.hpp"

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "http/connection.hpp"
#include "http/state.hpp"
#include "http/tls.hpp"
#include "realtime/core.hpp"

namespace forrealtime {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct Gateway::Impl {
  gateway::GatewayState state;
  Realtime& rt;
  detail::RealtimeCore& core;
  GatewayOptions& options;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::uint16_t bound_port = 0;
  std::unique_ptr<tcp::acceptor> admin_acceptor;  // on contexts[0], when admin_port >= 0
  std::uint16_t admin_bound_port = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  bool started = false;

  Impl(Realtime& r, GatewayOptions o)
      : state(r, std::move(o)), rt(r), core(state.core), options(state.options) {}
};

Gateway::Gateway(Realtime& realtime, GatewayOptions options)
    : impl_(std::make_unique<Impl>(realtime, std::move(options))) {}

Gateway::~Gateway() {
  stop();
}

void Gateway::start() {
  auto& d = *impl_;
  unsigned n =
      d.options.threads ? d.options.threads : std::max(1u, std::thread::hardware_concurrency());
  if (!d.options.tls_cert_file.empty() || !d.options.tls_key_file.empty()) {
    if (d.options.tls_cert_file.empty() || d.options.tls_key_file.empty())
      throw std::runtime_error("TLS needs both tls_cert_file and tls_key_file");
    d.state.tls =
        std::make_shared<gateway::TlsConfig>(d.options.tls_cert_file, d.options.tls_key_file);
  }
  auto address = asio::ip::make_address(d.options.host);
  std::uint16_t port = d.options.port;
  for (unsigned i = 0; i < n; ++i) {
    auto ioc = std::make_unique<asio::io_context>(1);
    auto acc = std::make_unique<tcp::acceptor>(*ioc);
    tcp::endpoint ep(address, port);
    acc->open(ep.protocol());
    acc->set_option(tcp::acceptor::reuse_address(true));
    int one = 1;
    ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acc->bind(ep);
    acc->listen(asio::socket_base::max_listen_connections);
    port = acc->local_endpoint().port();  // the first picks a free port when asked for 0
    d.contexts.push_back(std::move(ioc));
    d.acceptors.push_back(std::move(acc));
  }
  d.bound_port = port;
  if (d.options.admin_port >= 0) {
    auto admin_address = asio::ip::make_address(d.options.admin_host);
    tcp::endpoint ep(admin_address, static_cast<std::uint16_t>(d.options.admin_port));
    d.admin_acceptor = std::make_unique<tcp::acceptor>(*d.contexts[0]);
    d.admin_acceptor->open(ep.protocol());
    d.admin_acceptor->set_option(tcp::acceptor::reuse_address(true));
    d.admin_acceptor->bind(ep);
    d.admin_acceptor->listen(asio::socket_base::max_listen_connections);
    d.admin_bound_port = d.admin_acceptor->local_endpoint().port();
    gateway::start_accepting(d.state, *d.admin_acceptor, gateway::Listener::admin);
  }
  for (unsigned i = 0; i < n; ++i) gateway::start_accepting(d.state, *d.acceptors[i]);
  // Registered once nothing can throw any more: a registered loop must be unregistered
  // before it is destroyed (stop()).
  for (auto& c : d.contexts) d.core.hub->register_worker(*c);
  for (unsigned i = 0; i < n; ++i)
    d.threads.emplace_back([ioc = d.contexts[i].get(), &state = d.state] {
      // A handler that throws ends run() with its exception: log it and keep the worker
      // serving every other connection on it.
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (...) {
          state.log().error("a handler on a gateway worker failed: {}",
                            gateway::describe(std::current_exception()));
        }
      }
    });
  d.started = true;
}

std::uint16_t Gateway::port() const {
  return impl_->bound_port;
}

std::uint16_t Gateway::admin_port() const {
  return impl_->admin_bound_port;
}

void Gateway::reload_tls() {
  auto& tls = impl_->state.tls;
  if (!tls) throw std::runtime_error("the gateway serves plain HTTP: there is no TLS to reload");
  tls->reload();
}

void Gateway::drain() {
  if (!impl_->state.ops.draining.exchange(true))
    impl_->state.log().info("draining: /readyz answers 503 from now on");
}

void Gateway::stop() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.stopped) return;
    d.stopped = true;
  }
  if (d.started) {
    d.state.ops.draining = true;
    for (std::size_t i = 0; i < d.acceptors.size(); ++i)
      asio::post(*d.contexts[i], [acc = d.acceptors[i].get()] {
        error_code ignored;
        acc->close(ignored);
      });
    if (d.admin_acceptor)
      asio::post(*d.contexts[0], [acc = d.admin_acceptor.get()] {
        error_code ignored;
        acc->close(ignored);
      });
    d.rt.shutdown();
    // Give the streams a moment to write their `reconnect`.
    for (int i = 0; i < 40 && d.core.hub->stream_count() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (auto& c : d.contexts) c->stop();
    for (auto& t : d.threads) t.join();
    // The store lets go of what it keeps on the workers' loops before they are destroyed.
    for (auto& c : d.contexts) d.core.hub->unregister_worker(*c);
    d.core.hub->release_shards();
    d.acceptors.clear();
    d.admin_acceptor.reset();
    d.contexts.clear();
  }
  d.cv.notify_all();
}

void Gateway::wait() {
  auto& d = *impl_;
  std::unique_lock lock(d.mu);
  d.cv.wait(lock, [&] { return d.stopped; });
}

}  // namespace forrealtime
