// The embedded in-memory store: one deque of entries per channel behind one mutex, bounded by
// MemoryStoreOptions (see memory_store.hpp for what each bound promises).
//
// Ids are Redis-style and come from one generator for all channels: `<now ms>-0`, or the last
// id's ms with the next seq when the clock has not moved on or stepped back, so they grow
// strictly even across clock steps. Trimming is exact (`MAXLEN n` rather than `~ n`) and each
// stream remembers the greatest id it trimmed, so "history lost" is reported exactly.
//
// Expired (and idle) channels are erased, not kept as empty tombstones: a client could
// otherwise create channels faster than anything frees them. What a tombstone was for — a
// channel re-created after expiry must still report that its old entries are gone — is kept
// by one store-wide id, `erased_up_to_`, the greatest id of any erased channel: a new stream
// starts with `max_trimmed` at it. That is exact for a re-created channel and, for a channel
// that never existed, can only report a loss to a client resuming from an id older than the
// erasure, which had no entries of it to lose anyway.
//
// Sweeping is a scan of every channel at most once a second (more often, at most every
// 100 ms, while the channel cap refuses appends), piggybacked on calls: the store has no
// thread. The tail is the append itself: the sink hears of each entry under the lock, so
// entries reach it in id order.
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/events.hpp"
#include "forrealtime/memory_store.hpp"

namespace forrealtime {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Stream {
  std::deque<StoredEntry> entries;
  std::uint64_t entries_added = 0;
  StreamId max_trimmed{};
  std::uint64_t expires_at_ms = 0;  // 0 never
};

constexpr std::uint64_t kSweepEveryMs = 1000;
constexpr std::uint64_t kSweepAtCapEveryMs = 100;

class MemoryStoreImpl final : public MemoryStore {
 public:
  explicit MemoryStoreImpl(MemoryStoreOptions o) : opts_(o) {}

  void async_append(std::string_view channel, std::string message, AppendOptions options,
                    AppendHandler handler) override {
    Result<StreamId> result = make_error_code(store_errc::limit_reached);
    {
      std::lock_guard lock(mu_);
      auto now = core::now_ms();
      // Idempotency: a repeat of a key on this channel within its window stores nothing and
      // answers the first id (even if that entry was trimmed since).
      std::string record;
      if (!options.idempotency_key.empty()) {
        record = record_key(channel, options.idempotency_key);
        sweep_records(now);
        if (auto r = records_.find(record); r != records_.end() && now < r->second.expires_at)
          result = r->second.id;
      }
      if (!result) {
        append_locked(channel, std::move(message), options, now, result);
        if (result && !record.empty()) {
          auto expires_at = now + static_cast<std::uint64_t>(std::max<std::int64_t>(
                                      1, options.idempotency_window.count()));
          records_[record] = Record{*result, expires_at};
          record_order_.emplace_back(expires_at, std::move(record));
        }
      }
    }
    handler(std::move(result));
  }

  // The append itself, under the lock: `result` becomes the id, or stays limit_reached.
  void append_locked(std::string_view channel, std::string message, const AppendOptions& options,
                     std::uint64_t now, Result<StreamId>& result) {
    {
      maybe_sweep(now);
      auto it = find_live(channel, now);
      if (it == streams_.end() && opts_.max_channels && streams_.size() >= opts_.max_channels &&
          now >= next_cap_sweep_ms_) {
        next_cap_sweep_ms_ = now + kSweepAtCapEveryMs;
        sweep(now);
      }
      std::size_t max_length = options.max_length ? options.max_length : opts_.max_length;
      // What this append frees by trimming its own channel counts towards the byte cap.
      std::size_t freed = 0;
      if (it != streams_.end() && max_length && it->second.entries.size() >= max_length)
        freed = it->second.entries.front().message.size();
      bool over_channels =
          it == streams_.end() && opts_.max_channels && streams_.size() >= opts_.max_channels;
      bool over_bytes = opts_.max_bytes && bytes_ + message.size() > opts_.max_bytes + freed;
      if (over_channels || over_bytes) {
        ++refused_;
      } else {
        if (it == streams_.end()) {
          it = streams_.emplace(std::string(channel), Stream{}).first;
          it->second.max_trimmed = erased_up_to_;
        }
        auto& s = it->second;
        StreamId id = now > last_.ms ? StreamId{now, 0} : last_.next();
        last_ = id;
        bytes_ += message.size();
        s.entries.push_back(StoredEntry{id, std::move(message)});
        ++s.entries_added;
        if (max_length > 0)
          while (s.entries.size() > max_length) {
            s.max_trimmed = s.entries.front().id;
            bytes_ -= s.entries.front().message.size();
            s.entries.pop_front();
          }
        std::uint64_t ttl =
            options.expire_after_secs ? options.expire_after_secs : opts_.idle_expire_secs;
        s.expires_at_ms = ttl ? now + ttl * 1000 : 0;
        if (sink_) sink_->on_entries(channel, std::span<const StoredEntry>(&s.entries.back(), 1));
        result = id;
      }
    }
  }

