// A Prometheus histogram that costs one relaxed atomic add per bucket hit plus two for the sum
// and count: no lock, no allocation, safe from any thread. Buckets are fixed at compile time
// (upper bounds in seconds, or in any unit the caller picks); the text is written on scrape.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace forrealtime::metrics {

/** Latency buckets in seconds, from 100 µs to 10 s (roughly x2.5 per step). */
inline constexpr std::array<double, 14> latency_buckets{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0};
/** Byte-size buckets, 1 KiB to 16 MiB (x4 per step). */
inline constexpr std::array<double, 8> byte_buckets{1024.0,   4096.0,    16384.0,   65536.0,
                                                    262144.0, 1048576.0, 4194304.0, 16777216.0};

template <std::size_t N>
class Histogram {
 public:
  explicit constexpr Histogram(const std::array<double, N>& bounds) : bounds_(bounds) {}

  /** Counts one observation. */
  void observe(double v) {
    std::size_t i = 0;
    while (i < N && v > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    // The sum is kept in micro-units so that it stays an integer add.
    sum_micros_.fetch_add(static_cast<std::uint64_t>(v * 1e6 + 0.5), std::memory_order_relaxed);
  }

  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (auto& b : buckets_) n += b.load(std::memory_order_relaxed);
    return n;
  }
  double sum() const {
    return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  }

  /** An estimate of the q-quantile (0..1), linear inside the bucket, as histogram_quantile()
   *  does; 0 without observations. */
  double quantile(double q) const {
    std::array<std::uint64_t, N + 1> c{};
    std::uint64_t total = 0;
    for (std::size_t i = 0; i <= N; ++i)
      total += c[i] = buckets_[i].load(std::memory_order_relaxed);
    if (total == 0) return 0;
    double rank = q * static_cast<double>(total);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i <= N; ++i) {
      if (static_cast<double>(seen + c[i]) >= rank && c[i] > 0) {
        if (i == N) return bounds_[N - 1];
        double lo = i ? bounds_[i - 1] : 0, hi = bounds_[i];
        return lo + (hi - lo) * (rank - static_cast<double>(seen)) / static_cast<double>(c[i]);
      }
      seen += c[i];
    }
    return bounds_[N - 1];
  }

  /** Appends the `_bucket`, `_sum` and `_count` lines; `labels` is `a="b",c="d"` or empty. */
  void write(std::string& out, std::string_view name, std::string_view labels = {}) const {
    std::uint64_t cumulative = 0;
    auto line = [&](std::string_view le, std::uint64_t v) {
      out.append(name).append("_bucket{");
      if (!labels.empty()) out.append(labels).push_back(',');
      out.append("le=\"").append(le).append("\"} ").append(std::to_string(v)).push_back('\n');
    };
    for (std::size_t i = 0; i < N; ++i) {
      cumulative += buckets_[i].load(std::memory_order_relaxed);
      line(format_bound(bounds_[i]), cumulative);
    }
    cumulative += buckets_[N].load(std::memory_order_relaxed);
    line("+Inf", cumulative);
    auto suffix = [&](std::string_view s, const std::string& v) {
      out.append(name).append(s);
      if (!labels.empty()) out.append("{").append(labels).append("}");
      out.append(" ").append(v).push_back('\n');
    };
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", sum());
    suffix("_sum", buf);
    suffix("_count", std::to_string(cumulative));
  }

  static std::string format_bound(double b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", b);
    return buf;
  }

 private:
  std::array<double, N> bounds_;
  std::array<std::atomic<std::uint64_t>, N + 1> buckets_{};
  std::atomic<std::uint64_t> sum_micros_{0};
};

using LatencyHistogram = Histogram<latency_buckets.size()>;
using BytesHistogram = Histogram<byte_buckets.size()>;

}  // namespace forrealtime::metrics
