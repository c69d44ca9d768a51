// The tail's bookkeeping (see tail_state.hpp).
#include "store/redis/tail_state.hpp"

#include "store/redis/slot.hpp"

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
  if (w.sub != TailWatch::Sub::none) queue_sub(false, w.key);
  for (auto& a : w.waiters) orphans.push_back(std::move(a));
  watches_.erase(it);
  return changed;
}

TailWatch* TailState::find(std::string_view key, std::uint64_t gen) {
  auto it = watches_.find(key);
  if (it == watches_.end() || (gen != 0 && it->second.gen != gen)) return nullptr;
  return &it->second;
}

void TailState::set_batched(bool batched) {
  if (batched == batched_) return;
  batched_ = batched;
  for (auto& keys : batches_)
    for (TailWatch* w : keys) w->batch = none;
  batches_.clear();
  if (batched_)
    for (auto& [key, w] : watches_)
      if (w.position && !w.over_cap) place(w, *w.position);
}

std::size_t TailState::place(TailWatch& w, StreamId latest) {
  if (!w.position || *w.position < latest) w.position = latest;
  if (!batched_ || w.batch != none || w.parked) return none;
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

// --- wake-ups ----------------------------------------------------------------------------------

void TailState::queue_sub(bool subscribe, std::string_view key) {
  sub_queue_.emplace_back(subscribe, std::string(key));
  auto it = sub_ops_.find(key);
  if (it == sub_ops_.end()) it = sub_ops_.emplace(std::string(key), 0).first;
  ++it->second;
}

void TailState::subscribe(TailWatch& w) {
  if (w.parked || w.over_cap || w.sub != TailWatch::Sub::none) return;
  w.sub = TailWatch::Sub::pending;
  queue_sub(true, w.key);
}

void TailState::unsubscribe(std::string_view key) {
  queue_sub(false, key);
}

bool TailState::encode_subscriptions(std::string& out, std::size_t max_per_command) {
  if (sub_queue_.empty()) return false;
  if (max_per_command == 0) max_per_command = 1;
  std::vector<std::string> channels;
  std::vector<std::string_view> args;
  for (std::size_t i = 0; i < sub_queue_.size();) {
    bool kind = sub_queue_[i].first;
    channels.clear();
    // One command per run of one kind: order across kinds is what makes a re-watch of a key
    // whose UNSUBSCRIBE is still queued end subscribed.
    while (i < sub_queue_.size() && sub_queue_[i].first == kind &&
           channels.size() < max_per_command)
      channels.push_back(channel_prefix_ + sub_queue_[i++].second);
    args.clear();
    args.push_back(kind ? "SUBSCRIBE" : "UNSUBSCRIBE");
    for (const auto& c : channels) args.push_back(c);
    encode_command(out, args);
  }
  sub_queue_.clear();
  return true;
}

TailPush TailState::decode_push(const redisReply* r) const {
  TailPush p;
  // PING answers `+PONG` when nothing is subscribed, `["pong", ""]` otherwise.
  if (!is_array(r) && !is_error(r) && text(r) == "PONG") p.kind = TailPush::Kind::pong;
  if (!is_array(r) || size(r) < 2) return p;
  auto kind = text(at(r, 0));
  auto channel = text(at(r, 1));
  auto strip = [&](std::string_view c) {
    return c.starts_with(channel_prefix_) ? c.substr(channel_prefix_.size()) : std::string_view{};
  };
  if (kind == "message" && size(r) == 3 && channel.starts_with(channel_prefix_)) {
    p.kind = TailPush::Kind::message;
    p.key = strip(channel);
    p.event = text(at(r, 2));
  } else if (kind == "subscribe" && channel.starts_with(channel_prefix_)) {
    p.kind = TailPush::Kind::subscribed;
    p.key = strip(channel);
  } else if (kind == "unsubscribe" && channel.starts_with(channel_prefix_)) {
    p.kind = TailPush::Kind::unsubscribed;
    p.key = strip(channel);
  } else if (kind == "pong") {
    p.kind = TailPush::Kind::pong;
  }
  return p;
}

TailWatch* TailState::on_subscription_reply(std::string_view key) {
  auto it = sub_ops_.find(key);
  if (it == sub_ops_.end()) return nullptr;  // not ours (or from before a reset)
  if (--it->second > 0) return nullptr;      // a later (UN)SUBSCRIBE of it is still coming
  sub_ops_.erase(it);
  TailWatch* w = find(key);
  // Only the last op sent for a key decides; a watch that exists was subscribed after any
  // unsubscribe of an earlier one, so this is its own SUBSCRIBE.
  if (!w || w->sub != TailWatch::Sub::pending) return nullptr;
  w->sub = TailWatch::Sub::confirmed;
  return w;
}

void TailState::reset_subscriptions() {
  sub_queue_.clear();
  sub_ops_.clear();
  dirty_.clear();
  for (auto& [key, w] : watches_) {
    w.sub = TailWatch::Sub::none;
    w.dirty = w.in_flight = w.again = false;
  }
}

void TailState::subscribe_all() {
  for (auto& [key, w] : watches_) subscribe(w);
}

void TailState::wake(std::string_view key) {
  TailWatch* w = find(key);
  if (!w || !w->position || w->parked || w->over_cap || w->sub == TailWatch::Sub::none) return;
  if (w->in_flight) {
    w->again = true;
    return;
  }
  if (w->dirty) return;
  w->dirty = true;
  dirty_.emplace_back(w->key, w->gen);
}

void TailState::wake_all() {
  for (auto& [key, w] : watches_)
    if (w.sub == TailWatch::Sub::confirmed) wake(key);
}

void TailState::wake_share(std::size_t part, std::size_t parts) {
  for (auto& [key, w] : watches_)
    if (w.sub == TailWatch::Sub::confirmed && w.gen % parts == part) wake(key);
}

bool TailState::encode_wake_read(std::size_t max_keys, std::size_t count, std::string& out,
                                 TailTicket& ticket) {
  ticket.clear();
  std::vector<std::string_view> names;
  std::vector<StreamId> ids;
  std::size_t taken = 0;
  for (; taken < dirty_.size() && names.size() < max_keys; ++taken) {
    auto& [key, gen] = dirty_[taken];
    TailWatch* w = find(key, gen);
    if (!w || !w->dirty) continue;  // removed (or re-created) since it was woken
    if (one_slot_ && !names.empty() && !w->in_flight && w->position && !w->parked &&
        key_slot(w->key) != key_slot(names.front()))
      break;  // the next read starts with it
    w->dirty = false;
    if (w->in_flight || !w->position || w->parked) continue;
    w->in_flight = true;
    ticket.emplace_back(w->key, w->gen);
    names.push_back(w->key);
    ids.push_back(*w->position);
  }
  dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(taken));
  if (names.empty()) return false;
  std::vector<std::string_view> args{"XREAD", "COUNT"};
  std::string count_text = std::to_string(count ? count : 1);
  args.push_back(count_text);
  args.push_back("STREAMS");
  std::vector<std::string> id_text;
  id_text.reserve(ids.size());
  for (auto id : ids) id_text.push_back(id.to_string());
  args.insert(args.end(), names.begin(), names.end());
  args.insert(args.end(), id_text.begin(), id_text.end());
  encode_command(out, args);
  return true;
}

