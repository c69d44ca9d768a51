// The hub: routes the store's tail to shards, and each shard to its subscribers.
#include "hub/hub.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace forrealtime::detail {

namespace asio = boost::asio;

HubEntryPtr make_hub_entry(std::string_view channel, const StoredEntry& entry) {
  auto msg = core::decode_message(entry.message);
  if (!msg) return nullptr;
  std::string json;
  json.reserve(entry.message.size() + 32);
  core::write_event_json(entry.id, channel, msg->event, msg->data, json);
  auto e = std::make_shared<HubEntry>();
  e->id = entry.id;
  e->event = std::move(msg->event);
  e->data = std::move(msg->data);
  e->frame = core::make_frame(entry.id, core::sse_frame(json, entry.id));
  return e;
}

// --- Shard ---------------------------------------------------------------------------------------

Shard::Shard(asio::any_io_executor ex, std::chrono::milliseconds ping_interval)
    : executor_(std::move(ex)), ping_interval_(ping_interval) {}

std::shared_ptr<ShardClient> Shard::remove_client(ShardClient* c) {
  auto it = std::find_if(clients_.begin(), clients_.end(), [c](auto& p) { return p.get() == c; });
  if (it == clients_.end()) return nullptr;
  auto out = std::move(*it);
  *it = std::move(clients_.back());
  clients_.pop_back();
  return out;
}

void Shard::push(Batch batch) {
  {
    std::lock_guard lock(inbox_mu_);
    inbox_.push_back(std::move(batch));
    if (drain_scheduled_) return;
    drain_scheduled_ = true;
  }
  asio::post(executor_, [this] { drain(); });
}

void Shard::drain() {
  {
    std::lock_guard lock(inbox_mu_);
    draining_.swap(inbox_);
    drain_scheduled_ = false;
  }
  for (auto& b : draining_) deliver(b->first, b->second);
  draining_.clear();
  // One write per subscriber per drain, however many batches it got.
  for (auto* sub : dirty_) sub->flush();
  dirty_.clear();
}

void Shard::deliver(std::string_view channel, std::span<const HubEntryPtr> entries) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  // A subscriber may unsubscribe (and so edit this vector) from inside on_entries: iterate a copy
  // only when there is more than one, the common case of one private channel needs none.
  auto& subs = it->second;
  if (subs.size() == 1) {
    subs[0].first->on_entries(subs[0].second, entries);
    return;
  }
  thread_local std::vector<std::pair<Subscriber*, std::uint32_t>> scratch;
  scratch.assign(subs.begin(), subs.end());
  for (auto& [sub, index] : scratch) sub->on_entries(index, entries);
}

void Shard::start_ticker() {
  if (ticker_) return;
  ticker_ = std::make_unique<asio::steady_timer>(executor_);
  next_ping_ms_ = core::now_ms() + static_cast<std::uint64_t>(ping_interval_.count());
  tick();
}

void Shard::tick() {
  ticker_->expires_after(std::chrono::seconds(1));
  ticker_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    auto now = core::now_ms();
    core::FramePtr ping;
    if (now >= next_ping_ms_ && ping_interval_.count() > 0) {
      ping = core::make_frame({}, core::sse_frame(core::ping_json(now)));
      next_ping_ms_ = now + static_cast<std::uint64_t>(ping_interval_.count());
    }
    // Clients may remove themselves while ticking.
    auto clients = clients_;
    for (auto& c : clients) c->on_tick(now, ping);
    tick();
  });
}

// --- Hub -----------------------------------------------------------------------------------------

Hub::Hub(std::shared_ptr<Store> store, std::chrono::milliseconds ping_interval,
         std::shared_ptr<spdlog::logger> logger)
    : store_(std::move(store)), ping_interval_(ping_interval), logger_(std::move(logger)) {
  store_->start_tail(*this);
}

Hub::~Hub() = default;

void Hub::register_worker(asio::io_context& ioc) {
  {
    std::lock_guard lock(mu_);
    single_threaded_[&ioc] = true;
  }
  store_->add_worker(ioc);
}

void Hub::unregister_worker(asio::io_context& ioc) {
  store_->remove_worker(ioc);
}

Shard& Hub::shard_for(const asio::any_io_executor& ex) {
  const void* key = &ex.context();
  std::lock_guard lock(mu_);
  auto& slot = shards_[key];
  if (!slot) {
    asio::any_io_executor shard_ex = ex;
    if (!single_threaded_.count(key)) shard_ex = asio::make_strand(ex);
    slot = std::make_unique<Shard>(shard_ex, ping_interval_);
    Shard* s = slot.get();
    asio::dispatch(s->executor(), [s] { s->start_ticker(); });
  }
  return *slot;
}

void Hub::add(Shard& shard, Subscriber* sub, const std::string& channel, std::uint32_t index,
              std::function<void(boost::system::error_code)> armed) {
  shard.channels_[channel].emplace_back(sub, index);
  {
    std::lock_guard lock(mu_);
    auto& route = routes_[channel];
    auto it = std::find_if(route.shards.begin(), route.shards.end(),
                           [&](auto& p) { return p.first == &shard; });
    if (it == route.shards.end())
      route.shards.emplace_back(&shard, 1);
    else
      ++it->second;
  }
  // The store completes `armed` on its own thread; bring it back to the shard.
  store_->watch(channel, [ex = shard.executor(),
                          armed = std::move(armed)](boost::system::error_code ec) mutable {
    asio::post(ex, [armed = std::move(armed), ec] { armed(ec); });
  });
}