  void async_range(std::string_view channel, RangeQuery q, RangeHandler handler) override {
    std::vector<StoredEntry> out;
    {
      std::lock_guard lock(mu_);
      auto now = core::now_ms();
      maybe_sweep(now);
      if (auto it = find_live(channel, now); it != streams_.end() && q.newest_first) {
        auto& s = it->second;
        auto e = std::upper_bound(s.entries.begin(), s.entries.end(), q.end,
                                  [](StreamId id, const StoredEntry& x) { return id < x.id; });
        while (e != s.entries.begin() && out.size() < q.limit) {
          --e;
          if (q.start_exclusive ? e->id <= q.start : e->id < q.start) break;
          out.push_back(*e);
        }
      } else if (it != streams_.end()) {
        auto& s = it->second;
        auto e = std::lower_bound(s.entries.begin(), s.entries.end(), q.start,
                                  [&](const StoredEntry& e, StreamId id) {
                                    return q.start_exclusive ? e.id <= id : e.id < id;
                                  });
        for (; e != s.entries.end() && e->id <= q.end && out.size() < q.limit; ++e)
          out.push_back(*e);
      }
    }
    handler(std::move(out));
  }

  void async_latest(std::string_view channel, LatestHandler handler) override {
    StreamId id{};
    {
      std::lock_guard lock(mu_);
      auto now = core::now_ms();
      maybe_sweep(now);
      if (auto it = find_live(channel, now); it != streams_.end() && !it->second.entries.empty())
        id = it->second.entries.back().id;
    }
    handler(id);
  }

  void async_info(std::string_view channel, InfoHandler handler) override {
    StreamInfo info;
    info.max_trimmed_known = true;
    {
      std::lock_guard lock(mu_);
      auto now = core::now_ms();
      maybe_sweep(now);
      if (auto it = find_live(channel, now); it != streams_.end()) {
        auto& s = it->second;
        info.length = s.entries.size();
        info.entries_added = s.entries_added;
        info.max_trimmed = s.max_trimmed;
        if (!s.entries.empty()) {
          info.first = s.entries.front().id;
          info.last = s.entries.back().id;
        }
      }
    }
    handler(info);
  }

  void start_tail(TailSink& sink) override {
    std::lock_guard lock(mu_);
    sink_ = &sink;
  }
  // Every append reaches the sink, so a watch is armed at once and costs nothing.
  void watch(std::string_view, ArmedHandler armed) override { armed({}); }
  void unwatch(std::string_view) override {}

  bool healthy() const override { return true; }
  std::string_view name() const override { return "memory"; }
  void stop() override {
    std::lock_guard lock(mu_);
    sink_ = nullptr;
  }

  Stats stats() override {
    std::lock_guard lock(mu_);
    sweep(core::now_ms());
    Stats st;
    st.channels = streams_.size();
    for (auto& [name, s] : streams_) st.entries += s.entries.size();
    st.bytes = bytes_;
    st.channels_erased = erased_;
    st.appends_refused = refused_;
    return st;
  }

 private:
  using Map = std::unordered_map<std::string, Stream, StringHash, std::equal_to<>>;

  static bool expired(const Stream& s, std::uint64_t now) {
    return s.expires_at_ms && now >= s.expires_at_ms;
  }

  // The stream of `channel`, or end(); an expired one is erased on the way.
  Map::iterator find_live(std::string_view channel, std::uint64_t now) {
    auto it = streams_.find(channel);
    if (it != streams_.end() && expired(it->second, now)) {
      erase(it);
      return streams_.end();
    }
    return it;
  }

  Map::iterator erase(Map::iterator it) {
    auto& s = it->second;
    if (!s.entries.empty()) erased_up_to_ = std::max(erased_up_to_, s.entries.back().id);
    erased_up_to_ = std::max(erased_up_to_, s.max_trimmed);
    for (auto& e : s.entries) bytes_ -= e.message.size();
    ++erased_;
    return streams_.erase(it);
  }

  void maybe_sweep(std::uint64_t now) {
    if (now < next_sweep_ms_) return;
    sweep(now);
  }

  void sweep(std::uint64_t now) {
    next_sweep_ms_ = now + kSweepEveryMs;
    for (auto it = streams_.begin(); it != streams_.end();)
      it = expired(it->second, now) ? erase(it) : std::next(it);
  }

  // Idempotency records, by channel and key, with their expiry; `record_order_` in insertion
  // order, which is expiry order while the window does not change. At most kMaxRecords are
  // kept: past that the oldest go first (and a repeat of theirs is stored again).
  struct Record {
    StreamId id;
    std::uint64_t expires_at;
  };
  static constexpr std::size_t kMaxRecords = 1 << 20;
  static std::string record_key(std::string_view channel, std::string_view key) {
    std::string k;
    k.reserve(channel.size() + 1 + key.size());
    k.append(channel).push_back('\0');  // channels hold no control characters
    k.append(key);
    return k;
  }
  void sweep_records(std::uint64_t now) {
    while (!record_order_.empty() &&
           (record_order_.front().first <= now || record_order_.size() > kMaxRecords)) {
      auto& [expires_at, key] = record_order_.front();
      if (auto it = records_.find(key); it != records_.end() && it->second.expires_at == expires_at)
        records_.erase(it);
      record_order_.pop_front();
    }
  }
  std::unordered_map<std::string, Record> records_;
  std::deque<std::pair<std::uint64_t, std::string>> record_order_;

  const MemoryStoreOptions opts_;
  std::mutex mu_;
  Map streams_;
  StreamId last_{};
  StreamId erased_up_to_{};
  std::size_t bytes_ = 0;
  std::uint64_t erased_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t next_sweep_ms_ = 0;
  std::uint64_t next_cap_sweep_ms_ = 0;
  TailSink* sink_ = nullptr;
};

}  // namespace

std::shared_ptr<MemoryStore> make_memory_store(MemoryStoreOptions options) {
  return std::make_shared<MemoryStoreImpl>(options);
}

}  // namespace forrealtime
