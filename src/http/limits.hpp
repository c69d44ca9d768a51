// The gateway's per-client limits: how many connections are open in all and per client
// address, and how fast one credential (or one address without a credential) may emit. Both are
// shared by every worker thread behind one small mutex each; neither is on the stream's data
// path (a connection takes its slot once, an emit asks once). The limiter never allocates per
// request once a key is known, and forgets idle keys so a scan of addresses cannot grow it
// without bound.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace forrealtime::gateway {

/** Counts open connections in all and per address. */
class ConnectionLimiter {
 public:
  enum class Verdict { ok, total, per_ip };

  ConnectionLimiter(std::size_t max_total, std::size_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  /** Takes a slot for `address` unless a cap is reached; a taken slot must be released. */
  Verdict acquire(const std::string& address);
  void release(const std::string& address);
  std::size_t open() const;

 private:
  std::size_t max_total_, max_per_ip_;
  mutable std::mutex mu_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
};

/** A token bucket per key: `rate` tokens a second, at most `burst` saved up. */
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double rate, double burst)
      : rate_(rate), burst_(burst > 0 ? burst : std::max(1.0, rate)) {}

  /** Takes one token for `key`; when there is none, the seconds (rounded up, at least 1) until
   *  there will be. */
  std::optional<std::uint32_t> take(std::uint64_t key, Clock::time_point now = Clock::now());
  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  double rate_, burst_;
  std::mutex mu_;
  std::size_t prune_at_ = 4096;
  std::unordered_map<std::uint64_t, Bucket> buckets_;
};

}  // namespace forrealtime::gateway
