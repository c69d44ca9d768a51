// One SSE stream; see session.hpp for the sequence and the output policy.
#include "hub/session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/await.hpp"

namespace forrealtime::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr std::size_t kMaxFramesPerWrite = 64;
constexpr std::size_t kReplayPage = 1000;
constexpr std::uint64_t kEndGraceMs = 5000;
}  // namespace

SseSession::SseSession(Hub& hub, Shard& shard, std::shared_ptr<SseSink> sink,
                       core::SubscribeRequest req, StreamSettings settings)
    : hub_(hub),
      shard_(shard),
      sink_(std::move(sink)),
      req_(std::move(req)),
      settings_(settings),
      merge_(req_.channels.size()) {
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
  enqueue(core::make_frame({}, "retry: 1000\n\n"));
  asio::co_spawn(shard_.executor(), run_start(shared_from_this()), asio::detached);
}

asio::awaitable<void> SseSession::run_start(std::shared_ptr<SseSession> self) {
  auto& store = hub_.store();
  // 1. Watch every channel: from `armed` on, live entries are buffered in pending_.
  for (std::uint32_t i = 0; i < req_.channels.size(); ++i) {
    auto armed = co_await await_store<StreamId>([&](auto cb) {
      hub_.add(shard_, this, req_.channels[i], i, [cb = std::move(cb)](error_code ec) mutable {
        if (ec)
          cb(ec);
        else
          cb(StreamId{});
      });
      ++watched_;
    });
    if (state_ == State::closed) co_return;
    if (!armed) {
      hub_.logger().warn("subscribe failed: cannot watch '{}': {}", req_.channels[i],
                         armed.error().message());
      end_with(core::make_frame({}, core::sse_frame(core::error_json("the store is unavailable"))));
      co_return;
    }
  }
  // 2. Per channel, in order: latest id, `connected`, replay (last_ack, latest].
  for (std::uint32_t i = 0; i < req_.channels.size(); ++i) {
    const auto& channel = req_.channels[i];
    auto latest = co_await await_store<StreamId>(
        [&](auto cb) { store.async_latest(channel, std::move(cb)); });
    if (state_ == State::closed) co_return;
    if (!latest) {
      hub_.logger().warn("subscribe failed: latest id of '{}': {}", channel,
                         latest.error().message());
      end_with(core::make_frame({}, core::sse_frame(core::error_json("the store is unavailable"))));
      co_return;
    }
    enqueue_text(core::connected_json(channel, *latest));
    auto ack = req_.last_acks[i];
    if (ack && !latest->is_zero() && *ack < *latest) {
      auto info = co_await await_store<StreamInfo>(
          [&](auto cb) { store.async_info(channel, std::move(cb)); });
      if (state_ == State::closed) co_return;
      if (info) {
        bool lost = info->max_trimmed_known
                        ? info->max_trimmed > *ack
                        : (info->entries_added > info->length && *ack < info->first);
        if (lost && info->length > 0)
          enqueue_text(core::history_lost_json(channel, *ack, info->first));
      }
      StreamId from = *ack;
      for (;;) {
        RangeQuery q{from, true, *latest, kReplayPage};
        auto page = co_await await_store<std::vector<StoredEntry>>(
            [&](auto cb) { store.async_range(channel, q, std::move(cb)); });
        if (state_ == State::closed) co_return;
        if (!page) {
          hub_.logger().warn("replay of '{}' failed: {}", channel, page.error().message());
          end_with(
              core::make_frame({}, core::sse_frame(core::error_json("the store is unavailable"))));
          co_return;
        }
        for (auto& e : *page) {
          if (!merge_.accept(i, e.id)) continue;
          if (auto h = make_hub_entry(channel, e)) push(h->frame);
        }
        write_some();
        if (page->size() < kReplayPage) break;
        from = page->back().id;
        if (state_ != State::starting) co_return;  // ended by the queue limit during replay
      }
    }
    merge_.advance(i, *latest);
  }
  if (state_ == State::starting) go_live();
}

void SseSession::go_live() {
  state_ = State::live;
  auto pending = std::move(pending_);
  pending_bytes_ = 0;
  for (auto& [i, e] : pending)
    if (merge_.accept(i, e->id)) push(e->frame);
  write_some();
}

void SseSession::on_entries(std::uint32_t i, std::span<const HubEntryPtr> entries) {
  if (state_ == State::starting) {
    for (auto& e : entries) {
      pending_.emplace_back(i, e);
      pending_bytes_ += e->frame->bytes.size();
    }
    if (pending_bytes_ > settings_.queue_hard_bytes) {
      hub_.logger().warn("stream over its buffer limit while starting; asking it to reconnect");
      end_with(core::make_frame({}, core::sse_frame(core::reconnect_json(core::now_ms()))));
    }
    return;
  }
  if (state_ != State::live) return;
  // Queue now, write when the shard's drain is done: a burst becomes one gathered write.
  auto now = core::now_ms();
  auto& latency = hub_.metrics().delivery_latency;
  for (auto& e : entries)
    if (merge_.accept(i, e->id)) {
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

void SseSession::on_tick(std::uint64_t now, const core::FramePtr& ping) {
  if (state_ == State::ending) {
    if (now >= end_deadline_ms_) finish();
    return;
  }
  if (state_ == State::closed) return;
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

void SseSession::end_with(core::FramePtr last) {
  if (state_ == State::closed || state_ == State::ending) return;
  // The final frame goes past the limit on purpose: the client must hear why it was closed.
  queued_bytes_ += last->bytes.size();
  queue_.push_back(std::move(last));
  state_ = State::ending;
  end_deadline_ms_ = core::now_ms() + kEndGraceMs;
  pending_.clear();
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
  sink_->write(buffers_);
}

void SseSession::on_written(error_code ec) {
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
  pending_.clear();
  // Released later, never inside the call chain that got here (a delivery loop, a write that
  // failed at once): those frames still use `this` after finish() returns.
  asio::post(shard_.executor(), [last = std::move(self)] {});
}

}  // namespace forrealtime::detail
