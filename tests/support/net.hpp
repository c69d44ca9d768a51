// Test helpers that talk to a gateway over real sockets: a blocking HTTP client, an SSE client
// that decodes chunked bodies and SSE lines incrementally, a raw connection from a chosen
// loopback address, and a child process running the real `forrealtime` program on a free port.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace fr_test {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  boost::json::value json() const;
};

/** One request on a new connection (Connection: close); `raw_headers` are extra lines. */
HttpResult http(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body = "", const std::string& raw_headers = "",
                const std::string& version = "HTTP/1.1");

/** POST /api/emit with `{"channel","event","data"}`; returns the id (fails the test if not 200). */
std::string emit(std::uint16_t port, const std::string& channel, const std::string& event,
                 const std::string& data_json);

/** Sends `bytes` on a new connection and returns all it reads until the server closes or
 *  `timeout` passes. */
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

/** A listening socket on a free port that never accepts: connections complete (the backlog
 *  takes them) and are never answered. */
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

struct ProgramResult {
  int status = -1;  // exit status, 128+signal, or -2 when it was killed after `kill_after`
  std::string out, err;
  std::chrono::milliseconds took{0};
};

/** Runs the `forrealtime` program with `args`; kills it after `kill_after`. */
ProgramResult run_program(const std::vector<std::string>& args,
                          std::chrono::milliseconds kill_after = std::chrono::seconds(20));

class SseClient {
 public:
  /** Connects and sends `GET target`; `recv_buffer` > 0 shrinks SO_RCVBUF (slow consumers). */
  SseClient(std::uint16_t port, const std::string& target, int recv_buffer = 0,
            const std::string& version = "HTTP/1.1", const std::string& raw_headers = "");
  ~SseClient();
  SseClient(const SseClient&) = delete;

  /** The response status (reads the head if needed). */
  int status();
  const std::string& head() const { return head_; }
  /** The next `data:` payload as JSON, or nothing on timeout / end of stream. */
  std::optional<boost::json::value> next(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /** The next user event (skipping system events except those in `keep_types`). */
  std::optional<boost::json::value> next_user(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /** The last `id:` field seen, as EventSource keeps it for `Last-Event-ID`. */
  const std::string& last_event_id() const { return last_event_id_; }
  /** True once the server closed the stream. */
  bool closed() const { return closed_; }
  void close();
  int fd() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  bool read_head(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  int status_ = 0;
  bool chunked_ = false;
  bool closed_ = false;
  std::string head_;
  std::string raw_;   // bytes not yet de-chunked
  std::string body_;  // de-chunked bytes not yet split into lines
  std::string data_;  // data lines of the current event
  std::string last_event_id_;
  std::string current_id_;                                  // the id field as of the current event
  std::vector<std::pair<std::string, std::string>> ready_;  // data, id
};

/** A raw connection to 127.0.0.1:`port` from a chosen loopback source address (127.0.0.x), so
 *  that one test can be several clients (per-address caps) or a proxy and its clients. */
class RawConn {
 public:
  RawConn(std::uint16_t port, const char* from);
  ~RawConn() { close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  void close();
  void send(const std::string& s);
  /** Reads until `until` is in what was read since the last take(), the peer closes, or the
   *  timeout; returns what was read since the last take(). */
  std::string read(const std::string& until,
                   std::chrono::milliseconds timeout = std::chrono::seconds(3));
  /** What was read so far, forgotten (the next read starts afresh). */
  std::string take();
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string in_;
};

/** `forrealtime_limits_hit_total{limit="<limit>"}` from /metrics (0 when absent); `headers` are
 *  extra request lines (the admin credential). */
std::uint64_t limit_hits(std::uint16_t port, const std::string& limit,
                         const std::string& headers = "");

/** True when the tests run against the Redis store (FORREALTIME_TEST_REDIS_URL is set). */
inline bool on_redis() {
  return std::getenv("FORREALTIME_TEST_REDIS_URL") != nullptr;
}

class GatewayProcess {
 public:
  /** Starts the program with `serve --port 0 --host 127.0.0.1 <args>` and waits until it listens.
   */
  explicit GatewayProcess(std::vector<std::string> args = {});
  ~GatewayProcess();
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  /** Sends `sig` and waits for the exit; returns the exit status (or 128+signal). */
  int stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /** What the program logged to stderr so far. */
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

}  // namespace fr_test
