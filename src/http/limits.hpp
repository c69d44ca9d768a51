// The gateway's per-client limits: how many connections are open in all and per client
// address, and how fast one credential (or one address without a credential) may emit. Both are
// shared by every worker thread behind one small mutex each; neither is on the stream's data
// path (a connection takes its slot once, an emit asks once). The limiter never allocates per
// request once a key is known, forgets idle keys, and holds at most a fixed number of them: a
// scan of addresses or credentials cannot grow it without bound.
//
// An emit is charged to its credential only once that credential has been granted an emit
// before; until then (a made-up token, a valid one with junk added, no credential at all) it is
// charged to the client's address, so inventing a credential per request buys nothing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace forrealtime::gateway {

/** Counts open connections in all and per address. */
class ConnectionLimiter {
 public:
  enum class Verdict { ok, total, per_ip };
  /** What a slot counts: a connection from a client both; a connection from a trusted proxy
   *  only the total, and each request it forwards only its client's address (trusted_proxies). */
  enum class Count { both, total, per_ip };

  ConnectionLimiter(std::size_t max_total, std::size_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  /** Takes a slot for `address` unless a cap is reached; a taken slot must be released. */
  Verdict acquire(const std::string& address, Count count = Count::both);
  void release(const std::string& address, Count count = Count::both);
  std::size_t open() const;

 private:
  std::size_t max_total_, max_per_ip_;
  mutable std::mutex mu_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
};

/** A token bucket per key: `rate` tokens a second, at most `burst` saved up. At most `max_keys`
 *  buckets are kept: keys whose bucket has refilled are dropped when the table grows, and when
 *  it is full of keys still in use, new keys share one overflow bucket until room is made. */
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double rate, double burst, std::size_t max_keys = 65536)
      : rate_(rate), burst_(burst > 0 ? burst : std::max(1.0, rate)), max_keys_(max_keys) {}

  /** Takes one token for `key`; when there is none, the seconds (rounded up, at least 1) until
   *  there will be. */
  std::optional<std::uint32_t> take(std::uint64_t key, Clock::time_point now = Clock::now());
  double rate() const { return rate_; }
  double burst() const { return burst_; }
  std::size_t size();

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  double rate_, burst_;
  std::size_t max_keys_;
  std::mutex mu_;
  std::size_t prune_at_ = 4096;
  Clock::time_point last_prune_{};
  std::unordered_map<std::uint64_t, Bucket> buckets_;
};

/** The emit rate: per credential once it has been granted, else per client address. */
class EmitLimiter {
 public:
  using Clock = RateLimiter::Clock;

  EmitLimiter(double rate, double burst, std::size_t max_keys = 65536)
      : buckets_(rate, burst, max_keys), max_granted_(max_keys) {}

  /** Charges one emit: to `credential` when it was granted before; else to `address`, and to
   *  `credential` too when there is one (so a refused credential stays limited on its own).
   *  Nothing when it may go on, else the seconds to wait. */
  std::optional<std::uint32_t> take(std::optional<std::uint64_t> credential, std::uint64_t address,
                                    Clock::time_point now = Clock::now());
  /** After an emit carrying `credential` was allowed and done (a 2xx): from now on it has its
   *  own bucket. The set of granted credentials is bounded; when full it starts over (each
   *  credential's next emit then costs its address once more). */
  void granted(std::uint64_t credential);
  double rate() const { return buckets_.rate(); }
  std::size_t buckets() { return buckets_.size(); }

 private:
  RateLimiter buckets_;
  std::mutex mu_;
  std::unordered_set<std::uint64_t> granted_;
  std::size_t max_granted_;
};

}  // namespace forrealtime::gateway
