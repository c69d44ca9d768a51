// `--jwks-url`: a JWK Set fetched over http:// or https:// (certificates verified against the
// system's trust store, name checked) on a thread of its own, at start, every refresh interval,
// and soon after a token names a `kid` the set does not have, but never twice within the minimum
// interval, so tokens with made-up kids cannot make the gateway hammer the identity provider. A
// failed fetch keeps the keys it had. Readers get the current set as an immutable snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "auth/jwt.hpp"

namespace spdlog {
class logger;
}

namespace forrealtime::auth {

class JwksFetcher {
 public:
  struct Options {
    std::string url;  // http://host[:port]/path or https://...
    std::chrono::seconds refresh{300};
    std::chrono::seconds min_interval{5};
    std::chrono::milliseconds timeout{3000};
  };
  /** `base` keys (from files) are part of every snapshot. Throws std::invalid_argument on a URL
   *  that is not http:// or https://. Starts fetching at once. */
  JwksFetcher(Options options, const KeySet& base, std::shared_ptr<spdlog::logger> log);
  ~JwksFetcher();
  JwksFetcher(const JwksFetcher&) = delete;
  JwksFetcher& operator=(const JwksFetcher&) = delete;

  /** The keys now (the base keys plus the last JWK Set fetched). Thread-safe. */
  std::shared_ptr<const KeySet> keys() const;
  /** Bumped by every successful fetch. */
  std::uint64_t generation() const { return generation_.load(); }
  /** Fetches soon unless a fetch started within the minimum interval; true when one will. */
  bool refresh_soon();
  /** Fetches made (tried) so far. */
  std::uint64_t fetches() const { return fetches_.load(); }

 private:
  void run();
  void fetch_once();

  Options options_;
  std::string scheme_, host_, port_, target_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<const KeySet> base_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const KeySet> keys_;
  std::chrono::steady_clock::time_point last_start_{};
  bool wanted_ = false;
  bool stop_ = false;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::uint64_t> fetches_{0};
  std::thread thread_;
};

}  // namespace forrealtime::auth
