// The start of a subscription (PROTOCOL.md section 2) as an I/O-free state machine: watch each
// channel, read its latest id, say `connected`, replay `(last_ack, latest]` page by page (with
// `history_lost` first when entries after the ack were trimmed), and join the live entries that
// arrived meanwhile, with no gap and no duplicate; then stay live. Both subscribe paths drive it:
// the SSE session (http/session.cpp) and the server-side subscriber (realtime/subscriber.cpp).
// Neither does its own merging, so the two cannot drift apart again.
//
// The shell feeds events (`start`, `on_armed`, `on_latest`, `on_info`, `on_page`, `on_live`) and
// performs the actions each returns, in order. Rules the shell must keep:
//  - Call `start` once, then answer every `watch`/`read_*` action exactly once with its `on_*`
//    event (errors included). Answers for a machine that has failed or gone live are ignored,
//    and so is an answer nobody asked for (a stale one), so a late callback cannot corrupt it.
//  - Live entries of a watched channel go to `on_live` from the moment `watch` was issued (the
//    hub delivers from `add` on): while starting they are buffered, bounded by
//    `pending_max_bytes`/`pending_max_entries`; past that the start fails with `pending_full`
//    (an SSE stream then says `reconnect`; the client replays from its last ack).
//  - The actions returned are valid until the next call; a `deliver` names either an entry of
//    the page just fed (`stored`) or a buffered live entry (`live`, moved out of the buffer).
//  - Once `live()`, `accept(channel, id)` is the fast path for live entries: true when the
//    entry is new on that channel (the merge rule), with nothing allocated.
// Channels are started one after another, in order, so a stream's `connected` events and replay
// come in the order of its channel list; watches are issued all at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "core/query.hpp"
#include "forrealtime/store.hpp"

namespace forrealtime::core {

/** What to replay of one channel before it goes live. The range ends at the latest id read at
 *  the start (or `end`, if earlier). */
struct Replay {
  StreamId start{};
  bool start_exclusive = true;
  StreamId end = StreamId::max();
  /** Check for trimmed entries after `start` and say `history_lost` (start is an ack). */
  bool check_lost = true;
};

struct StartOptions {
  /** Entries per `read_page`. */
  std::size_t page_size = 1000;
  /** Live entries buffered while starting; past either the start fails with `pending_full`. */
  std::size_t pending_max_bytes = 4 * 1024 * 1024;
  std::size_t pending_max_entries = 100000;
  /** The channels are already watched (a restart after the live tail failed): no `watch`. */
  bool watched = false;
};

enum class StartStep { watch, latest, page, pending_full };

template <class Live>
struct StartAction {
  enum class Kind {
    watch,         // watch `channel` on the hub; answer with on_armed
    read_latest,   // the store's latest id of `channel`; answer with on_latest
    read_info,     // the store's StreamInfo of `channel`; answer with on_info
    read_page,     // `range` of `channel`; answer with on_page
    connected,     // `channel` is connected at cursor `id`
    history_lost,  // entries of `channel` after `id` (the ack) are gone; replay starts at `oldest`
    deliver,       // deliver `stored` (of the page just fed) or `live` on `channel`
    live,          // the start is over
    fail,          // the start failed at `step` with `error` (none for pending_full)
  };
  Kind kind;
  std::uint32_t channel = 0;
  StreamId id{};
  StreamId oldest{};
  RangeQuery range{};
  const StoredEntry* stored = nullptr;
  Live live{};
  StartStep step = StartStep::watch;
  boost::system::error_code error{};
};

/** Live is what the hub hands over, a pointer-like whose `->id` is the entry's StreamId. */
template <class Live>
class StreamStart {
 public:
  using Action = StartAction<Live>;
  using Kind = typename Action::Kind;
  using Actions = std::span<const Action>;

  /** `replays[i]` says what to replay of channel i (nothing: go live from the latest id). */
  StreamStart(std::vector<std::optional<Replay>> replays, StartOptions options)
      : replays_(std::move(replays)), options_(options), merge_(replays_.size()) {
    if (options_.page_size == 0) options_.page_size = 1;
  }

  Actions start() {
    actions_.clear();
    if (state_ != State::idle) return actions_;
    if (options_.watched || replays_.empty()) {
      state_ = State::starting;
      begin_channel(0);
      return actions_;
    }
    state_ = State::arming;
    for (std::uint32_t i = 0; i < replays_.size(); ++i) push(Kind::watch, i);
    return actions_;
  }

  Actions on_armed(std::uint32_t channel, boost::system::error_code ec) {
    actions_.clear();
    if (state_ != State::arming || channel >= replays_.size()) return actions_;
    if (ec) return fail(channel, StartStep::watch, ec);
    if (++armed_ == replays_.size()) {
      state_ = State::starting;
      begin_channel(0);
    }
    return actions_;
  }

  Actions on_latest(std::uint32_t channel, const boost::system::result<StreamId>& latest) {
    actions_.clear();
    if (!expecting(channel, Wait::latest)) return actions_;
    if (!latest) return fail(channel, StartStep::latest, latest.error());
    latest_ = *latest;
    push(Kind::connected, channel).id = latest_;
    auto& r = replays_[channel];
    StreamId end = r ? std::min(r->end, latest_) : StreamId{};
    bool replay =
        r && !latest_.is_zero() && (r->start_exclusive ? r->start < end : r->start <= end);
    if (!replay) {
      end_channel(channel);
      return actions_;
    }
    end_ = end;
    if (r->check_lost) {
      wait_ = Wait::info;
      push(Kind::read_info, channel);
    } else {
      read_page(channel, r->start, r->start_exclusive);
    }
    return actions_;
  }

