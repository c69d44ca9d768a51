// The embedded in-memory store: one deque of entries per channel behind one mutex.
//
// Ids are Redis-style and come from one generator for all channels: `<now ms>-0`, or the last
// id's ms with the next seq when the clock has not moved on or stepped back, so they grow
// strictly even across clock steps. Trimming is exact (`MAXLEN n` rather than `~ n`) and the
// store remembers the greatest id it trimmed, so "history lost" is reported exactly. Expired
// streams leave a tombstone with that id for the same reason. The tail is the append itself:
// the sink hears of each entry under the lock, so entries reach it in id order.
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

class MemoryStore final : public Store {
 public:
  void async_append(std::string_view channel, std::string message, AppendOptions options,
                    AppendHandler handler) override {
    StreamId id;
    {
      std::lock_guard lock(mu_);
      auto now = core::now_ms();
      id = now > last_.ms ? StreamId{now, 0} : last_.next();
      last_ = id;
      auto& s = streams_[std::string(channel)];
      drop_if_expired(s, now);
      s.entries.push_back(StoredEntry{id, std::move(message)});
      ++s.entries_added;
      if (options.max_length > 0)
        while (s.entries.size() > options.max_length) {
          s.max_trimmed = s.entries.front().id;
          s.entries.pop_front();
        }
      s.expires_at_ms = options.expire_after_secs ? now + options.expire_after_secs * 1000 : 0;
      if (sink_) sink_->on_entries(channel, std::span<const StoredEntry>(&s.entries.back(), 1));
      if (++appends_ % 4096 == 0) sweep(now);
    }
    handler(id);
  }

  void async_range(std::string_view channel, RangeQuery q, RangeHandler handler) override {
    std::vector<StoredEntry> out;
    {
      std::lock_guard lock(mu_);
      if (auto* s = find(channel)) {
        auto it = std::lower_bound(s->entries.begin(), s->entries.end(), q.start,
                                   [&](const StoredEntry& e, StreamId id) {
                                     return q.start_exclusive ? e.id <= id : e.id < id;
                                   });
        for (; it != s->entries.end() && it->id <= q.end && out.size() < q.limit; ++it)
          out.push_back(*it);
      }
    }
    handler(std::move(out));
  }

  void async_latest(std::string_view channel, LatestHandler handler) override {
    StreamId id{};
    {
      std::lock_guard lock(mu_);
      if (auto* s = find(channel); s && !s->entries.empty()) id = s->entries.back().id;
    }
    handler(id);
  }

  void async_info(std::string_view channel, InfoHandler handler) override {
    StreamInfo info;
    info.max_trimmed_known = true;
    {
      std::lock_guard lock(mu_);
      if (auto* s = find(channel)) {
        info.length = s->entries.size();
        info.entries_added = s->entries_added;
        info.max_trimmed = s->max_trimmed;
        if (!s->entries.empty()) {
          info.first = s->entries.front().id;
          info.last = s->entries.back().id;
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

 private:
  // The stream of `channel`, or null; an expired stream becomes a tombstone on the way.
  Stream* find(std::string_view channel) {
    auto it = streams_.find(channel);
    if (it == streams_.end()) return nullptr;
    drop_if_expired(it->second, core::now_ms());
    return &it->second;
  }

  static void drop_if_expired(Stream& s, std::uint64_t now) {
    if (!s.expires_at_ms || now < s.expires_at_ms || s.entries.empty()) return;
    s.max_trimmed = s.entries.back().id;
    s.entries.clear();
    s.entries.shrink_to_fit();
    s.expires_at_ms = 0;
  }

  void sweep(std::uint64_t now) {
    for (auto& [name, s] : streams_) drop_if_expired(s, now);
  }

  std::mutex mu_;
  std::unordered_map<std::string, Stream, StringHash, std::equal_to<>> streams_;
  StreamId last_{};
  TailSink* sink_ = nullptr;
  std::uint64_t appends_ = 0;
};

}  // namespace

std::shared_ptr<Store> make_memory_store() {
  return std::make_shared<MemoryStore>();
}

}  // namespace forrealtime
