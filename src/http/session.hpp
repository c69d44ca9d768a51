// One SSE stream: the subscription of PROTOCOL.md section 2 from start to end.
//
// Start: core::StreamStart (core/stream_start.hpp) decides; this shell performs its actions on
// the hub and the store and writes what it says to emit. The replay reads its next page only
// while the output queue is under the soft limit, so a long replay is paced by the reader
// instead of ending in `reconnect`. The first frame written carries `retry:` in its block, so
// that the stream's first block is a whole event (`connected`).
//
// Output: frames are shared pointers into a bounded queue; the writer gathers what is queued
// into one write. Past the soft limit the stream is logged; past the hard limit it gets
// `reconnect` and is closed (the client replays from its last ack). Pings, the maximum duration
// and shutdown come from the shard's once-a-second tick.
//
// Threading: everything runs on the shard's executor. Sink callbacks are dispatched onto it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/query.hpp"
#include "core/stream_start.hpp"
#include "forrealtime/handler.hpp"
#include "hub/hub.hpp"

namespace forrealtime::detail {

struct StreamSettings {
  std::chrono::seconds max_duration{0};
  std::size_t queue_soft_bytes = 256 * 1024;
  std::size_t queue_hard_bytes = 4 * 1024 * 1024;
  /** When the subscriber's grant ends (ms since the epoch; 0: never): the stream then ends with
   *  `grant_expired` instead of `reconnect`. */
  std::uint64_t grant_expires_ms = 0;
  /** The authenticated subject that opened the stream (a JWT's sub, a forward-auth answer's
   *  subject), or empty. */
  std::string subject;
  /** Bytes of events replayed at the start before the stream ends with `reconnect` (0: none). */
  std::size_t max_replay_bytes = 0;
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
  bool end_stream() override;
  void flush() override;
  // ShardClient
  void on_tick(std::uint64_t now_ms, const core::FramePtr& ping) override;
  void on_shutdown(const core::FramePtr& reconnect) override;
  bool end_if_subject(std::string_view subject) override;
  // SseSink::Listener (called on the sink's executor)
  void on_written(boost::system::error_code ec) override;
  void on_closed(boost::system::error_code ec) override;

 private:
  using Start = core::StreamStart<HubEntryPtr>;
  /** Performs the start machine's actions, in order, until one ends the stream. */
  void perform(Start::Actions actions);
  void read_page(std::uint32_t channel, const RangeQuery& range);
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
  /** Puts `retry:` in front of the stream's first frame. */
  void with_retry(core::FramePtr& frame);
  void finish();
  /** Delivers one event of the start (a replayed or a held-back live one), unless it would take
   *  the start past max_replay_bytes: then the stream ends with `reconnect` and false. */
  bool deliver_start(const core::FramePtr& frame);

  std::shared_ptr<std::atomic<std::size_t>> streams_;
  Hub& hub_;
  Shard& shard_;
  std::shared_ptr<SseSink> sink_;
  core::SubscribeRequest req_;
  StreamSettings settings_;
  Start start_;

  enum class State { starting, live, ending, closed } state_ = State::starting;
  /** A replay page held back while the output queue is over the soft limit. */
  std::optional<std::pair<std::uint32_t, RangeQuery>> deferred_page_;
  bool retry_sent_ = false;

  std::vector<core::FramePtr> queue_;  // frames [head_, size) are not yet written
  std::size_t head_ = 0;
  std::size_t in_flight_ = 0;  // frames of the write under way
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  // The thread inside sink_->write, if any: a completion on that thread came from inside the
  // write, on the shard's executor. A completion on another thread (a sink's asynchronous write
  // finishing on another thread of a multi-threaded io_context) must not take that shortcut.
  std::atomic<std::thread::id> write_thread_{};
  bool flush_pending_ = false;  // registered with the shard for a write after its drain
  bool warned_soft_ = false;
  std::vector<boost::asio::const_buffer> buffers_;

  std::uint64_t deadline_ms_ = 0;      // max duration; 0 none
  std::uint64_t end_deadline_ms_ = 0;  // close by then even if the peer reads nothing
  std::size_t watched_ = 0;            // channels added to the hub
  std::size_t replayed_bytes_ = 0;     // event bytes delivered while starting
  std::size_t replayed_events_ = 0;
};

}  // namespace forrealtime::detail