  /** An error reading the info is not fatal: the replay goes on without the check. */
  Actions on_info(std::uint32_t channel, const boost::system::result<StreamInfo>& info) {
    actions_.clear();
    if (!expecting(channel, Wait::info)) return actions_;
    auto& r = *replays_[channel];
    if (info) {
      bool lost = info->max_trimmed_known
                      ? info->max_trimmed > r.start
                      : (info->entries_added > info->length && r.start < info->first);
      if (lost && info->length > 0) {
        auto& a = push(Kind::history_lost, channel);
        a.id = r.start;
        a.oldest = info->first;
      }
    }
    read_page(channel, r.start, r.start_exclusive);
    return actions_;
  }

  Actions on_page(std::uint32_t channel,
                  const boost::system::result<std::vector<StoredEntry>>& page) {
    actions_.clear();
    if (!expecting(channel, Wait::page)) return actions_;
    if (!page) return fail(channel, StartStep::page, page.error());
    for (auto& e : *page) {
      if (e.id > end_) break;
      if (merge_.accept(channel, e.id)) push(Kind::deliver, channel).stored = &e;
    }
    if (page->size() < options_.page_size || page->back().id >= end_) {
      end_channel(channel);
      return actions_;
    }
    read_page(channel, page->back().id, true);
    return actions_;
  }

  /** Live entries of `channel`; `bytes` is what they weigh (for the pending limit). */
  Actions on_live(std::uint32_t channel, std::span<const Live> entries, std::size_t bytes) {
    actions_.clear();
    if (channel >= replays_.size()) return actions_;
    if (state_ == State::live) {
      for (auto& e : entries)
        if (merge_.accept(channel, e->id)) push(Kind::deliver, channel).live = e;
      return actions_;
    }
    if (state_ != State::arming && state_ != State::starting) return actions_;
    for (auto& e : entries) pending_.emplace_back(channel, e);
    pending_bytes_ += bytes;
    if (pending_bytes_ > options_.pending_max_bytes ||
        pending_.size() > options_.pending_max_entries)
      return fail(channel, StartStep::pending_full, {});
    return actions_;
  }

  /** Once live: true when `id` is new on `channel` (and remembered as delivered). */
  bool accept(std::uint32_t channel, StreamId id) { return merge_.accept(channel, id); }

  bool live() const { return state_ == State::live; }
  bool failed() const { return state_ == State::failed; }
  /** The last id delivered (or connected at) on `channel`: where a restart replays from. */
  StreamId last(std::uint32_t channel) const { return merge_.last(channel); }
  std::size_t pending_bytes() const { return pending_bytes_; }
  std::size_t channel_count() const { return replays_.size(); }

 private:
  enum class State { idle, arming, starting, live, failed };
  enum class Wait { none, latest, info, page };

  Action& push(Kind kind, std::uint32_t channel) {
    auto& a = actions_.emplace_back();
    a.kind = kind;
    a.channel = channel;
    return a;
  }

  bool expecting(std::uint32_t channel, Wait w) const {
    return state_ == State::starting && channel == current_ && wait_ == w;
  }

  void begin_channel(std::uint32_t channel) {
    if (channel >= replays_.size()) return go_live();
    current_ = channel;
    wait_ = Wait::latest;
    push(Kind::read_latest, channel);
  }

  void read_page(std::uint32_t channel, StreamId from, bool exclusive) {
    wait_ = Wait::page;
    auto& a = push(Kind::read_page, channel);
    a.range = RangeQuery{from, exclusive, end_, options_.page_size};
  }

  void end_channel(std::uint32_t channel) {
    // Everything up to the latest id read is delivered (or was before the replay's range):
    // live entries at or below it were in the store when it was read, so they are not new.
    merge_.advance(channel, latest_);
    begin_channel(channel + 1);
  }

  void go_live() {
    state_ = State::live;
    wait_ = Wait::none;
    auto pending = std::move(pending_);
    pending_.clear();
    pending_bytes_ = 0;
    for (auto& [channel, e] : pending)
      if (merge_.accept(channel, e->id)) push(Kind::deliver, channel).live = std::move(e);
    push(Kind::live, 0);
  }

  Actions fail(std::uint32_t channel, StartStep step, boost::system::error_code ec) {
    state_ = State::failed;
    wait_ = Wait::none;
    pending_.clear();
    pending_.shrink_to_fit();
    pending_bytes_ = 0;
    actions_.clear();
    auto& a = push(Kind::fail, channel);
    a.step = step;
    a.error = ec;
    return actions_;
  }

  std::vector<std::optional<Replay>> replays_;
  StartOptions options_;
  MergeCursor merge_;
  State state_ = State::idle;
  Wait wait_ = Wait::none;
  std::size_t armed_ = 0;
  std::uint32_t current_ = 0;
  StreamId latest_{};  // of the current channel
  StreamId end_{};     // the current channel's replay ends here
  std::vector<std::pair<std::uint32_t, Live>> pending_;
  std::size_t pending_bytes_ = 0;
  std::vector<Action> actions_;
};

}  // namespace forrealtime::core
