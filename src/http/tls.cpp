// TLS context loading and the TLS SSE sink; see tls.hpp. The sink frames the stream as
// socket_sink.cpp does (chunked for HTTP/1.1, close-delimited for 1.0) but always writes through
// the TLS stream asynchronously; a pending read notices the peer going away.
#include "http/tls.hpp"

#include <cstdio>
#include <stdexcept>

#include <openssl/err.h>
#include <boost/asio/write.hpp>

#include "core/header_text.hpp"
#include "http/status.hpp"

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
      : ctx_(std::move(ctx)), stream_(std::move(stream)), version_(version) {}

  asio::any_io_executor get_executor() override { return stream_.get_executor(); }

  void respond(Response r) override {
    auto out = std::make_shared<std::string>();
    append_status(*out, r.status);
    if (!r.content_type.empty() && core::is_header_value(r.content_type))
      out->append("Content-Type: ").append(r.content_type).append("\r\n");
    append_headers(*out, r.headers);
    out->append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
    out->append("Connection: close\r\n\r\n").append(r.body);
    asio::async_write(stream_, asio::buffer(*out),
                      [self = shared_from_this(), out](error_code, std::size_t) { self->shut(); });
  }

  void open(const Response& head, Listener& listener) override {
    listener_ = &listener;
    chunked_ = version_ >= 11;
    append_status(head_, head.status);
    head_.append("Content-Type: text/event-stream\r\n");
    append_headers(head_, head.headers);
    if (chunked_) head_.append("Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n");
    head_.append("\r\n");
    read_loop();
  }

  void write(std::span<const asio::const_buffer> buffers) override {
    bufs_.clear();
    if (!head_.empty()) bufs_.emplace_back(head_.data(), head_.size());
    std::size_t total = 0;
    for (auto& b : buffers) total += b.size();
    if (chunked_) {
      int n = std::snprintf(chunk_, sizeof chunk_, "%zx\r\n", total);
      bufs_.emplace_back(chunk_, static_cast<std::size_t>(n));
    }
    bufs_.insert(bufs_.end(), buffers.begin(), buffers.end());
    if (chunked_) bufs_.emplace_back("\r\n", 2);
    writing_ = true;
    asio::async_write(stream_, bufs_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (!self->listener_) {
        if (self->closing_) self->finish_close();
        return;
      }
      if (!self->head_.empty()) {
        self->head_.clear();
        self->head_.shrink_to_fit();
      }
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
  static void append_headers(std::string& out,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
    for (auto& [k, v] : headers)
      if (core::is_header_name(k) && core::is_header_value(v))
        out.append(k).append(": ").append(v).append("\r\n");
  }

  void append_status(std::string& out, unsigned status) {
    out.append(version_ >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ");
    out.append(std::to_string(status)).push_back(' ');
    out.append(detail::reason_phrase(status)).append("\r\n");
  }

  void finish_close() {
    if (chunked_ && head_.empty()) {
      writing_ = true;
      asio::async_write(stream_, asio::buffer("0\r\n\r\n", 5),
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
  int version_;
  bool chunked_ = false;
  bool writing_ = false;
  bool closing_ = false;
  Listener* listener_ = nullptr;
  std::string head_;
  std::vector<asio::const_buffer> bufs_;
  char chunk_[24];
  char rbuf_[64];
};

}  // namespace

std::shared_ptr<SseSink> make_tls_sink(TlsContextPtr context, TlsStream stream, int version) {
  return std::make_shared<TlsSink>(std::move(context), std::move(stream), version);
}

}  // namespace forrealtime::gateway
