// The standalone gateway: an HTTP server with the subscribe, emit, history, health and metrics
// endpoints and static files, on one io_context per thread. `forrealtime serve` runs it; C++
// programs can run it too:
//
//   forrealtime::Realtime rt;
//   forrealtime::Gateway gw(rt, {.port = 8787});
//   gw.start();            // binds, then serves on background threads
//   ...
//   gw.stop();             // every stream gets `reconnect`, then the threads end
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "forrealtime/handler.hpp"
#include "forrealtime/realtime.hpp"

namespace forrealtime {

/** What a request asks to do; an Authorizer decides per operation. */
enum class Operation {
  subscribe,  // GET /api/realtime
  history,    // GET /api/history
  emit,       // POST /api/emit
  admin,      // operator endpoints
};

/** Runs before each operation, once its channels are known (for emit, every channel of the
 *  batch; for history, the one channel; none for admin). Return a response to refuse (401,
 *  403, ...), nothing to let the request go on. Runs on a gateway worker thread; it must not
 *  block. */
using Authorizer = std::function<boost::asio::awaitable<std::optional<Response>>(
    const Request&, Operation, const std::vector<std::string>& channels)>;

struct GatewayOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8787;  // 0 picks a free port (see Gateway::port())
  unsigned threads = 0;       // 0: one per core
  /** Serve files from this directory at `/` (index.html for directories); none when empty. */
  std::string static_dir;
  /** When set, `POST /api/emit` requires `Authorization: Bearer <token>`. */
  std::string emit_token;
  /** Optional middleware for the subscribe endpoint (runs after `authorize`). */
  Middleware middleware;
  /** Optional authorization before each operation (after the emit token check). */
  Authorizer authorize;
  /** Idle keep-alive connections (not streams) are closed after this long; it also bounds the
   *  read of a request body. */
  std::chrono::seconds idle_timeout{60};

  /** TLS on the main listener: a PEM certificate chain and its private key; plain HTTP when
   *  empty. Gateway::reload_tls() reads them again (SIGHUP in `forrealtime serve`). The admin
   *  listener stays plain (bind it to loopback). */
  std::string tls_cert_file;
  std::string tls_key_file;

  // --- limits (each counted in forrealtime_limits_hit_total{limit=...}) ---------------------
  /** Once a request's first byte has arrived, its head (request line and headers) must be read
   *  within this long, or the connection is closed unanswered (slow-header clients). */
  std::chrono::seconds header_timeout{10};
  /** Open connections of the main listener at once (streams included); one more is answered
   *  503 with `Retry-After` and closed. 0: no cap. The admin listener is not counted. */
  std::size_t max_connections = 0;
  /** The same per client address. 0: no cap. */
  std::size_t max_connections_per_ip = 0;
  /** Reverse proxies whose word on the client's address is believed: IPv4/IPv6 networks
   *  (`10.0.0.0/8`, `::1`, ...) and the keywords `loopback` and `private`. When the TCP peer is
   *  in one, the client is the right-most address of `client_address_header` that is not itself
   *  a trusted proxy; it is the address the per-address limits count, log lines name, and forward
   *  auth's X-Forwarded-For ends with (the chain with the peer appended). From any other peer
   *  those headers are ignored. Empty (the default): the peer is the client. A bad entry makes
   *  the Gateway constructor throw std::invalid_argument. */
  std::vector<std::string> trusted_proxies;
  /** `x-forwarded-for` (the default) or `forwarded` (RFC 7239 `for=`): the one header the
   *  trusted proxies write; the other is not read (a proxy passes on what it does not write). */
  std::string client_address_header = "x-forwarded-for";
  /** Emit requests (a batch is one) per second per credential (the `Authorization` header or
   *  the `token` query parameter), or per client address without one; beyond, 429 with
   *  `Retry-After`. 0: no limit. */
  double emit_rate = 0;
  /** How many emits may come at once before emit_rate paces them; 0: max(1, emit_rate). */
  double emit_burst = 0;
  /** A history answer stops before the event that would take its body past this many bytes
   *  (at least one event is sent) and says so with `Forrealtime-Truncated: bytes`. 0: no cap. */
  std::size_t max_history_bytes = 8 * 1024 * 1024;

  // --- operations ---------------------------------------------------------------------------
  /** When set, the admin API (`/api/admin/...`, including the console's data) requires
   *  `Authorization: Bearer <token>`; the Authorizer, when given, is asked too
   *  (Operation::admin). Without it the admin API is open: bind to loopback. */
  std::string admin_token;
  /** A second listener for /metrics, the probes, the console and /api/admin/..., which the main
   *  listener then no longer serves (404); -1 for none. 0 picks a free port. */
  int admin_port = -1;
  std::string admin_host = "127.0.0.1";
  /** Appends more Prometheus text to /metrics (e.g. a plugin's numbers); runs on a worker. */
  std::function<void(std::string&)> extra_metrics;
  /** Appends more members to the JSON object of /api/admin/stats, each as `,"name":VALUE`
   *  (e.g. `,"postgres_sync":{...}` for the console's outbox-lag chart); runs on a worker. */
  std::function<void(std::string&)> extra_stats;
};

class Gateway {
 public:
  Gateway(Realtime& realtime, GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /** Binds and starts the worker threads; throws std::system_error when it cannot bind. */
  void start();
  /** The bound port. */
  std::uint16_t port() const;
  /** The admin listener's port (GatewayOptions::admin_port); 0 when there is none. */
  std::uint16_t admin_port() const;
  /** Reads the TLS certificate and key files again: new connections use them, open ones (streams
   *  included) keep theirs. Throws std::runtime_error (and keeps the old ones) when they cannot
   *  be loaded, or when the gateway has no TLS. Thread-safe. */
  void reload_tls();
  /** Starts draining: /readyz answers 503 from now on, everything else goes on as before (so
   *  that a load balancer stops sending new clients before stop()). */
  void drain();
  /** Graceful stop: streams get `reconnect`, connections close, threads are joined. */
  void stop();
  /** Blocks until stop() is called (from another thread or a signal handler). */
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace forrealtime
