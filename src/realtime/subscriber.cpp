// Server-side subscribe: a Subscriber on the Realtime's internal shard that calls a user
// callback with decoded events. The start (replay of `history` page by page, `history_lost`,
// the join with live entries) is core::StreamStart, the machine the SSE session runs too; this
// file only performs its actions.
//
// A server-side subscription has no client to reconnect, so it recovers by itself: when the
// start fails (the store is down, too many live entries buffered) or the store's live tail was
// lost, it starts again a second later from the last event it delivered, replaying what it
// missed. Callbacks stop once `unsubscribe()` returns (one already running may finish).
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/query.hpp"
#include "core/stream_start.hpp"
#include "realtime/core.hpp"

namespace forrealtime {
namespace detail {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::size_t kPage = 1000;

class CallbackSubscriber final : public Subscriber,
                                 public std::enable_shared_from_this<CallbackSubscriber> {
 public:
  using Start = core::StreamStart<HubEntryPtr>;

  CallbackSubscriber(std::shared_ptr<RealtimeCore> core, std::string channel,
                     SubscribeOptions options)
      : core_(std::move(core)),
        shard_(core_->hub->shard_for(core_->internal->get_executor())),
        channel_(std::move(channel)),
        options_(std::move(options)) {}

  /** The first start: the replay `options.history` asks for (nothing when it makes no sense). */
  void start() {
    std::optional<core::Replay> replay;
    std::size_t page = kPage;
    if (options_.history) {
      auto range = to_range(*options_.history);
      auto* r = std::get_if<RangeQuery>(&range);
      if (r && r->newest_first && r->limit > 0) return start_from_newest(*r);
      if (r) {
        // `check_lost` only when the start is an event id the caller had (an ack).
        replay = core::Replay{r->start, r->start_exclusive, r->end,
                              r->start_exclusive && options_.history->after.has_value()};
        page = r->limit;
      } else {
        core_->log->warn("subscribe to '{}': {}; no history replayed", channel_,
                         std::get<std::string>(range));
      }
      if (page == 0) replay.reset();
    }
    initial_ = replay;
    initial_page_ = page;
    asio::post(shard_.executor(),
               [self = shared_from_this(), replay, page] { self->begin(replay, page, false); });
  }

  /** `history.last`: reads the newest `limit` entries of the range to learn where they start,
   *  then replays from there (inclusive) on, joined with live as any replay. When the range is
   *  empty, the replay is the whole range (what lands meanwhile is new). */
  void start_from_newest(RangeQuery q) {
    auto whole = core::Replay{q.start, q.start_exclusive, q.end, false};
    core_->store->async_range(
        channel_, q,
        [self = shared_from_this(), whole](Store::Result<std::vector<StoredEntry>> r) mutable {
          std::optional<core::Replay> replay = whole;
          if (!r)
            self->core_->log->warn("subscribe to '{}': history: {}; replaying the whole range",
                                   self->channel_, r.error().message());
          else if (!r->empty())
            replay = core::Replay{r->back().id, false, whole.end, false};  // the oldest of them
          asio::post(self->shard_.executor(), [self, replay] {
            self->initial_ = replay;
            self->initial_page_ = kPage;
            self->begin(replay, kPage, false);
          });
        });
  }

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
      self->ended_ = true;
      if (auto timer = self->retry_timer_.lock()) timer->cancel();
      if (self->added_) self->core_->hub->remove(self->shard_, self.get(), self->channel_);
      self->added_ = false;
    });
  }

  void on_entries(std::uint32_t, std::span<const HubEntryPtr> entries) override {
    if (!start_ || ended_) return;
    if (start_->live()) {
      for (auto& e : entries)
        if (start_->accept(0, e->id)) call(e->id, e->event, e->data());
      return;
    }
    std::size_t bytes = 0;
    for (auto& e : entries) bytes += e->frame->bytes.size();
    perform(start_->on_live(0, entries, bytes));
  }

  void on_tail_lost() override {
    // Live delivery has a hole: start again from the last event delivered once the store
    // answers (the watch stays; entries from now on are buffered by the new start).
    if (!start_ || !start_->live() || ended_) return;
    restart(std::chrono::seconds(0));
  }

  std::shared_ptr<CallbackSubscriber> self_;

 private:
  /** A new start machine; answers for an older one are told apart by the generation. */
  void begin(std::optional<core::Replay> replay, std::size_t page, bool watched) {
    if (ended_) return;
    ++gen_;
    core::StartOptions o{page, core_->options.limits.queue_hard_bytes};
    o.watched = watched;
    start_.emplace(std::vector<std::optional<core::Replay>>{replay}, o);
    perform(start_->start());
  }

  /** Starts again after `delay`: from the last event delivered once there is one (or the
   *  position the subscription went live at), else with the replay first asked for. */
  void restart(std::chrono::steady_clock::duration delay) {
    auto replay = initial_;
    auto page = initial_page_;
    if (positioned_) {
      replay = core::Replay{start_->last(0), true,
                            went_live_ || !initial_ ? StreamId::max() : initial_->end, true};
      page = kPage;
    }
    bool watched = added_;
    start_.reset();  // nothing is delivered until the new start runs
    // The pending wait owns the timer: a subscriber may outlive the Realtime's io_context
    // (a Subscription kept past it), and a timer must not be destroyed after its io_context.
    auto timer = std::make_shared<asio::steady_timer>(shard_.executor(), delay);
    retry_timer_ = timer;
    timer->async_wait([self = shared_from_this(), timer, replay, page, watched](error_code ec) {
      if (ec || self->ended_) return;
      self->begin(replay, page, watched);
    });
  }

  void perform(Start::Actions actions) {
    using Kind = Start::Kind;
    auto self = shared_from_this();
    auto& store = *core_->store;
    auto gen = gen_;
    // Store answers may come before the call returns: each is posted, so the machine is never
    // fed while its actions are being performed.
    auto answer = [self, gen](auto feed) {
      return [self, gen, feed = std::move(feed)](auto r) mutable {
        asio::post(self->shard_.executor(), [self, gen, feed = std::move(feed), r = std::move(r)] {
          if (self->ended_ || gen != self->gen_ || !self->start_) return;
          self->perform(feed(*self->start_, r));
        });
      };
    };
    for (auto& a : actions) {
      switch (a.kind) {
        case Kind::watch:
          added_ = true;
          core_->hub->add(shard_, this, channel_, 0, [self, gen](error_code ec) {
            if (self->ended_ || gen != self->gen_ || !self->start_) return;
            self->perform(self->start_->on_armed(0, ec));
          });
          break;
        case Kind::read_latest:
          store.async_latest(channel_, answer([](Start& s, const Store::Result<StreamId>& r) {
                               return s.on_latest(0, r);
                             }));
          break;
        case Kind::read_info:
          store.async_info(channel_, answer([](Start& s, const Store::Result<StreamInfo>& r) {
                             return s.on_info(0, r);
                           }));
          break;
        case Kind::read_page:
          store.async_range(channel_, a.range,
                            answer([](Start& s, const Store::Result<std::vector<StoredEntry>>& r) {
                              return s.on_page(0, r);
                            }));
          break;
        case Kind::connected:
          break;
        case Kind::history_lost:
          core_->log->warn("subscribe to '{}': events after {} were trimmed; replaying from {}",
                           channel_, a.id.to_string(), a.oldest.to_string());
          history_lost(a.id, a.oldest);
          break;
        case Kind::deliver:
          positioned_ = true;
          if (a.live)
            call(a.live->id, a.live->event, a.live->data());
          else if (auto h = make_hub_entry(channel_, *a.stored))
            call(h->id, h->event, h->data());
          break;
        case Kind::live:
          positioned_ = went_live_ = true;
          if (failing_) core_->log->info("subscribe to '{}': live again", channel_);
          failing_ = false;
          break;
        case Kind::fail:
          if (!failing_)
            core_->log->warn("subscribe to '{}' failed ({}); retrying every second", channel_,
                             a.step == core::StartStep::pending_full
                                 ? "too many live events buffered"
                                 : a.error.message());
          failing_ = true;
          if (a.step == core::StartStep::watch) {
            // The store refused the watch: watch again next time.
            core_->hub->remove(shard_, this, channel_);
            added_ = false;
          }
          restart(std::chrono::seconds(1));
          return;
      }
    }
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

  void history_lost(StreamId after, StreamId oldest) {
    std::lock_guard lock(mu_);
    if (stopped_ || !options_.on_history_lost) return;
    try {
      options_.on_history_lost(after, oldest);
    } catch (const std::exception& e) {
      core_->log->error("on_history_lost of '{}' threw: {}", channel_, e.what());
    }
  }

  std::shared_ptr<RealtimeCore> core_;
  Shard& shard_;
  std::string channel_;
  SubscribeOptions options_;
  // On the shard's executor:
  std::optional<Start> start_;
  std::uint64_t gen_ = 0;
  std::weak_ptr<asio::steady_timer> retry_timer_;  // owned by its pending wait
  bool added_ = false;
  bool ended_ = false;
  bool failing_ = false;
  std::optional<core::Replay> initial_;
  std::size_t initial_page_ = kPage;
  bool positioned_ = false;  // start_->last(0) is where a restart replays from
  bool went_live_ = false;
  // From any thread:
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
