// The load generator's stream parsers: pure classes, bytes in and events out, no I/O.
//
// HttpResponseParser reads one HTTP/1.1 response incrementally: the status line and
// headers, then the body framed by Content-Length, chunked transfer-encoding, or the end of
// the connection. It hands the (de-chunked) body bytes to its caller and says when the
// message is complete, so one parser serves both the long-lived SSE streams and the
// keep-alive emit requests. SseParser turns body bytes into server-sent events as the
// WHATWG EventSource algorithm does: lines end in CRLF, LF or CR (a CR at the end of one
// read and an LF at the start of the next are one line end), `data:` lines are joined with
// '\n', comments are ignored and an empty line dispatches. Input may be split anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forrealtime_bench {

class HttpResponseParser {
 public:
  enum class State {
    status_line,
    headers,
    body,
    chunk_size,
    chunk_data,
    chunk_data_end,
    trailers,
    done,
    error
  };

  /// Feeds bytes; appends body bytes to `body`. Returns how many bytes of `in` were used:
  /// less than in.size() only once the response is complete (the rest belongs to the next
  /// response on a keep-alive connection) or on error.
  std::size_t feed(std::string_view in, std::string& body);

  /// The connection ended: a body framed by the close is complete, anything else is an error.
  void on_eof();

  /// Ready for the next response on the same connection.
  void reset();

  State state() const { return state_; }
  bool head_done() const {
    return state_ != State::status_line && state_ != State::headers && state_ != State::error;
  }
  bool complete() const { return state_ == State::done; }
  bool failed() const { return state_ == State::error; }
  int status() const { return status_; }
  bool chunked() const { return chunked_; }
  bool keep_alive() const { return keep_alive_; }
  /// -1 when the response has no Content-Length.
  std::int64_t content_length() const { return content_length_; }
  /// Set by the caller before feeding: a response to HEAD, or 1xx/204/304, has no body.
  void expect_no_body(bool v) { no_body_ = v; }

 private:
  bool on_line(std::string_view line);
  void finish_head();

  State state_ = State::status_line;
  std::string line_;
  int status_ = 0;
  bool chunked_ = false;
  bool keep_alive_ = true;
  bool no_body_ = false;
  std::int64_t content_length_ = -1;
  std::uint64_t remaining_ = 0;
};

struct SseEvent {
  std::string event;  // empty means "message"
  std::string data;   // data lines joined with '\n'
  std::string id;
  bool has_id = false;
};

class SseParser {
 public:
  /// Feeds body bytes; complete events are appended to `out`.
  void feed(std::string_view in, std::vector<SseEvent>& out);
  /// Number of comment lines (": ...") seen, e.g. keep-alives.
  std::uint64_t comments() const { return comments_; }
  std::int64_t retry_ms() const { return retry_ms_; }

 private:
  void on_line(std::string_view line, std::vector<SseEvent>& out);

  std::string line_;
  SseEvent cur_;
  bool has_data_ = false;
  bool after_cr_ = false;
  bool bom_checked_ = false;
  std::uint64_t comments_ = 0;
  std::int64_t retry_ms_ = -1;
};

/// An SSE response stream: HTTP head, framing, then events.
class SseClientStream {
 public:
  /// Returns false once the stream failed (bad HTTP, non-200 status is not a failure:
  /// check status()).
  bool feed(std::string_view in, std::vector<SseEvent>& out);
  void on_eof() { http_.on_eof(); }
  const HttpResponseParser& http() const { return http_; }

 private:
  HttpResponseParser http_;
  SseParser sse_;
  std::string body_;
};

}  // namespace forrealtime_bench
