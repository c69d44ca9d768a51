// The HTTP/1.x bytes around an SSE stream written by hand, shared by the plain socket sink
// (socket_sink.cpp) and the gateway's TLS sink (tls.cpp), which differ only in how they write:
// a whole response (status line, headers, Content-Length, `Connection: close`), and the stream's
// head plus one chunk per gathered write (HTTP/1.1) or the bare bytes (HTTP/1.0, delimited by the
// close). Frames are gathered, never copied. Header names and values that could end a line early
// (CR, LF, NUL: middleware writes them) are dropped rather than let them add a header.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>

#include "forrealtime/handler.hpp"

namespace forrealtime::detail {

class SseFraming {
 public:
  explicit SseFraming(int http_version) : version_(http_version) {}

  /** A whole response that ends the connection. */
  std::string response(const Response& r) const;

  /** Prepares the stream's head (status 200's line, `text/event-stream`, `head`'s headers,
   *  chunked framing for HTTP/1.1); it goes out with the first write. */
  void open(const Response& head);

  /** The buffers of one write of `frames`: the head while it is unsent, then the chunk. They
   *  stay valid until the next call to frame(). */
  std::vector<boost::asio::const_buffer>& frame(std::span<const boost::asio::const_buffer> frames);

  /** Drops the first `n` bytes of the last frame() (a partial write went out). */
  void consume(std::size_t n);

  /** The first write completed: the head is not needed any more. */
  void head_sent();

  /** Whether a close should end the body with the last chunk (`0\r\n\r\n`): HTTP/1.1 and the
   *  head went out. */
  bool wants_last_chunk() const { return chunked_ && head_.empty(); }

  static constexpr std::string_view last_chunk{"0\r\n\r\n"};

 private:
  void append_status(std::string& out, unsigned status) const;
  static void append_headers(std::string& out,
                             const std::vector<std::pair<std::string, std::string>>& headers);

  int version_;
  bool chunked_ = false;
  std::string head_;
  std::vector<boost::asio::const_buffer> bufs_;
  char chunk_[24];
};

}  // namespace forrealtime::detail
