// One SSE stream: the subscription of PROTOCOL.md section 2 from start to end.
//
// Start: watch every channel on the hub (so live entries are buffered from then on), then for
// each channel in order read the latest id, send `connected`, and replay `(last_ack, latest]`
// from the store; then flush what was buffered and go live. Every user entry passes through the
// MergeCursor, so replay and live meet with no gap and no duplicate.
//
// Output: frames are shared pointers into a bounded queue; the writer gathers what is queued
// into one write. Past the soft limit the stream is logged; past the hard limit it gets
// `reconnect` and is closed (the client replays from its last ack). Pings, the maximum duration
// and shutdown come from the shard's once-a-second tick.
//
// Threading: everything runs on the shard's executor. Sink callbacks are dispatched onto it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/query.hpp"
#include "forrealtime/handler.hpp"
#include "hub/hub.hpp"

namespace forrealtime::detail {

struct StreamSettings {
  std::chrono::seconds max_duration{0};
  std::size_t queue_soft_bytes = 256 * 1024;
  std::size_t queue_hard_bytes = 4 * 1024 * 1024;
};

class SseSession final : public std::enable_shared_from_this<SseSession>,
                         public Subscriber,
                         public ShardClient,
                         public SseSink::Listener {
 public:
  SseSession(Hub& hub, Shard& shard, std::shared_ptr<SseSink> sink, core::SubscribeRequest req,
             StreamSettings settings);
  ~SseSession() override;

  /** Opens the stream with `head` and runs the start sequence. On the shard's executor. */
  void start(const Response& head);

  // Subscriber
  void on_entries(std::uint32_t channel_index, std::span<const HubEntryPtr> entries) override;
  void on_tail_lost() override;
  void flush() override;
  // ShardClient
  void on_tick(std::uint64_t now_ms, const core::FramePtr& ping) override;
  void on_shutdown(const core::FramePtr& reconnect) override;
  // SseSink::Listener (called on the sink's executor)
  void on_written(boost::system::error_code ec) override;
  void on_closed(boost::system::error_code ec) override;

 private:
  boost::asio::awaitable<void> run_start(std::shared_ptr<SseSession> self);
  /** Queues a frame and writes. */
  void enqueue(core::FramePtr frame);
  /** Queues a frame without writing (the caller writes once after a batch). */
  void push(core::FramePtr frame);
  void enqueue_text(const std::string& json);
  void go_live();
  void write_some();
  void written(boost::system::error_code ec);
  /** Sends `reconnect` (or the given frame) after what is queued, then closes. */
  void end_with(core::FramePtr last);
  void finish();

  std::shared_ptr<std::atomic<std::size_t>> streams_;
  Hub& hub_;
  Shard& shard_;
  std::shared_ptr<SseSink> sink_;
  core::SubscribeRequest req_;
  StreamSettings settings_;
  core::MergeCursor merge_;

  enum class State { starting, live, ending, closed } state_ = State::starting;
  std::vector<std::pair<std::uint32_t, HubEntryPtr>> pending_;  // live entries during start
  std::size_t pending_bytes_ = 0;

  std::vector<core::FramePtr> queue_;  // frames [head_, size) are not yet written
  std::size_t head_ = 0;
  std::size_t in_flight_ = 0;  // frames of the write under way
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool flush_pending_ = false;  // registered with the shard for a write after its drain
  bool warned_soft_ = false;
  std::vector<boost::asio::const_buffer> buffers_;

  std::uint64_t deadline_ms_ = 0;      // max duration; 0 none
  std::uint64_t end_deadline_ms_ = 0;  // close by then even if the peer reads nothing
  std::size_t watched_ = 0;            // channels added to the hub
};

}  // namespace forrealtime::detail