void Hub::remove(Shard& shard, Subscriber* sub, const std::string& channel) {
  auto it = shard.channels_.find(channel);
  if (it == shard.channels_.end()) return;
  auto& subs = it->second;
  auto s = std::find_if(subs.begin(), subs.end(), [&](auto& p) { return p.first == sub; });
  if (s == subs.end()) return;
  *s = subs.back();
  subs.pop_back();
  if (subs.empty()) shard.channels_.erase(it);
  {
    std::lock_guard lock(mu_);
    auto r = routes_.find(channel);
    if (r != routes_.end()) {
      auto& shards = r->second.shards;
      auto p =
          std::find_if(shards.begin(), shards.end(), [&](auto& x) { return x.first == &shard; });
      if (p != shards.end() && --p->second == 0) {
        *p = shards.back();
        shards.pop_back();
      }
      if (shards.empty()) routes_.erase(r);
    }
  }
  store_->unwatch(channel);
}

void Hub::on_entries(std::string_view channel, std::span<const StoredEntry> entries) {
  // Find the shards first: most entries of a busy process are for channels nobody here watches.
  thread_local std::vector<Shard*> targets;
  targets.clear();
  {
    std::lock_guard lock(mu_);
    auto r = routes_.find(channel);
    if (r == routes_.end()) return;
    r->second.events += entries.size();
    for (auto& [shard, count] : r->second.shards) targets.push_back(shard);
  }
  if (targets.empty()) return;
  auto batch = std::make_shared<std::pair<std::string, std::vector<HubEntryPtr>>>();
  batch->first.assign(channel);
  batch->second.reserve(entries.size());
  for (auto& e : entries) {
    if (auto h = make_hub_entry(channel, e))
      batch->second.push_back(std::move(h));
    else
      logger_->warn("skipping undecodable entry {} on channel '{}'", e.id.to_string(), channel);
  }
  if (batch->second.empty()) return;
  for (Shard* shard : targets) shard->push(batch);
}

std::vector<Hub::ChannelStats> Hub::channel_stats() {
  std::vector<ChannelStats> out;
  std::lock_guard lock(mu_);
  out.reserve(routes_.size());
  for (auto& [channel, route] : routes_) {
    std::size_t n = 0;
    for (auto& [shard, count] : route.shards) n += count;
    if (n) out.push_back({channel, n, route.events});
  }
  return out;
}

void Hub::end_streams(std::string_view channel, std::function<void(std::size_t)> done) {
  std::vector<Shard*> targets;
  {
    std::lock_guard lock(mu_);
    if (auto r = routes_.find(channel); r != routes_.end())
      for (auto& [shard, count] : r->second.shards) targets.push_back(shard);
  }
  if (targets.empty()) return done(0);
  struct Pending {
    std::atomic<std::size_t> left;
    std::atomic<std::size_t> ended{0};
    std::function<void(std::size_t)> done;
  };
  auto p = std::make_shared<Pending>();
  p->left = targets.size();
  p->done = std::move(done);
  for (Shard* s : targets)
    asio::post(s->executor(), [s, p, name = std::string(channel)] {
      if (auto it = s->channels_.find(name); it != s->channels_.end()) {
        auto subs = it->second;  // ending a stream may change the list
        for (auto& [sub, index] : subs)
          if (sub->end_stream()) p->ended.fetch_add(1, std::memory_order_relaxed);
      }
      if (p->left.fetch_sub(1) == 1) p->done(p->ended.load());
    });
}

void Hub::on_tail_error(boost::system::error_code ec) {
  if (!tail_ok_.exchange(false)) return;
  logger_->error("the store's live tail failed: {}; open streams are told to reconnect",
                 ec.message());
  std::lock_guard lock(mu_);
  for (auto& [key, shard] : shards_) {
    Shard* s = shard.get();
    asio::post(s->executor(), [s] {
      thread_local std::vector<Subscriber*> subs;
      subs.clear();
      for (auto& [name, list] : s->channels_)
        for (auto& [sub, index] : list) subs.push_back(sub);
      std::sort(subs.begin(), subs.end());
      subs.erase(std::unique(subs.begin(), subs.end()), subs.end());
      auto copy = subs;
      for (auto* sub : copy) sub->on_tail_lost();
    });
  }
}

void Hub::on_tail_resumed() {
  tail_ok_.store(true);
  logger_->info("the store's live tail resumed");
}

void Hub::end_subject_streams(std::string_view subject, std::function<void(std::size_t)> done) {
  std::vector<Shard*> targets;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, shard] : shards_) targets.push_back(shard.get());
  }
  if (targets.empty()) return done(0);
  struct Pending {
    std::atomic<std::size_t> left;
    std::atomic<std::size_t> ended{0};
    std::function<void(std::size_t)> done;
  };
  auto p = std::make_shared<Pending>();
  p->left = targets.size();
  p->done = std::move(done);
  for (Shard* s : targets)
    asio::post(s->executor(), [s, p, name = std::string(subject)] {
      auto clients = s->clients_;  // ending a stream may change the list
      for (auto& c : clients)
        if (c->end_if_subject(name)) p->ended.fetch_add(1, std::memory_order_relaxed);
      if (p->left.fetch_sub(1) == 1) p->done(p->ended.load());
    });
}

void Hub::release_shards() {
  std::lock_guard lock(mu_);
  for (auto& [key, shard] : shards_) {
    shard->ticker_.reset();
    shard->clients_.clear();
  }
}

void Hub::shutdown() {
  std::lock_guard lock(mu_);
  for (auto& [key, shard] : shards_) {
    Shard* s = shard.get();
    asio::post(s->executor(), [s] {
      auto frame = core::make_frame({}, core::sse_frame(core::reconnect_json(core::now_ms())));
      auto clients = s->clients_;
      for (auto& c : clients) c->on_shutdown(frame);
      if (s->ticker_) s->ticker_->cancel();
    });
  }
}

}  // namespace forrealtime::detail
