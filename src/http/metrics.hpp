// The gateway's counters and their Prometheus text (GET /metrics). Counters are bumped from any
// worker thread with relaxed atomics; the hub and the store keep their own numbers and are read
// when the text is written. To add a metric: a field here, a line in metrics_text().
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace forrealtime::gateway {

struct GatewayMetrics {
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> subscribes{0};
  std::atomic<std::uint64_t> subscribe_rejected{0};
  std::atomic<std::uint64_t> emitted{0};
  std::atomic<std::uint64_t> emit_rejected{0};
  std::atomic<std::uint64_t> emit_failed{0};
  std::atomic<std::uint64_t> history_requests{0};
};

/** Writes Prometheus text exposition (version 0.0.4) lines. */
class MetricsText {
 public:
  void counter(const char* name, const char* help, std::uint64_t v) {
    metric("counter", name, help, v);
  }
  void gauge(const char* name, const char* help, std::uint64_t v) {
    metric("gauge", name, help, v);
  }
  std::string take() { return std::move(out_); }

 private:
  void metric(const char* type, const char* name, const char* help, std::uint64_t v);
  std::string out_;
};

struct GatewayState;

/** The whole /metrics body. */
std::string metrics_text(const GatewayState& state);

}  // namespace forrealtime::gateway
