// GET /metrics: the gateway's counters with the hub's and the store's numbers.
#include "http/metrics.hpp"

#include "http/ops.hpp"
#include "http/state.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {

void MetricsText::metric(const char* type, const char* name, const char* help, std::uint64_t v) {
  out_.append("# HELP ").append(name).append(" ").append(help);
  out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
  out_.append(name).append(" ").append(std::to_string(v)).append("\n");
}

std::string metrics_text(const GatewayState& state) {
  auto& core = state.core;
  auto& m = state.metrics;
  MetricsText out;
  out.gauge("forrealtime_streams", "Open SSE streams.", core.hub->stream_count());
  out.gauge("forrealtime_store_healthy", "1 when the store can serve.",
            core.store->healthy() ? 1 : 0);
  out.counter("forrealtime_subscribes_total", "Streams opened.", m.subscribes);
  out.counter("forrealtime_subscribes_rejected_total", "Subscribe requests refused.",
              m.subscribe_rejected);
  out.counter("forrealtime_events_emitted_total", "Events appended through POST /api/emit.",
              m.emitted);
  out.counter("forrealtime_emits_rejected_total", "Emit requests refused (4xx).", m.emit_rejected);
  out.counter("forrealtime_emits_failed_total", "Emit requests the store failed (5xx).",
              m.emit_failed);
  out.counter("forrealtime_events_delivered_total", "Live events queued to streams.",
              core.hub->delivered().load());
  out.counter("forrealtime_history_requests_total", "History requests.", m.history_requests);
  auto text = out.take();
  write_ops_metrics(text, state);
  return text;
}

}  // namespace forrealtime::gateway
