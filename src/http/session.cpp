// One SSE stream; see session.hpp for the sequence and the output policy.
#include "http/session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace forrealtime::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr std::size_t kMaxFramesPerWrite = 64;
constexpr std::size_t kReplayPage = 1000;
constexpr std::uint64_t kEndGraceMs = 5000;
}  // namespace

namespace {
std::vector<std::optional<core::Replay>> replays_of(const core::SubscribeRequest& req) {
  std::vector<std::optional<core::Replay>> out;
  out.reserve(req.last_acks.size());
  for (auto& ack : req.last_acks) {
    if (ack)
      out.push_back(core::Replay{*ack, true, StreamId::max(), true});
    else
      out.emplace_back();
  }
  return out;
}

// At most five lines a second about replay caps, whatever the number of streams hitting one.
bool replay_line_allowed(std::uint64_t& suppressed) {
  static std::atomic<std::uint64_t> second{0};
  static std::atomic<std::uint32_t> used{0};
  static std::atomic<std::uint64_t> dropped{0};
  auto now = core::now_ms() / 1000;
  auto s = second.load(std::memory_order_relaxed);
  if (s != now && second.compare_exchange_strong(s, now)) used.store(0);
  if (used.fetch_add(1) >= 5) {
    dropped.fetch_add(1);
    return false;
  }
  suppressed = dropped.exchange(0);
  return true;
}

core::FramePtr error_frame() {
  return core::make_frame({}, core::sse_frame(core::error_json("the store is unavailable")));
}
}  // namespace

SseSession::SseSession(Hub& hub, Shard& shard, std::shared_ptr<SseSink> sink,
                       core::SubscribeRequest req, StreamSettings settings)
    : hub_(hub),
      shard_(shard),
      sink_(std::move(sink)),
      req_(std::move(req)),
      settings_(settings),
      start_(replays_of(req_), core::StartOptions{kReplayPage, settings.queue_hard_bytes}) {
  streams_ = hub_.streams();
  streams_->fetch_add(1, std::memory_order_relaxed);
}

SseSession::~SseSession() {
  // Not through hub_: a session still queued in a stopped io_context may outlive the hub.
  streams_->fetch_sub(1, std::memory_order_relaxed);
}

void SseSession::start(const Response& head) {
  shard_.add_client(shared_from_this());  // owned by the shard until finish()
  if (settings_.max_duration.count() > 0)
    deadline_ms_ =
        core::now_ms() + static_cast<std::uint64_t>(settings_.max_duration.count()) * 1000;
  sink_->open(head, *this);
  perform(start_.start());
}

void SseSession::perform(Start::Actions actions) {
  using Kind = Start::Kind;
  auto self = shared_from_this();
  auto& store = hub_.store();
  for (auto& a : actions) {
    if (state_ != State::starting && state_ != State::live) return;  // ended meanwhile
    const auto& channel = req_.channels[a.channel];
    std::uint32_t i = a.channel;
    // Store answers may come before the call returns: each is posted, so the machine is never
    // fed while its actions are being performed.
    switch (a.kind) {
      case Kind::watch:
        ++watched_;
        hub_.add(shard_, this, channel, i, [self, i](error_code ec) {
          if (self->state_ == State::starting) self->perform(self->start_.on_armed(i, ec));
        });
        break;
      case Kind::read_latest:
        store.async_latest(channel, [self, i](Store::Result<StreamId> r) {
          asio::post(self->shard_.executor(), [self, i, r = std::move(r)] {
            if (self->state_ == State::starting) self->perform(self->start_.on_latest(i, r));
          });
        });
        break;
      case Kind::read_info:
        store.async_info(channel, [self, i](Store::Result<StreamInfo> r) {
          asio::post(self->shard_.executor(), [self, i, r = std::move(r)] {
            if (self->state_ == State::starting) self->perform(self->start_.on_info(i, r));
          });
        });
        break;
      case Kind::read_page:
        if (queued_bytes_ > settings_.queue_soft_bytes)
          deferred_page_.emplace(i, a.range);  // written() reads it once the queue drains
        else
          read_page(i, a.range);
        break;
      case Kind::connected:
        enqueue_text(core::connected_json(channel, a.id));
        break;
      case Kind::history_lost:
        enqueue_text(core::history_lost_json(channel, a.id, a.oldest));
        break;
      case Kind::deliver:
        if (a.live) {
          if (!deliver_start(a.live->frame)) return;
        } else if (auto h = make_hub_entry(channel, *a.stored)) {
          if (!deliver_start(h->frame)) return;
        }
        break;
      case Kind::live:
        state_ = State::live;
        break;
      case Kind::fail:
        if (a.step == core::StartStep::pending_full) {
          hub_.logger().warn("stream over its buffer limit while starting; asking it to reconnect");
          hub_.metrics().hit(metrics::Limit::stream_queue);
          end_with(core::make_frame({}, core::sse_frame(core::reconnect_json(core::now_ms()))));
        } else {
          hub_.logger().warn("subscribe failed on '{}' ({}): {}", channel,
                             a.step == core::StartStep::watch    ? "watch"
                             : a.step == core::StartStep::latest ? "latest id"
                                                                 : "replay",
                             a.error.message());
          end_with(error_frame());
        }
        return;
    }
  }
  write_some();
}

