// Forward auth's I/O shell: `POST --auth-url` with Beast on the calling coroutine's executor,
// bounded by `--auth-timeout`, answers cached by forward.hpp's DecisionCache, and concurrent
// identical questions (same operation, credential headers and channels) sharing one call.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/forward.hpp"
#include "forrealtime/handler.hpp"

namespace forrealtime::auth {

class ForwardClient {
 public:
  /** `url` is http://host[:port]/path; throws std::invalid_argument otherwise. */
  ForwardClient(const std::string& url, std::chrono::milliseconds timeout);
  ~ForwardClient();

  /** The upstream's decision for `op` on `channels`, with the client's Cookie, Authorization,
   *  Origin and X-Forwarded-For headers. Never throws; a failure is `unavailable`. */
  boost::asio::awaitable<ForwardDecision> check(Operation op,
                                                const std::vector<std::string>& channels,
                                                const Request& req);

  /** Upstream calls made so far (the cache and shared calls make fewer than checks). */
  std::uint64_t calls() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace forrealtime::auth