void TailState::abandon(const TailTicket& ticket) {
  for (const auto& [key, gen] : ticket)
    if (TailWatch* w = find(key, gen)) w->in_flight = w->again = false;
}

bool TailState::apply_wake_read(const TailTicket& ticket, std::size_t count,
                                const redisReply* reply, const Deliver& deliver) {
  auto settle = [&](bool wake_everyone) {
    for (const auto& [key, gen] : ticket) {
      TailWatch* w = find(key, gen);
      if (!w) continue;
      bool again = w->again || wake_everyone;
      w->in_flight = w->again = false;
      if (again) wake(key);
    }
  };
  bool ok = is_nil(reply) || is_array(reply);
  std::vector<StoredEntry> entries;
  for (std::size_t i = 0; ok && !is_nil(reply) && i < size(reply); ++i) {
    const redisReply* kv = at(reply, i);
    if (size(kv) != 2) {
      ok = false;
      break;
    }
    auto key = text(at(kv, 0));
    entries.clear();
    StreamId last{};
    if (!decode_entries(at(kv, 1), entries, &last)) {
      ok = false;
      break;
    }
    TailWatch* w = find(key);
    if (!w || !w->position || !w->in_flight) continue;  // not a key this read named
    StreamId pos = *w->position;
    std::size_t kept = 0;
    for (auto& e : entries)
      if (e.id > pos) {
        pos = e.id;
        if (&entries[kept] != &e) entries[kept] = std::move(e);
        ++kept;
      }
    entries.resize(kept);
    if (last > pos) pos = last;
    w->position = pos;
    // The read stopped at COUNT: there may be more.
    if (count && size(at(kv, 1)) >= count) w->again = true;
    if (!entries.empty()) deliver(key, entries);
  }
  settle(!ok);
  return ok;
}

}  // namespace forrealtime::redis