bool SseSession::deliver_start(const core::FramePtr& frame) {
  auto cap = settings_.max_replay_bytes;
  auto size = frame->bytes.size();
  if (cap && replayed_events_ && replayed_bytes_ + size > cap) {
    // The client acked every event it got, per channel in order: it comes back from there, so
    // a long backlog arrives in pieces of at most `cap` bytes and nothing is lost.
    hub_.metrics().hit(metrics::Limit::replay_bytes);
    std::uint64_t suppressed = 0;
    if (replay_line_allowed(suppressed)) {
      if (suppressed) hub_.logger().warn("{} lines about replay caps suppressed", suppressed);
      hub_.logger().info(
          "stream replay cut after {} events, {} bytes (max_replay_bytes {}); it gets "
          "reconnect and resumes from its acks",
          replayed_events_, replayed_bytes_, cap);
    }
    end_with(core::make_frame({}, core::sse_frame(core::reconnect_json(core::now_ms()))));
    return false;
  }
  replayed_bytes_ += size;
  ++replayed_events_;
  push(frame);
  return true;
}

void SseSession::read_page(std::uint32_t i, const RangeQuery& range) {
  auto self = shared_from_this();
  hub_.store().async_range(req_.channels[i], range,
                           [self, i](Store::Result<std::vector<StoredEntry>> r) {
                             asio::post(self->shard_.executor(), [self, i, r = std::move(r)] {
                               if (self->state_ == State::starting)
                                 self->perform(self->start_.on_page(i, r));
                             });
                           });
}

void SseSession::on_entries(std::uint32_t i, std::span<const HubEntryPtr> entries) {
  if (state_ == State::starting) {
    std::size_t bytes = 0;
    for (auto& e : entries) bytes += e->frame->bytes.size();
    perform(start_.on_live(i, entries, bytes));
    return;
  }
  if (state_ != State::live) return;
  // Queue now, write when the shard's drain is done: a burst becomes one gathered write.
  auto now = core::now_ms();
  auto& latency = hub_.metrics().delivery_latency;
  for (auto& e : entries)
    if (start_.accept(i, e->id)) {
      push(e->frame);
      latency.observe(now > e->id.ms ? static_cast<double>(now - e->id.ms) / 1000.0 : 0.0);
    }
  if (!flush_pending_) {
    flush_pending_ = true;
    shard_.flush_later(this);
  }
  hub_.delivered().fetch_add(entries.size(), std::memory_order_relaxed);
}

void SseSession::flush() {
  flush_pending_ = false;
  write_some();
}

void SseSession::on_tail_lost() {
  if (state_ == State::starting || state_ == State::live)
    end_with(core::make_frame({}, core::sse_frame(core::reconnect_json(core::now_ms()))));
}

bool SseSession::end_stream() {
  if (state_ != State::starting && state_ != State::live) return false;
  end_with(core::make_frame({}, core::sse_frame(core::reconnect_json(core::now_ms()))));
  return true;
}

bool SseSession::end_if_subject(std::string_view subject) {
  if (settings_.subject.empty() || settings_.subject != subject) return false;
  return end_stream();
}

void SseSession::on_tick(std::uint64_t now, const core::FramePtr& ping) {
  if (state_ == State::ending) {
    if (now >= end_deadline_ms_) finish();
    return;
  }
  if (state_ == State::closed) return;
  if (settings_.grant_expires_ms && now >= settings_.grant_expires_ms) {
    end_with(core::make_frame({}, core::sse_frame(core::grant_expired_json(now))));
    return;
  }
  if (deadline_ms_ && now >= deadline_ms_) {
    end_with(core::make_frame({}, core::sse_frame(core::reconnect_json(now))));
    return;
  }
  if (ping) enqueue(ping);
}

void SseSession::on_shutdown(const core::FramePtr& reconnect) {
  if (state_ == State::starting || state_ == State::live) end_with(reconnect);
}

void SseSession::enqueue_text(const std::string& json) {
  enqueue(core::make_frame({}, core::sse_frame(json)));
}

