// The bookkeeping of the live tail, with no I/O: which keys are watched (counted), the last
// id handed to the sink per key, and how Redis tells us to look. Two ways (tail_io.hpp says
// which is used when):
//  - Wake-ups (the default): one subscriber connection holds `SUBSCRIBE __keyspace@<db>__:<key>`
//    per watched key; a notification marks its key dirty, and the dirty keys of one loop turn
//    are read with non-blocking `XREAD COUNT c STREAMS k.. id..` (pipelined, a key never in two
//    reads at once). A notification only says when to look: the position per key is the truth,
//    so a lost or late notification costs latency (the periodic sweep reads every key), never
//    an entry.
//  - Blocking batches (when notifications cannot be enabled): keys grouped in batches, each
//    read by one `XREAD ... BLOCK ms STREAMS k1..kn id1..idn` on its own connection.
// The I/O shell (tail_io.cpp) owns the connections and timers; this class decides what each
// command names and what a reply means.
//
// Rules the store relies on:
//  - A key is in at most one batch, so its entries come from one read at a time and are handed
//    on in id order. A reply is applied only to keys still in the batch that read them; a key
//    that left (unwatched, parked) is ignored, and entries at or below a key's position are
//    dropped, so nothing is handed on twice.
//  - A watch is placed in a batch only once its starting position (the stream's latest id when
//    first watched) is known: from then on every entry with a greater id will be read.
//  - Generations tell a re-created watch from a removed one, so that a late answer about the
//    old one is not applied to the new one.
//  - Wake-ups: a watch's position is fetched only after Redis confirmed its SUBSCRIBE (the
//    confirmation comes back after every SUBSCRIBE/UNSUBSCRIBE sent before for that channel),
//    so every entry above the position is either notified or already there when the position
//    is read. After a reconnect every key is subscribed again and, once confirmed, read from
//    its position: entries written while we were away are delivered once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/system/error_code.hpp>

#include "forrealtime/store.hpp"
#include "store/redis/resp.hpp"

namespace forrealtime::redis {

struct TailWatch {
  std::string key;
  std::uint64_t gen = 0;
  std::size_t count = 0;
  /** The last id handed on (at first the latest id when watched); unknown until fetched. */
  std::optional<StreamId> position;
  /** Watchers waiting for the position to be known. */
  std::vector<std::function<void(boost::system::error_code)>> waiters;
  bool fetching = false;
  /** Not a stream: kept out of every read (XREAD fails as a whole on one such key). */
  bool parked = false;
  /** Created past the store's cap on watched channels: refused, never read, but counted so
   *  that its unwatch calls balance. */
  bool over_cap = false;
  std::size_t batch = static_cast<std::size_t>(-1);
  std::size_t slot = 0;
  /** Wake-ups: SUBSCRIBE of its keyspace channel not sent / sent / confirmed by Redis. */
  enum class Sub { none, pending, confirmed } sub = Sub::none;
  /** Wake-ups: queued for the next read / in a read whose reply has not come / woken again
   *  while in a read (read once more after it). */
  bool dirty = false;
  bool in_flight = false;
  bool again = false;
};

/** What a subscriber connection received (`decode_push`). */
struct TailPush {
  enum class Kind { message, subscribed, unsubscribed, pong, other } kind = Kind::other;
  /** The key (the keyspace channel without its `__keyspace@<db>__:` prefix). */
  std::string_view key;
  /** For `message`: the event (`xadd`, `xtrim`, `del`, ...). */
  std::string_view event;
};

/** The keys of one wake-up read, with their generations, in the order the read names them. */
using TailTicket = std::vector<std::pair<std::string, std::uint64_t>>;

class TailState {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  explicit TailState(std::size_t keys_per_batch, unsigned db = 0)
      : keys_per_batch_(keys_per_batch ? keys_per_batch : 1),
        channel_prefix_("__keyspace@" + std::to_string(db) + "__:") {}

  /** Blocking batches (true) or wake-ups (false, the default). Switching empties the batches
   *  and, into batches, places every watch whose position is known. */
  void set_batched(bool batched);
  bool batched() const { return batched_; }

  /** Counts one more watcher of `key`, creating the watch (with a new generation) if needed. */
  TailWatch& add_watcher(std::string_view key);
  /** Counts one watcher less. When it was the last, the watch is removed and its waiters are
   *  returned in `orphans`; the result is the batch that lost the key (or `none`). */
  std::size_t remove_watcher(std::string_view key,
                             std::vector<std::function<void(boost::system::error_code)>>& orphans);

  /** The watch of `key`, only if it is still generation `gen` (0: any). */
  TailWatch* find(std::string_view key, std::uint64_t gen = 0);

  /** The starting position of a watch is known: sets it (never backwards) and, with batches,
   *  puts the key in the first batch with room. Returns the batch that gained the key, or
   *  `none` when it was already in one (or there are no batches). */
  std::size_t place(TailWatch& w, StreamId latest);
  /** Takes the key out of every read; returns the batch that lost it (or `none`). */
  std::size_t park(TailWatch& w);

