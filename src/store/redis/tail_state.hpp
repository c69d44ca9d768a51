// The bookkeeping of the live tail, with no I/O: which keys are watched (counted), the last
// id handed to the sink per key, and how keys are grouped in batches, each read by one
// `XREAD ... STREAMS k1..kn id1..idn` on its own connection. The store (redis_store.cpp) owns
// the connections, timers and the interrupting of parked reads; this class decides what each
// read names and what a reply means.
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
};

class TailState {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  explicit TailState(std::size_t keys_per_batch)
      : keys_per_batch_(keys_per_batch ? keys_per_batch : 1) {}

  /** Counts one more watcher of `key`, creating the watch (with a new generation) if needed. */
  TailWatch& add_watcher(std::string_view key);
  /** Counts one watcher less. When it was the last, the watch is removed and its waiters are
   *  returned in `orphans`; the result is the batch that lost the key (or `none`). */
  std::size_t remove_watcher(std::string_view key,
                             std::vector<std::function<void(boost::system::error_code)>>& orphans);

  /** The watch of `key`, only if it is still generation `gen` (0: any). */
  TailWatch* find(std::string_view key, std::uint64_t gen = 0);

  /** The starting position of a watch is known: sets it (never backwards) and puts the key in
   *  the first batch with room. Returns the batch that gained the key, or `none` when it was
   *  already in one. */
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

  std::size_t keys_per_batch_;
  std::uint64_t gen_ = 0;
  std::unordered_map<std::string, TailWatch, Hash, std::equal_to<>> watches_;
  std::vector<std::vector<TailWatch*>> batches_;
};

}  // namespace forrealtime::redis
