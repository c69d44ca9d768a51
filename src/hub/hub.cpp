// The hub: routes the store's tail to shards, and each shard to its subscribers.
#include "hub/hub.hpp"

#include "core/json_text.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace forrealtime::detail {

namespace asio = boost::asio;

namespace {

// Whether `text` is a stored message exactly as our writer writes it, `{"channel":S,"event":S,
// "data":V}`, with V such that parsing and writing it again gives the same bytes: no whitespace,
// strings of printable ASCII with only the escapes the writer makes (\" \\ \b \f \n \r \t),
// integers up to 2^53 (no fraction, exponent or -0), true/false/null, objects without
// duplicate keys. Anything else (a peer's other spelling, non-ASCII text, doubles) is decoded and
// written again by the slow path, so both paths give the same frame byte for byte.
class CanonicalScan {
 public:
  explicit CanonicalScan(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  /** On success: the event's characters (no escapes) and the data's text. */
  bool message(std::string_view& event, std::string_view& data) {
    if (!literal(R"({"channel":)") || !string()) return false;
    if (!literal(R"(,"event":")")) return false;
    const char* e = p_;
    while (p_ < end_ && *p_ != '"') {
      auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    event = std::string_view(e, static_cast<std::size_t>(p_ - e));
    ++p_;
    if (!literal(R"(,"data":)")) return false;
    const char* d = p_;
    keys_.clear();
    if (!value(0)) return false;
    data = std::string_view(d, static_cast<std::size_t>(p_ - d));
    return p_ + 1 == end_ && *p_ == '}';
  }

 private:
  bool literal(std::string_view s) {
    if (static_cast<std::size_t>(end_ - p_) < s.size() || std::string_view(p_, s.size()) != s)
      return false;
    p_ += s.size();
    return true;
  }

  bool string() {
    if (p_ == end_ || *p_ != '"') return false;
    ++p_;
    while (p_ < end_) {
      auto c = static_cast<unsigned char>(*p_++);
      if (c == '"') return true;
      if (c < 0x20 || c >= 0x80) return false;
      if (c == '\\') {
        if (p_ == end_) return false;
        switch (*p_++) {
          case '"':
          case '\\':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            break;
          default:
            return false;
        }
      }
    }
    return false;
  }

  bool number() {
    if (*p_ == '-') ++p_;
    const char* s = p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0') {
      ++p_;
      if (s[-1] == '-') return false;  // -0 is written 0
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    // Up to 2^53 every integer is exact as a double too; past it the parser may read it as
    // JSON.parse does (123456789012345678 is written back 123456789012345680): the slow path.
    auto digits = std::string_view(s, static_cast<std::size_t>(p_ - s));
    if (digits.size() > 16 || (digits.size() == 16 && digits > "9007199254740992")) return false;
    return p_ == end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E');
  }

  bool value(int depth) {
    if (p_ == end_ || depth > 32) return false;
    switch (*p_) {
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      case '[': {
        ++p_;
        if (p_ < end_ && *p_ == ']') return ++p_, true;
        for (;;) {
          if (!value(depth + 1)) return false;
          if (p_ == end_) return false;
          if (*p_ == ']') return ++p_, true;
          if (*p_++ != ',') return false;
        }
      }
      case '{': {
        ++p_;
        if (p_ < end_ && *p_ == '}') return ++p_, true;
        std::size_t first = keys_.size();
        for (;;) {
          const char* k = p_;
          if (!string()) return false;
          std::string_view key(k, static_cast<std::size_t>(p_ - k));
          for (std::size_t i = first; i < keys_.size(); ++i)
            if (keys_[i] == key) return false;  // a duplicate: the parser keeps one of them
          if (keys_.size() - first >= 64) return false;
          keys_.push_back(key);
          if (!literal(":") || !value(depth + 1) || p_ == end_) return false;
          if (*p_ == '}') {
            ++p_;
            keys_.resize(first);
            return true;
          }
          if (*p_++ != ',') return false;
        }
      }
      default:
        return number();
    }
  }

  const char* p_;
  const char* end_;
  std::vector<std::string_view> keys_;
};

}  // namespace

boost::json::value HubEntry::data() const {
  if (decoded) return *decoded;
  boost::system::error_code ec;
  return core::parse_json(data_json, ec);
}

HubEntryPtr make_hub_entry(std::string_view channel, const StoredEntry& entry) {
  auto e = std::make_shared<HubEntry>();
  e->id = entry.id;
  std::string bytes;
  bytes.reserve(entry.message.size() + channel.size() + 80);
  bytes.append("id: ");
  entry.id.append_to(bytes);
  bytes.append("\ndata: {\"id\":\"");
  entry.id.append_to(bytes);
  bytes.append("\",\"channel\":");
  core::write_json_string(channel, bytes);
  bytes.append(",\"event\":");
  std::size_t data_at = 0;
  std::size_t data_size = 0;
  std::string_view event, data;
  if (CanonicalScan(entry.message).message(event, data)) {
    // The message is already in our writer's form: its bytes are the frame's.
    e->event.assign(event);
    bytes.push_back('"');
    bytes.append(event);
    bytes.append("\",\"data\":");
    data_at = bytes.size();
    bytes.append(data);
    data_size = data.size();
  } else {
    auto msg = core::decode_message(entry.message);
    if (!msg) return nullptr;
    core::write_json_string(msg->event, bytes);
    bytes.append(",\"data\":");
    data_at = bytes.size();
    core::write_json(msg->data, bytes);
    data_size = bytes.size() - data_at;
    e->event = std::move(msg->event);
    e->decoded.emplace(std::move(msg->data));
  }
  bytes.append("}\n\n");
  e->frame = core::make_frame(entry.id, std::move(bytes));
  e->data_json = std::string_view(e->frame->bytes).substr(data_at, data_size);
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
