// Where a store's connections go and how: the node's address, the credentials and database of
// the URL, and the TLS context of `rediss://`. One per store, shared by every connection it
// makes (the command links on the workers' threads included), so thread-safe.
//
// With a plain URL the address never changes. With Sentinel (sentinel.hpp) it is the address
// the sentinels last named as the master: a connection made after a failover goes to the new
// master, and a connection whose node turns out not to be the master (ROLE in the handshake,
// READONLY on a write) tells the Endpoint, which asks the sentinels again.
//
// TLS: one OpenSSL context per store (CA, client certificate and key loaded once, at start, so
// that a missing file fails there); each connection verifies the certificate against the host
// it dials (the URL's host, or the one the sentinels named) and sends it as SNI when it is a
// name. `insecure_skip_verify` turns verification off and says so at start.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "forrealtime/redis_store.hpp"

namespace boost::asio::ssl {
class context;
}

namespace forrealtime::redis {

class Endpoint {
 public:
  /** `tls` is the context of `rediss://` (null: plain TCP). */
  Endpoint(RedisEndpoint node, std::shared_ptr<boost::asio::ssl::context> tls);

  /** The node to dial now: the URL's, or the master the sentinels named last. */
  RedisEndpoint current() const;
  const std::shared_ptr<boost::asio::ssl::context>& tls() const { return tls_; }

  /** Sentinel: connections must check `ROLE` in their handshake. */
  bool require_master() const { return require_master_.load(std::memory_order_relaxed); }
  void set_require_master(bool on) { require_master_ = on; }

  /** Sentinel: the master is now `host:port`. Returns true when that changed it. */
  bool set_address(const std::string& host, std::uint16_t port);
  /** Bumped on each change of address: connections made before it are to the old node. */
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  /** A connection found that its node is not the master (or cannot be reached): the owner
   *  (the Sentinel monitor) hears it, from any thread. */
  void report_stale() const;
  void on_stale(std::function<void()> f);

 private:
  mutable std::mutex mu_;
  RedisEndpoint node_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::atomic<bool> require_master_{false};
  std::atomic<std::uint64_t> generation_{1};
  std::function<void()> on_stale_;
};

/** The TLS client context of `options.tls`: verification on (against `ca_file`, or the
 *  system's CAs), TLS 1.2 or later, the client certificate and key when given. Throws
 *  `std::invalid_argument` naming the file that cannot be loaded. */
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const RedisTlsOptions& options);

}  // namespace forrealtime::redis
