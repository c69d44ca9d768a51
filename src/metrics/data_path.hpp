// The numbers the data path keeps for /metrics and the console: delivery latency, stream queue
// depth, slow consumers, limits hit, store operation latency. One instance per hub (so per
// Realtime); every field is a relaxed atomic or an atomic-bucket histogram, bumped without a
// lock or an allocation from any thread; the gateway reads them when it is scraped.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "metrics/histogram.hpp"

namespace forrealtime::metrics {

/** A limit a request or a stream ran into (the `limit` label of forrealtime_limits_hit_total). */
enum class Limit : std::uint8_t {
  body_size,            // an emit body over max_body_bytes (413)
  header_size,          // request headers too large (431)
  channels_per_stream,  // a subscribe over max_channels_per_connection
  stream_queue,         // a stream over its unsent-bytes hard limit (slow consumer)
  connections,          // a connection over GatewayOptions::max_connections (503, closed)
  connections_per_ip,   // a connection over max_connections_per_ip (503, closed)
  emit_rate,            // an emit over emit_rate per credential or address (429)
  header_timeout,       // a request head not read within header_timeout (closed)
  history_bytes,        // a history answer cut at max_history_bytes
  replay_bytes,         // a stream's start cut at max_replay_bytes (reconnect)
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(Limit::count_)> limit_names{
    "body_size",          "header_size", "channels_per_stream", "stream_queue",  "connections",
    "connections_per_ip", "emit_rate",   "header_timeout",      "history_bytes", "replay_bytes"};

/** The store operations timed (the `op` label of the store latency histogram). */
enum class StoreOp : std::uint8_t { append, range, info, count_ };
inline constexpr std::array<std::string_view, static_cast<std::size_t>(StoreOp::count_)>
    store_op_names{"append", "range", "info"};

struct DataPathMetrics {
  /** Seconds from the event's id (the store's append time, in ms) to its frame being queued to
   *  a stream's socket; one observation per event per stream batch. */
  LatencyHistogram delivery_latency{latency_buckets};
  /** Bytes a stream had unsent when it started a write. */
  BytesHistogram stream_queue_bytes{byte_buckets};
  std::atomic<std::uint64_t> slow_consumer_disconnects{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Limit::count_)> limits_hit{};
  std::array<LatencyHistogram, static_cast<std::size_t>(StoreOp::count_)> store_latency{
      LatencyHistogram{latency_buckets}, LatencyHistogram{latency_buckets},
      LatencyHistogram{latency_buckets}};

  void hit(Limit l) {
    limits_hit[static_cast<std::size_t>(l)].fetch_add(1, std::memory_order_relaxed);
  }
  LatencyHistogram& store(StoreOp op) { return store_latency[static_cast<std::size_t>(op)]; }
};

}  // namespace forrealtime::metrics