  std::size_t batch_count() const { return batches_.size(); }
  std::size_t batch_size(std::size_t b) const { return batches_[b].size(); }
  const std::vector<TailWatch*>& batch_keys(std::size_t b) const { return batches_[b]; }

  /** `XREAD COUNT c BLOCK ms STREAMS <keys of batch b> <their positions>`; false (nothing
   *  written) when the batch is empty. */
  bool encode_read(std::size_t b, std::size_t count, std::uint64_t block_ms,
                   std::string& out) const;

  using Deliver = std::function<void(std::string_view key, std::span<const StoredEntry> entries)>;
  /** Applies the reply of batch b's read: advances the positions of the keys it read and
   *  hands on their new entries. False when the reply is malformed (positions unchanged for the
   *  keys after the bad part). */
  bool apply_read(std::size_t b, const redisReply* reply, const Deliver& deliver);

  // --- wake-ups --------------------------------------------------------------------------------

  /** Queues `SUBSCRIBE` of the watch's keyspace channel (the watch becomes `pending`). */
  void subscribe(TailWatch& w);
  /** Queues `UNSUBSCRIBE` of a key's channel (after its watch was removed). */
  void unsubscribe(std::string_view key);
  /** Writes the queued (UN)SUBSCRIBE commands in the order they were queued, runs of one kind
   *  as one command of at most `max_per_command` channels. False when nothing was queued. */
  bool encode_subscriptions(std::string& out, std::size_t max_per_command = 1000);
  /** Reads a reply of the subscriber connection. */
  TailPush decode_push(const redisReply* r) const;
  /** Counts the confirmation of one (UN)SUBSCRIBE; returns the watch that is now confirmed
   *  (its position must be fetched or, when known, its key read), or null. */
  TailWatch* on_subscription_reply(std::string_view key);
  /** The connection was lost: nothing is subscribed, nothing in flight; every watch must be
   *  subscribed again (`subscribe_all`). */
  void reset_subscriptions();
  /** Queues SUBSCRIBE for every watch that is not parked or over the cap. */
  void subscribe_all();

  /** A notification (or a sweep) for `key`: it will be read from its position. Ignored for a
   *  key not watched, without a position yet, parked, or not subscribed. */
  void wake(std::string_view key);
  /** Wakes every watch with a position (the catch-up after a reconnect). */
  void wake_all();
  /** Wakes the watches whose share (their creation number modulo `parts`) is `part`: the
   *  sweep, one share per tick, so that it never reads every key at once. */
  void wake_share(std::size_t part, std::size_t parts);
  std::size_t dirty_count() const { return dirty_.size(); }
  /** Redis Cluster: a wake-up read names keys of one slot only (a multi-key XREAD across slots
   *  fails with CROSSSLOT); consecutive dirty keys of one slot still share a read. */
  void set_one_slot(bool on) { one_slot_ = on; }
  /** `XREAD COUNT c STREAMS <up to max_keys dirty keys> <their positions>`, no BLOCK; the keys
   *  go in flight and into `ticket`. False when nothing is dirty. */
  bool encode_wake_read(std::size_t max_keys, std::size_t count, std::string& out,
                        TailTicket& ticket);
  /** Applies the reply of a wake-up read: hands on new entries, advances positions, and wakes
   *  again the keys that were woken meanwhile or whose read stopped at `count`. An error reply
   *  or a malformed one leaves the positions as they were and wakes the keys again; false then. */
  bool apply_wake_read(const TailTicket& ticket, std::size_t count, const redisReply* reply,
                       const Deliver& deliver);
  /** Takes the keys of a failed read out of flight without reading them again (the caller
   *  decides: parks non-streams, then `wake`s the rest). */
  void abandon(const TailTicket& ticket);

  template <class F>
  void for_each(F&& f) {
    for (auto& [key, w] : watches_) f(w);
  }
  std::size_t watch_count() const { return watches_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::size_t remove_from_batch(TailWatch& w);
  void queue_sub(bool subscribe, std::string_view key);

  std::size_t keys_per_batch_;
  std::string channel_prefix_;
  bool batched_ = false;
  bool one_slot_ = false;
  /** (UN)SUBSCRIBE not written yet, in order: true = subscribe. */
  std::vector<std::pair<bool, std::string>> sub_queue_;
  /** Per channel key: (UN)SUBSCRIBE sent or queued whose reply has not come. */
  std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> sub_ops_;
  std::vector<std::pair<std::string, std::uint64_t>> dirty_;
  std::uint64_t gen_ = 0;
  std::unordered_map<std::string, TailWatch, Hash, std::equal_to<>> watches_;
  std::vector<std::vector<TailWatch*>> batches_;
};

}  // namespace forrealtime::redis
