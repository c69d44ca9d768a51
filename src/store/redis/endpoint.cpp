// Where connections go, and the TLS context (see endpoint.hpp).
#include "store/redis/endpoint.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>
#include <boost/asio/ssl/context.hpp>

namespace forrealtime::redis {

namespace ssl = boost::asio::ssl;

Endpoint::Endpoint(RedisEndpoint node, std::shared_ptr<ssl::context> tls)
    : node_(std::move(node)), tls_(std::move(tls)) {}

RedisEndpoint Endpoint::current() const {
  std::lock_guard lock(mu_);
  return node_;
}

bool Endpoint::set_address(const std::string& host, std::uint16_t port) {
  std::lock_guard lock(mu_);
  if (node_.host == host && node_.port == port) return false;
  node_.host = host;
  node_.port = port;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void Endpoint::report_stale() const {
  std::function<void()> f;
  {
    std::lock_guard lock(mu_);
    f = on_stale_;
  }
  if (f) f();
}

void Endpoint::on_stale(std::function<void()> f) {
  std::lock_guard lock(mu_);
  on_stale_ = std::move(f);
}

std::shared_ptr<ssl::context> make_tls_context(const RedisTlsOptions& o) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  auto check = [&](const char* what, const std::string& file) {
    if (ec)
      throw std::invalid_argument(std::string("Redis TLS: cannot load the ") + what + " '" + file +
                                  "': " + ec.message());
  };
  if (!o.ca_file.empty()) {
    ctx->load_verify_file(o.ca_file, ec);
    check("CA file", o.ca_file);
  } else {
    ctx->set_default_verify_paths(ec);
    check("system's CAs", "default verify paths");
  }
  if (o.cert_file.empty() != o.key_file.empty())
    throw std::invalid_argument(
        "Redis TLS: the client certificate and its key go together (give both or neither)");
  if (!o.cert_file.empty()) {
    ctx->use_certificate_chain_file(o.cert_file, ec);
    check("client certificate", o.cert_file);
    ctx->use_private_key_file(o.key_file, ssl::context::pem, ec);
    check("client key", o.key_file);
  }
  if (o.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none);
    spdlog::error(
        "redis: TLS certificate verification is OFF (insecure skip verify): the Redis server "
        "is not authenticated and anyone on the path can read and change the traffic, "
        "passwords included");
  } else {
    ctx->set_verify_mode(ssl::verify_peer);
  }
  return ctx;
}

}  // namespace forrealtime::redis
