// The connection and emit-rate limiters; see limits.hpp.
#include "http/limits.hpp"

#include <algorithm>
#include <cmath>

namespace forrealtime::gateway {

ConnectionLimiter::Verdict ConnectionLimiter::acquire(const std::string& address, Count count) {
  std::lock_guard lock(mu_);
  bool total = count != Count::per_ip, per_ip = count != Count::total;
  if (total && max_total_ && total_ >= max_total_) return Verdict::total;
  if (per_ip && max_per_ip_) {
    auto& n = per_ip_[address];
    if (n >= max_per_ip_) return Verdict::per_ip;
    ++n;
  }
  if (total) ++total_;
  return Verdict::ok;
}

void ConnectionLimiter::release(const std::string& address, Count count) {
  std::lock_guard lock(mu_);
  if (count != Count::per_ip && total_) --total_;
  if (count == Count::total || !max_per_ip_) return;
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
  // A table full of keys in use is scanned again at most once a second (not on every take).
  bool full = buckets_.size() >= max_keys_ && now - last_prune_ >= std::chrono::seconds(1);
  if (buckets_.size() >= prune_at_ || full) {
    last_prune_ = now;
    std::erase_if(buckets_, [&](const auto& kv) {
      double elapsed = std::chrono::duration<double>(now - kv.second.at).count();
      return kv.second.tokens + elapsed * rate_ >= burst_;
    });
    prune_at_ = std::max<std::size_t>(4096, 2 * buckets_.size());
  }
  // Still full of keys in use: a new key shares the overflow bucket (key 0 is never a hash the
  // callers make: they tag theirs), so the table stays bounded and floods stay limited.
  if (buckets_.size() >= max_keys_ && !buckets_.count(key)) key = 0;
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

std::size_t RateLimiter::size() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

std::optional<std::uint32_t> EmitLimiter::take(std::optional<std::uint64_t> credential,
                                               std::uint64_t address, Clock::time_point now) {
  bool known = false;
  if (credential) {
    std::lock_guard lock(mu_);
    known = granted_.count(*credential) != 0;
  }
  if (known) return buckets_.take(*credential, now);
  // A credential not granted yet costs its address a token, and starts its own bucket.
  if (auto wait = buckets_.take(address, now)) return wait;
  if (credential) return buckets_.take(*credential, now);
  return std::nullopt;
}

void EmitLimiter::granted(std::uint64_t credential) {
  std::lock_guard lock(mu_);
  if (granted_.size() >= max_granted_ && !granted_.count(credential)) granted_.clear();
  granted_.insert(credential);
}

}  // namespace forrealtime::gateway
