// The hub: one live tail per store per process, fanned out to every subscriber.
//
// The store's tail hands entries to `Hub::on_entries` on the store's thread. Each entry is
// decoded and framed there once (`HubEntry`, shared and immutable), and one batch per channel is
// posted to each shard that has a subscriber for the channel. A shard is the set of subscribers
// on one single-threaded executor (a worker's io_context, or a strand for executors we do not
// know to be single-threaded); inside a shard nothing is locked. The hub's one mutex guards the
// channel -> shards routes and is taken once per batch and on subscribe/unsubscribe, never per
// delivered message.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>

#include "core/events.hpp"
#include "forrealtime/store.hpp"
#include "metrics/data_path.hpp"

namespace spdlog {
class logger;
}

namespace forrealtime::detail {

/** One decoded, framed entry, shared by every subscriber of its channel. */
struct HubEntry {
  StreamId id;
  std::string event;
  core::FramePtr frame;  // `id: ID` and `data: {"id","channel","event","data"}`
  /** The `data` JSON inside the frame's bytes. */
  std::string_view data_json;
  /** The stored `data` decoded, when the entry needed decoding to be framed (a message not in
   *  the form our writer gives); otherwise `data()` parses `data_json` on demand (only
   *  server-side subscriptions need the value: streams send the frame). */
  std::optional<boost::json::value> decoded;
  boost::json::value data() const;
};
using HubEntryPtr = std::shared_ptr<const HubEntry>;

/** Decodes a stored entry and frames it; nothing (and nothing sent) when it is not valid. */
HubEntryPtr make_hub_entry(std::string_view channel, const StoredEntry& entry);

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

/** Something a shard delivers to. All calls happen on the shard's executor. */
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void on_entries(std::uint32_t channel_index, std::span<const HubEntryPtr> entries) = 0;
  /** The store's tail failed: live delivery has a hole until it resumes. */
  virtual void on_tail_lost() = 0;
  /** After a drain of the shard's inbox, for subscribers that asked with `Shard::flush_later`:
   *  write what the drain queued in one go. */
  virtual void flush() {}
  /** An operator asked to end the streams of a channel (admin API): a stream ends with
   *  `reconnect` and answers true; other subscribers keep going and answer false. */
  virtual bool end_stream() { return false; }
};

class Shard;

/** Per-shard periodic work that SSE sessions need (pings, durations, shutdown). */
class ShardClient {
 public:
  virtual ~ShardClient() = default;
  /** Called once a second; `ping` is the shard's shared ping frame when one is due. */
  virtual void on_tick(std::uint64_t now_ms, const core::FramePtr& ping) = 0;
  /** The process is shutting down: end the stream with `reconnect`. */
  virtual void on_shutdown(const core::FramePtr& reconnect) = 0;
  /** An operator asked to end the streams of an authenticated subject (admin API): a stream
   *  opened with that subject ends with `reconnect` and answers true. */
  virtual bool end_if_subject(std::string_view /*subject*/) { return false; }
};

class Shard {
 public:
  explicit Shard(boost::asio::any_io_executor ex, std::chrono::milliseconds ping_interval);
  const boost::asio::any_io_executor& executor() const { return executor_; }

  // On the shard's executor only:
  /** The shard owns its clients (so that they go when the hub goes, even if their io_context
   *  was stopped with them mid-stream). */
  void add_client(std::shared_ptr<ShardClient> c) { clients_.push_back(std::move(c)); }
  /** Inside a delivery: call `sub->flush()` once the current drain has delivered everything. */
  void flush_later(Subscriber* sub) { dirty_.push_back(sub); }
  /** Gives the client back; the caller decides when it is released. */
  std::shared_ptr<ShardClient> remove_client(ShardClient* c);

 private:
  friend class Hub;
  using Batch = std::shared_ptr<const std::pair<std::string, std::vector<HubEntryPtr>>>;
  /** From any thread, in id order per channel: queues a batch and schedules one drain. */
  void push(Batch batch);
  void drain();
  void deliver(std::string_view channel, std::span<const HubEntryPtr> entries);
  void tick();
  void start_ticker();