void SseSession::enqueue(core::FramePtr frame) {
  push(std::move(frame));
  write_some();
}

void SseSession::push(core::FramePtr frame) {
  if (state_ == State::closed || state_ == State::ending) return;
  with_retry(frame);
  queued_bytes_ += frame->bytes.size();
  queue_.push_back(std::move(frame));
  if (queued_bytes_ > settings_.queue_hard_bytes) {
    hub_.metrics().slow_consumer_disconnects.fetch_add(1, std::memory_order_relaxed);
    hub_.metrics().hit(metrics::Limit::stream_queue);
    hub_.logger().warn("slow subscriber: {} bytes unsent (hard limit {}); asking it to reconnect",
                       queued_bytes_, settings_.queue_hard_bytes);
    end_with(core::make_frame({}, core::sse_frame(core::reconnect_json(core::now_ms()))));
    return;
  }
  if (!warned_soft_ && queued_bytes_ > settings_.queue_soft_bytes) {
    warned_soft_ = true;
    hub_.logger().info("slow subscriber: {} bytes unsent (soft limit {})", queued_bytes_,
                       settings_.queue_soft_bytes);
  }
}

void SseSession::with_retry(core::FramePtr& frame) {
  // `retry:` rides in the first block with the first event: a reader that takes the first
  // blank-line-separated block must find an event there, not a lone `retry:`.
  if (retry_sent_) return;
  retry_sent_ = true;
  frame = core::make_frame(frame->id, "retry: 1000\n" + frame->bytes);
}

void SseSession::end_with(core::FramePtr last) {
  if (state_ == State::closed || state_ == State::ending) return;
  // The final frame goes past the limit on purpose: the client must hear why it was closed.
  with_retry(last);
  queued_bytes_ += last->bytes.size();
  queue_.push_back(std::move(last));
  state_ = State::ending;
  end_deadline_ms_ = core::now_ms() + kEndGraceMs;
  deferred_page_.reset();
  write_some();
}

void SseSession::write_some() {
  if (writing_ || state_ == State::closed) return;
  if (head_ == queue_.size()) {
    if (state_ == State::ending) finish();
    return;
  }
  std::size_t n = std::min(queue_.size() - head_, kMaxFramesPerWrite);
  hub_.metrics().stream_queue_bytes.observe(static_cast<double>(queued_bytes_));
  buffers_.clear();
  for (std::size_t k = 0; k < n; ++k) {
    auto& b = queue_[head_ + k]->bytes;
    buffers_.emplace_back(b.data(), b.size());
  }
  in_flight_ = n;
  writing_ = true;
  write_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  sink_->write(buffers_);
  write_thread_.store(std::thread::id{}, std::memory_order_relaxed);
}

void SseSession::on_written(error_code ec) {
  // A write the socket took at once completes inside sink_->write, on the shard's executor:
  // what dispatch would run inline, without its executor copy and handler (a tenth of a
  // fan-out delivery's instructions).
  if (write_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    write_thread_.store(std::thread::id{}, std::memory_order_relaxed);
    return written(ec);
  }
  asio::dispatch(shard_.executor(), [self = shared_from_this(), ec] { self->written(ec); });
}

void SseSession::written(error_code ec) {
  writing_ = false;
  if (state_ == State::closed) return;
  if (ec) {
    finish();
    return;
  }
  for (std::size_t k = 0; k < in_flight_; ++k) {
    queued_bytes_ -= queue_[head_]->bytes.size();
    queue_[head_++].reset();
  }
  in_flight_ = 0;
  if (head_ == queue_.size()) {
    queue_.clear();
    head_ = 0;
    if (queue_.capacity() > 1024) queue_.shrink_to_fit();
    if (queued_bytes_ < settings_.queue_soft_bytes / 2) warned_soft_ = false;
  }
  if (deferred_page_ && queued_bytes_ <= settings_.queue_soft_bytes) {
    auto [i, range] = *std::exchange(deferred_page_, std::nullopt);
    read_page(i, range);
  }
  write_some();
}

void SseSession::on_closed(error_code) {
  asio::dispatch(shard_.executor(), [self = shared_from_this()] { self->finish(); });
}

void SseSession::finish() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  for (std::size_t i = 0; i < watched_; ++i) hub_.remove(shard_, this, req_.channels[i]);
  watched_ = 0;
  auto self = shard_.remove_client(this);
  sink_->close();
  deferred_page_.reset();
  // Released later, never inside the call chain that got here (a delivery loop, a write that
  // failed at once): those frames still use `this` after finish() returns.
  asio::post(shard_.executor(), [last = std::move(self)] {});
}

}  // namespace forrealtime::detail
