// An SseSink over a TCP socket. The stream is framed by SseFraming (HTTP/1.1 chunked, one chunk
// per gathered write, so the shared frames are never copied; HTTP/1.0 delimited by the close). A
// pending 64-byte read notices the peer going away; anything it sends is ignored.
#include "forrealtime/socket_sink.hpp"

#include <boost/asio/write.hpp>

#include "http/sse_framing.hpp"

namespace forrealtime {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

class SocketSink final : public SseSink, public std::enable_shared_from_this<SocketSink> {
 public:
  SocketSink(tcp::socket socket, int version) : socket_(std::move(socket)), framing_(version) {}

  asio::any_io_executor get_executor() override { return socket_.get_executor(); }

  void respond(Response r) override {
    auto buf = std::make_shared<std::string>(framing_.response(r));
    asio::async_write(socket_, asio::buffer(*buf),
                      [self = shared_from_this(), buf](error_code, std::size_t) {
                        error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                      });
  }

  void open(const Response& head, Listener& listener) override {
    listener_ = &listener;
    framing_.open(head);
    read_loop();
  }

  void write(std::span<const asio::const_buffer> buffers) override {
    auto& bufs = framing_.frame(buffers);
    // Most writes to a reader that keeps up fit in the socket buffer at once: write them now,
    // like a hand-written epoll server would, and go through the reactor only for the rest.
    error_code ec;
    if (!non_blocking_) {
      socket_.non_blocking(true, ec);
      non_blocking_ = !ec;
    }
    std::size_t sent = 0;
    if (non_blocking_) sent = socket_.write_some(bufs, ec);
    if (non_blocking_ && !ec && sent == asio::buffer_size(bufs)) return written({});
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return written(ec);
    framing_.consume(sent);
    asio::async_write(socket_, bufs, [self = shared_from_this()](error_code ec, std::size_t) {
      self->written(ec);
    });
  }

  void close() override {
    if (!listener_ && !socket_.is_open()) return;
    listener_ = nullptr;
    error_code ec;
    if (framing_.wants_last_chunk() && socket_.is_open()) {
      // Best effort: end the chunked body cleanly so the client sees a normal end of stream.
      socket_.non_blocking(true, ec);
      socket_.write_some(asio::buffer(detail::SseFraming::last_chunk), ec);
    }
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  void written(error_code ec) {
    if (!listener_) return;
    framing_.head_sent();
    listener_->on_written(ec);
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
  detail::SseFraming framing_;
  bool non_blocking_ = false;
  Listener* listener_ = nullptr;
  char rbuf_[64];
};

}  // namespace

std::shared_ptr<SseSink> make_socket_sink(tcp::socket socket, int http_version) {
  return std::make_shared<SocketSink>(std::move(socket), http_version);
}

}  // namespace forrealtime
