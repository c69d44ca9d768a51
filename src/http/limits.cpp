// The connection and emit-rate limiters; see limits.hpp.
#include "http/limits.hpp"

#include <algorithm>
#include <cmath>

namespace forrealtime::gateway {

ConnectionLimiter::Verdict ConnectionLimiter::acquire(const std::string& address) {
  std::lock_guard lock(mu_);
  if (max_total_ && total_ >= max_total_) return Verdict::total;
  if (max_per_ip_) {
    auto& n = per_ip_[address];
    if (n >= max_per_ip_) return Verdict::per_ip;
    ++n;
  }
  ++total_;
  return Verdict::ok;
}

void ConnectionLimiter::release(const std::string& address) {
  std::lock_guard lock(mu_);
  if (total_) --total_;
  if (!max_per_ip_) return;
  auto it = per_ip_.find(address);
  if (it == per_ip_.end()) return;
  if (--it->second == 0) per_ip_.erase(it);
}

std::size_t ConnectionLimiter::open() const {
  std::lock_guard lock(mu_);
  return total_;
}

std::optional<std::uint32_t> RateLimiter::take(std::uint64_t key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  // Keys whose bucket has filled up again carry no state worth keeping: drop them when the map
  // grows, so that many one-off keys cannot grow it for ever.
  // The next scan waits until the map has doubled, so that scans stay amortized O(1) per take
  // even when every key is still in use.
  if (buckets_.size() >= prune_at_) {
    std::erase_if(buckets_, [&](const auto& kv) {
      double elapsed = std::chrono::duration<double>(now - kv.second.at).count();
      return kv.second.tokens + elapsed * rate_ >= burst_;
    });
    prune_at_ = std::max<std::size_t>(4096, 2 * buckets_.size());
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  auto& b = it->second;
  if (!fresh) {
    double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
    b.at = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  double wait = (1 - b.tokens) / rate_;
  return static_cast<std::uint32_t>(std::max(1.0, std::ceil(wait)));
}

}  // namespace forrealtime::gateway