  boost::asio::any_io_executor executor_;
  std::chrono::milliseconds ping_interval_;
  std::uint64_t next_ping_ms_ = 0;
  std::unique_ptr<boost::asio::steady_timer> ticker_;
  std::unordered_map<std::string, std::vector<std::pair<Subscriber*, std::uint32_t>>, StringHash,
                     std::equal_to<>>
      channels_;
  std::vector<std::shared_ptr<ShardClient>> clients_;
  // Batches cross threads through this inbox, not one post each: Asio runs what a thread posts
  // to its own io_context after what other threads post meanwhile, which would reorder two
  // entries of one channel appended on different threads (and the merge rule would drop one).
  std::mutex inbox_mu_;
  std::vector<Batch> inbox_;
  std::vector<Batch> draining_;
  std::vector<Subscriber*> dirty_;
  bool drain_scheduled_ = false;
};

class Hub final : public TailSink {
 public:
  Hub(std::shared_ptr<Store> store, std::chrono::milliseconds ping_interval,
      std::shared_ptr<spdlog::logger> logger);
  ~Hub() override;

  /** Declares an io_context run by exactly one thread: its shard needs no strand, and the
   *  store may serve calls made on it on that loop (`Store::add_worker`). */
  void register_worker(boost::asio::io_context& ioc);
  /** The loop of `register_worker` no longer runs and is about to be destroyed: the store lets
   *  go of it (`Store::remove_worker`). */
  void unregister_worker(boost::asio::io_context& ioc);
  /** The shard for an executor (created on first use). Thread-safe. */
  Shard& shard_for(const boost::asio::any_io_executor& ex);

  /** On the shard's executor: starts delivering `channel` to `sub`; `armed` runs on the shard's
   *  executor once every entry appended from then on will reach `sub`. */
  void add(Shard& shard, Subscriber* sub, const std::string& channel, std::uint32_t index,
           std::function<void(boost::system::error_code)> armed);
  /** On the shard's executor: stops it. No call reaches `sub` for `channel` afterwards. */
  void remove(Shard& shard, Subscriber* sub, const std::string& channel);

  /** Destroys the shards' timers and releases their sessions. Call only once no thread runs
   *  any shard's executor, and before those io_contexts are destroyed (sockets must go before
   *  their io_context). */
  void release_shards();

  /** Every stream ends with `reconnect`; returns at once. */
  void shutdown();
  /** Number of live streams (sessions) across shards; for metrics. */
  std::size_t stream_count() const { return streams_->load(std::memory_order_relaxed); }
  /** Shared with the sessions, which may be destroyed after the hub (with their io_context). */
  const std::shared_ptr<std::atomic<std::size_t>>& streams() { return streams_; }
  std::atomic<std::uint64_t>& delivered() { return delivered_; }
  /** Latency histograms and counters of the data path (for /metrics and the console). */
  metrics::DataPathMetrics& metrics() { return metrics_; }

  /** One channel with subscribers in this process. */
  struct ChannelStats {
    std::string channel;
    std::size_t subscribers = 0;  // streams and server-side subscriptions, this process only
    std::uint64_t events = 0;     // entries the live tail brought since the first subscriber
  };
  /** A snapshot of every channel with local subscribers (takes the routes' lock once). */
  std::vector<ChannelStats> channel_stats();
  /** Asks every subscriber of `channel` in this process to end its stream (Subscriber::
   *  end_stream); `done` gets the number of streams ended, on some shard's thread. */
  void end_streams(std::string_view channel, std::function<void(std::size_t)> done);
  /** The same for every stream opened with the authenticated `subject` (a JWT's sub). */
  void end_subject_streams(std::string_view subject, std::function<void(std::size_t)> done);

  // TailSink
  void on_entries(std::string_view channel, std::span<const StoredEntry> entries) override;
  void on_tail_error(boost::system::error_code ec) override;
  void on_tail_resumed() override;

  Store& store() { return *store_; }
  spdlog::logger& logger() { return *logger_; }

 private:
  struct Route {
    std::vector<std::pair<Shard*, std::size_t>> shards;  // shard, subscriber count
    std::uint64_t events = 0;                            // entries delivered, for stats
  };
  std::shared_ptr<Store> store_;
  std::chrono::milliseconds ping_interval_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;
  std::unordered_map<const void*, std::unique_ptr<Shard>> shards_;  // by execution context
  std::unordered_map<std::string, Route, StringHash, std::equal_to<>> routes_;
  std::unordered_map<const void*, bool> single_threaded_;
  std::shared_ptr<std::atomic<std::size_t>> streams_ =
      std::make_shared<std::atomic<std::size_t>>(0);
  std::atomic<std::uint64_t> delivered_{0};
  metrics::DataPathMetrics metrics_;
  std::atomic<bool> tail_ok_{true};
};

}  // namespace forrealtime::detail
