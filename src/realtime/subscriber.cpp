// Server-side subscribe: a Subscriber on the Realtime's internal shard that calls a user
// callback with decoded events, with the same replay/live merge as an SSE stream.
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/query.hpp"
#include "realtime/core.hpp"
#include "store/await.hpp"

namespace forrealtime {
namespace detail {
namespace {

namespace asio = boost::asio;

class CallbackSubscriber final : public Subscriber,
                                 public std::enable_shared_from_this<CallbackSubscriber> {
 public:
  CallbackSubscriber(std::shared_ptr<RealtimeCore> core, std::string channel,
                     SubscribeOptions options)
      : core_(std::move(core)),
        shard_(core_->hub->shard_for(core_->internal->get_executor())),
        channel_(std::move(channel)),
        options_(std::move(options)),
        merge_(1) {}

  void start() { asio::co_spawn(shard_.executor(), run(shared_from_this()), asio::detached); }

  /** From any thread; no callback starts after it returns (one running may finish). */
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    // From here only the posted handler keeps this alive: if the Realtime goes away before it
    // runs, destroying the handler releases the subscriber (no cycle through self_).
    auto self = std::move(self_);
    if (core_->closed.load()) return;  // the Realtime is gone, and its threads with it
    asio::post(shard_.executor(), [self = std::move(self)] {
      if (self->added_) self->core_->hub->remove(self->shard_, self.get(), self->channel_);
      self->added_ = false;
    });
  }

  void on_entries(std::uint32_t, std::span<const HubEntryPtr> entries) override {
    if (!live_) {
      pending_.insert(pending_.end(), entries.begin(), entries.end());
      return;
    }
    for (auto& e : entries)
      if (merge_.accept(0, e->id)) call(e->id, e->event, e->data);
  }

  void on_tail_lost() override {
    // Live delivery has a hole: catch up from the last id once the store answers again.
    if (!live_ || catching_up_) return;
    catching_up_ = true;
    asio::co_spawn(shard_.executor(), catch_up(shared_from_this()), asio::detached);
  }

  std::shared_ptr<CallbackSubscriber> self_;

 private:
  asio::awaitable<void> run(std::shared_ptr<CallbackSubscriber> self) {
    auto& hub = *core_->hub;
    auto armed = co_await await_store<StreamId>([&](auto cb) {
      hub.add(shard_, this, channel_, 0,
              [cb = std::move(cb)](boost::system::error_code ec) mutable {
                if (ec) return cb(ec);
                cb(StreamId{});
              });
      added_ = true;
    });
    if (!armed) core_->log->warn("subscribe to '{}': {}", channel_, armed.error().message());
    auto latest = co_await await_store<StreamId>(
        [&](auto cb) { core_->store->async_latest(channel_, std::move(cb)); });
    if (!latest) {
      core_->log->warn("subscribe to '{}': {}", channel_, latest.error().message());
      latest = StreamId{};
    }
    if (options_.history) {
      auto q = *options_.history;
      auto range = to_range(q);
      if (auto* r = std::get_if<RangeQuery>(&range)) {
        if (r->end > *latest) r->end = *latest;
        auto page = co_await await_store<std::vector<StoredEntry>>(
            [&](auto cb) { core_->store->async_range(channel_, *r, std::move(cb)); });
        if (page)
          for (auto& e : *page)
            if (merge_.accept(0, e.id))
              if (auto h = make_hub_entry(channel_, e)) call(h->id, h->event, h->data);
      }
    }
    merge_.advance(0, *latest);
    live_ = true;
    auto pending = std::move(pending_);
    on_entries(0, pending);
  }

  asio::awaitable<void> catch_up(std::shared_ptr<CallbackSubscriber> self) {
    for (int attempt = 0; attempt < 600; ++attempt) {
      RangeQuery q{merge_.last(0), true, StreamId::max(), 1000};
      auto page = co_await await_store<std::vector<StoredEntry>>(
          [&](auto cb) { core_->store->async_range(channel_, q, std::move(cb)); });
      if (page) {
        for (auto& e : *page)
          if (merge_.accept(0, e.id))
            if (auto h = make_hub_entry(channel_, e)) call(h->id, h->event, h->data);
        if (page->size() < 1000) break;
        continue;
      }
      asio::steady_timer t(shard_.executor(), std::chrono::seconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
    catching_up_ = false;
  }

  void call(StreamId id, const std::string& event, const boost::json::value& data) {
    if (!options_.events.empty() &&
        std::find(options_.events.begin(), options_.events.end(), event) == options_.events.end())
      return;
    std::lock_guard lock(mu_);
    if (stopped_ || !options_.on_data) return;
    try {
      options_.on_data(Event{id, channel_, event, data});
    } catch (const std::exception& e) {
      core_->log->error("subscriber callback on '{}' threw: {}", channel_, e.what());
    }
  }

  std::shared_ptr<RealtimeCore> core_;
  Shard& shard_;
  std::string channel_;
  SubscribeOptions options_;
  core::MergeCursor merge_;
  std::vector<HubEntryPtr> pending_;
  bool live_ = false;
  bool added_ = false;
  bool catching_up_ = false;
  std::recursive_mutex mu_;
  bool stopped_ = false;
};

}  // namespace
}  // namespace detail

Subscription Channel::subscribe(SubscribeOptions options) const {
  if (core_->closed.load()) {
    core_->log->warn("subscribe to '{}' after the Realtime was destroyed: ignored", name_);
    return Subscription();
  }
  auto sub = std::make_shared<detail::CallbackSubscriber>(core_, name_, std::move(options));
  sub->self_ = sub;
  sub->start();
  return Subscription([sub] { sub->stop(); });
}

}  // namespace forrealtime
