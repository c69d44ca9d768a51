// The tail's bookkeeping (see tail_state.hpp).
#include "store/redis/tail_state.hpp"

#include "store/redis/commands.hpp"

namespace forrealtime::redis {

TailWatch& TailState::add_watcher(std::string_view key) {
  auto it = watches_.find(key);
  if (it == watches_.end()) {
    it = watches_.emplace(std::string(key), TailWatch{}).first;
    it->second.key = it->first;
    it->second.gen = ++gen_;
  }
  ++it->second.count;
  return it->second;
}

std::size_t TailState::remove_watcher(
    std::string_view key, std::vector<std::function<void(boost::system::error_code)>>& orphans) {
  auto it = watches_.find(key);
  if (it == watches_.end()) return none;
  TailWatch& w = it->second;
  if (w.count > 1) {
    --w.count;
    return none;
  }
  std::size_t changed = remove_from_batch(w);
  for (auto& a : w.waiters) orphans.push_back(std::move(a));
  watches_.erase(it);
  return changed;
}

TailWatch* TailState::find(std::string_view key, std::uint64_t gen) {
  auto it = watches_.find(key);
  if (it == watches_.end() || (gen != 0 && it->second.gen != gen)) return nullptr;
  return &it->second;
}

std::size_t TailState::place(TailWatch& w, StreamId latest) {
  if (!w.position || *w.position < latest) w.position = latest;
  if (w.batch != none || w.parked) return none;
  std::size_t b = 0;
  while (b < batches_.size() && batches_[b].size() >= keys_per_batch_) ++b;
  if (b == batches_.size()) batches_.emplace_back();
  w.batch = b;
  w.slot = batches_[b].size();
  batches_[b].push_back(&w);
  return b;
}

std::size_t TailState::park(TailWatch& w) {
  w.parked = true;
  return remove_from_batch(w);
}

std::size_t TailState::remove_from_batch(TailWatch& w) {
  if (w.batch == none) return none;
  auto& keys = batches_[w.batch];
  TailWatch* moved = keys.back();
  keys[w.slot] = moved;
  moved->slot = w.slot;
  keys.pop_back();
  std::size_t b = w.batch;
  w.batch = none;
  return b;
}

bool TailState::encode_read(std::size_t b, std::size_t count, std::uint64_t block_ms,
                            std::string& out) const {
  const auto& keys = batches_[b];
  if (keys.empty()) return false;
  std::vector<std::string_view> names;
  std::vector<StreamId> ids;
  names.reserve(keys.size());
  ids.reserve(keys.size());
  for (const TailWatch* w : keys) {
    names.push_back(w->key);
    ids.push_back(*w->position);
  }
  append_xread(out, count, block_ms, names, ids);
  return true;
}

bool TailState::apply_read(std::size_t b, const redisReply* reply, const Deliver& deliver) {
  return decode_xread(reply,
                      [&](std::string_view key, std::vector<StoredEntry>& entries, StreamId last) {
                        TailWatch* w = find(key);
                        // A key that left this batch while the read was parked is read elsewhere,
                        // or not at all.
                        if (!w || w->batch != b || !w->position) return;
                        // Only ids above the position, each above the one before: Redis sends
                        // them so, and a reply that does not cannot make us hand an entry on
                        // twice or out of order.
                        StreamId pos = *w->position;
                        std::size_t kept = 0;
                        for (auto& e : entries)
                          if (e.id > pos) {
                            pos = e.id;
                            if (&entries[kept] != &e) entries[kept] = std::move(e);
                            ++kept;
                          }
                        entries.resize(kept);
                        if (last > pos) pos = last;  // entries without `message` count too
                        w->position = pos;
                        if (!entries.empty()) deliver(key, entries);
                      });
}

}  // namespace forrealtime::redis
