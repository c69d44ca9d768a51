// An SseSink over a TCP socket. The stream is written with HTTP/1.1 chunked framing (one chunk
// per gathered write, so the shared frames are never copied) or, for HTTP/1.0, delimited by the
// close. A pending 64-byte read notices the peer going away; anything it sends is ignored.
#include "forrealtime/socket_sink.hpp"

#include <cstdio>

#include <boost/asio/write.hpp>

#include "core/header_text.hpp"
#include "http/status.hpp"

namespace forrealtime {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

class SocketSink final : public SseSink, public std::enable_shared_from_this<SocketSink> {
 public:
  SocketSink(tcp::socket socket, int version) : socket_(std::move(socket)), version_(version) {}

  asio::any_io_executor get_executor() override { return socket_.get_executor(); }

  void respond(Response r) override {
    std::string out;
    out.reserve(r.body.size() + 256);
    append_status(out, r.status);
    if (!r.content_type.empty() && core::is_header_value(r.content_type))
      out.append("Content-Type: ").append(r.content_type).append("\r\n");
    append_headers(out, r.headers);
    out.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
    out.append("Connection: close\r\n\r\n");
    out.append(r.body);
    auto buf = std::make_shared<std::string>(std::move(out));
    asio::async_write(socket_, asio::buffer(*buf),
                      [self = shared_from_this(), buf](error_code, std::size_t) {
                        error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                      });
  }

  void open(const Response& head, Listener& listener) override {
    listener_ = &listener;
    chunked_ = version_ >= 11;
    head_.reserve(256);
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
    // Most writes to a reader that keeps up fit in the socket buffer at once: write them now,
    // like a hand-written epoll server would, and go through the reactor only for the rest.
    error_code ec;
    if (!non_blocking_) {
      socket_.non_blocking(true, ec);
      non_blocking_ = !ec;
    }
    std::size_t sent = 0;
    if (non_blocking_) sent = socket_.write_some(bufs_, ec);
    if (non_blocking_ && !ec && sent == asio::buffer_size(bufs_)) return written({});
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return written(ec);
    consume(sent);
    asio::async_write(socket_, bufs_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->written(ec);
    });
  }

  void close() override {
    if (!listener_ && !socket_.is_open()) return;
    listener_ = nullptr;
    error_code ec;
    if (chunked_ && head_.empty() && socket_.is_open()) {
      // Best effort: end the chunked body cleanly so the client sees a normal end of stream.
      socket_.non_blocking(true, ec);
      socket_.write_some(asio::buffer("0\r\n\r\n", 5), ec);
    }
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  // Middleware writes these: a name or value that could end the line early (CR, LF, NUL) is
  // dropped rather than let it add a header or a response of its own.
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

  void written(error_code ec) {
    if (!listener_) return;
    if (!head_.empty()) {
      head_.clear();
      head_.shrink_to_fit();
    }
    listener_->on_written(ec);
  }

  // Drops the first `n` bytes of bufs_ (a partial write).
  void consume(std::size_t n) {
    std::size_t i = 0;
    while (i < bufs_.size() && n >= bufs_[i].size()) n -= bufs_[i++].size();
    bufs_.erase(bufs_.begin(), bufs_.begin() + static_cast<std::ptrdiff_t>(i));
    if (n && !bufs_.empty()) bufs_[0] += n;
  }

  void read_loop() {
    socket_.async_read_some(asio::buffer(rbuf_),
                            [self = shared_from_this()](error_code ec, std::size_t) {
                              if (!self->listener_) return;
                              if (ec) return self->listener_->on_closed(ec);
                              self->read_loop();
                            });
  }

  tcp::socket socket_;
  int version_;
  bool chunked_ = false;
  bool non_blocking_ = false;
  Listener* listener_ = nullptr;
  std::string head_;
  std::vector<asio::const_buffer> bufs_;
  char chunk_[24];
  char rbuf_[64];
};

}  // namespace

std::shared_ptr<SseSink> make_socket_sink(tcp::socket socket, int http_version) {
  return std::make_shared<SocketSink>(std::move(socket), http_version);
}

}  // namespace forrealtime
