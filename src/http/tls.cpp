// TLS context loading and the TLS SSE sink; see tls.hpp. The sink frames the stream with
// SseFraming as socket_sink.cpp does (chunked for HTTP/1.1, close-delimited for 1.0) but always
// writes through the TLS stream asynchronously; a pending read notices the peer going away.
#include "http/tls.hpp"

#include <stdexcept>

#include <openssl/err.h>
#include <boost/asio/write.hpp>

#include "http/sse_framing.hpp"

namespace forrealtime::gateway {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

TlsConfig::TlsConfig(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), current_(load()) {}

TlsContextPtr TlsConfig::load() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  error_code ec;
  ctx->use_certificate_chain_file(cert_file_, ec);
  if (ec) throw std::runtime_error("tls_cert " + cert_file_ + ": " + ec.message());
  ctx->use_private_key_file(key_file_, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("tls_key " + key_file_ + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("tls_key " + key_file_ + " does not match tls_cert " + cert_file_);
  }
  return ctx;
}

TlsContextPtr TlsConfig::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void TlsConfig::reload() {
  auto next = load();
  std::lock_guard lock(mu_);
  current_ = std::move(next);
}

namespace {

class TlsSink final : public SseSink, public std::enable_shared_from_this<TlsSink> {
 public:
  TlsSink(TlsContextPtr ctx, TlsStream stream, int version)
      : ctx_(std::move(ctx)), stream_(std::move(stream)), framing_(version) {}

  asio::any_io_executor get_executor() override { return stream_.get_executor(); }

  void respond(Response r) override {
    auto out = std::make_shared<std::string>(framing_.response(r));
    asio::async_write(stream_, asio::buffer(*out),
                      [self = shared_from_this(), out](error_code, std::size_t) { self->shut(); });
  }

  void open(const Response& head, Listener& listener) override {
    listener_ = &listener;
    framing_.open(head);
    read_loop();
  }

  void write(std::span<const asio::const_buffer> buffers) override {
    writing_ = true;
    asio::async_write(stream_, framing_.frame(buffers),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (!self->listener_) {
                          if (self->closing_) self->finish_close();
                          return;
                        }
                        self->framing_.head_sent();
                        self->listener_->on_written(ec);
                      });
  }

  void close() override {
    if (closing_) return;
    closing_ = true;
    listener_ = nullptr;
    // One write at a time on a TLS stream: the end of the chunked body follows a write in flight.
    if (!writing_) finish_close();
  }

 private:
  void finish_close() {
    if (framing_.wants_last_chunk()) {
      writing_ = true;
      asio::async_write(stream_, asio::buffer(forrealtime::detail::SseFraming::last_chunk),
                        [self = shared_from_this()](error_code, std::size_t) { self->shut(); });
      return;
    }
    shut();
  }

  void shut() {
    error_code ec;
    auto& s = boost::beast::get_lowest_layer(stream_).socket();
    s.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    s.close(ec);
  }

  void read_loop() {
    stream_.async_read_some(asio::buffer(rbuf_),
                            [self = shared_from_this()](error_code ec, std::size_t) {
                              if (!self->listener_) return;
                              if (ec) return self->listener_->on_closed(ec);
                              self->read_loop();
                            });
  }

  TlsContextPtr ctx_;  // before stream_: the stream's SSL object came from it
  TlsStream stream_;
  forrealtime::detail::SseFraming framing_;
  bool writing_ = false;
  bool closing_ = false;
  Listener* listener_ = nullptr;
  char rbuf_[64];
};

}  // namespace

std::shared_ptr<SseSink> make_tls_sink(TlsContextPtr context, TlsStream stream, int version) {
  return std::make_shared<TlsSink>(std::move(context), std::move(stream), version);
}

}  // namespace forrealtime::gateway
