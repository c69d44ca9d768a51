// The pipeline of one Redis connection as an I/O-free state machine: commands are encoded
// into an output buffer and their callbacks queued; received bytes are parsed and each
// complete reply goes to the oldest queued callback (Redis answers in order, one reply per
// command). The Asio shell (connection.hpp) only moves bytes and ticks the clock.
//
// Call-order rules: callbacks run inside `on_bytes`, `on_tick` and `fail_all`, and may call
// `expect`/`out` again (a tail read re-arms itself from its own callback). After `fail_all`
// the pipeline is dead: `on_bytes` ignores input and `expect` fails the callback at once.
//
// Sent or not: a command whose bytes were taken for writing (`take_output`) may have been
// executed by Redis even if its reply never comes, so when the pipeline dies it completes with
// `timeout` (outcome unknown), and only commands never handed to the socket get the error
// given to `fail_all` (nothing done). A write that failed was maybe partly sent: same rule.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>

#include <boost/system/error_code.hpp>

#include "store/redis/resp.hpp"

namespace forrealtime::redis {

class Pipeline {
 public:
  using Clock = std::chrono::steady_clock;
  /** A reply (null on error) and an error: `store_errc::timeout`, `unavailable`, `stopped`,
   *  `protocol`. An error reply from Redis is a reply, not an error. */
  using Callback = std::function<void(Reply, boost::system::error_code)>;

  /** Subscriber connections: replies that no queued command waits for (pub/sub messages,
   *  (UN)SUBSCRIBE confirmations) go to `push` instead of failing the connection. */
  using Push = std::function<void(Reply)>;
  void set_push(Push push) { push_ = std::move(push); }

  /** The output buffer: encode the command into it, then call `expect` once per command. */
  std::string& out() { return out_; }
  void expect(Callback cb, Clock::time_point deadline);

  bool has_output() const { return !out_.empty(); }
  /** Moves the pending output into `buf` (which is cleared first) for writing. */
  void take_output(std::string& buf);

  /** Parses received bytes and completes callbacks. Returns an error when the bytes are not
   *  RESP or a reply arrives that no command asked for; the connection must then be closed. */
  boost::system::error_code on_bytes(const char* data, std::size_t n);

  /** Completes with `timeout` each command whose deadline passed (its reply, when it comes,
   *  is dropped). True when the oldest command is late by more than `grace`: the connection
   *  should then be dropped. */
  bool on_tick(Clock::time_point now, Clock::duration grace);

  /** Completes every queued command and kills the pipeline: those sent with `timeout` (they
   *  may have been executed), the others with `ec`. */
  void fail_all(boost::system::error_code ec);

  std::size_t pending() const { return pending_.size(); }
  /** How many of the pending commands were taken for writing (the oldest ones). */
  std::size_t sent() const { return sent_; }
  bool dead() const { return dead_; }

 private:
  struct Pending {
    Callback cb;
    Clock::time_point deadline;
  };
  std::string out_;
  std::deque<Pending> pending_;
  Push push_;
  ReplyReader reader_;
  std::size_t sent_ = 0;
  bool dead_ = false;
};

}  // namespace forrealtime::redis
