// Realtime, Channel and the RealtimeCore behind them: emit, history, plugins, shutdown.
#include <algorithm>
#include <future>
#include <mutex>
#include <optional>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

#include "core/events.hpp"
#include "core/json_text.hpp"
#include "core/names.hpp"
#include "forrealtime/memory_store.hpp"
#include "realtime/core.hpp"

namespace forrealtime {
static_assert(static_cast<int>(LogLevel::warn) == spdlog::level::warn &&
              static_cast<int>(LogLevel::off) == spdlog::level::off);
namespace detail {

RealtimeCore::RealtimeCore(Options opts)
    : options(std::move(opts)),
      internal(std::make_unique<boost::asio::io_context>(1)),
      work_(boost::asio::make_work_guard(*internal)),
      executor_(internal->get_executor()) {
  store = options.store ? options.store : make_memory_store();
  log = options.logger ? options.logger : spdlog::default_logger();
  if (options.verbosity)
    log->set_level(static_cast<spdlog::level::level_enum>(static_cast<int>(*options.verbosity)));
  hub = std::make_unique<Hub>(store, options.ping_interval, log);
  unsigned n = std::max(1u, options.internal_threads);
  if (n == 1) hub->register_worker(*internal);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { internal->run(); });
}

RealtimeCore::~RealtimeCore() {
  close();
  hub.reset();
}

void RealtimeCore::close() {
  if (closed.exchange(true)) return;
  {
    std::lock_guard lock(plugins_mu);
    for (auto& [type, p] : plugins) p->shutdown();
  }
  work_.reset();
  internal->stop();
  for (auto& t : threads_) {
    // The last reference may be dropped by a handler on an internal thread: never join it.
    if (t.get_id() == std::this_thread::get_id())
      t.detach();
    else
      t.join();
  }
  // Order matters: timers before their io_context; the store stopped before the io_context
  // goes, since an operation still pending in the store may complete onto that loop (a token
  // form whose handler has no executor of its own): its completion is then queued there and
  // destroyed with it, unrun; the io_context (and the handlers it still holds, which may hold
  // sessions and subscribers) before the hub they point to. Calls made on the store after its
  // stop fail with `stopped`.
  hub->release_shards();
  if (threads_.size() == 1) hub->unregister_worker(*internal);
  store->stop();
  internal.reset();
}

boost::system::error_code RealtimeCore::check_emit(std::string_view channel, std::string_view event,
                                                   const boost::json::value& data,
                                                   std::string* why) const {
  if (auto e = core::check_channel(channel)) {
    if (why) *why = *e;
    return errc::invalid_channel;
  }
  if (auto e = core::check_event_name(event)) {
    if (why) *why = *e;
    return errc::invalid_event;
  }
  // A schema refusal is invalid input whatever code a custom schema chose for it.
  auto refused = [](const boost::system::error_code& ec) {
    return ec == condition::invalid_input ? ec : make_error_code(errc::invalid_payload);
  };
  if (options.schema.check_with_reason) {
    std::string reason;
    auto r = options.schema.check_with_reason(event, data, reason);
    if (!r) {
      if (why) *why = reason.empty() ? r.error().message() : std::move(reason);
      return refused(r.error());
    }
  } else if (options.schema.check) {
    auto r = options.schema.check(event, data);
    if (!r) {
      if (why) *why = r.error().message();
      return refused(r.error());
    }
  }
  return {};
}

void RealtimeCore::async_emit(std::string_view channel, std::string_view event,
                              boost::json::value data,
                              std::function<void(Result<StreamId>)> handler) {
  if (auto ec = check_emit(channel, event, data)) return handler(ec);
  async_append_encoded(channel, core::encode_message(channel, event, data), std::move(handler));
}

void RealtimeCore::async_append_encoded(std::string_view channel, std::string message,
                                        std::function<void(Result<StreamId>)> handler,
                                        std::string idempotency_key) {
  AppendOptions ao{options.history.max_length, options.history.expire_after_secs,
                   std::move(idempotency_key), options.idempotency_window};
  store->async_append(channel, std::move(message), std::move(ao),
                      [handler = std::move(handler), log = log](Store::Result<StreamId> r) {
                        if (!r) {
                          log->warn("append failed: {}", r.error().message());
                          return handler(r.error());
                        }
                        handler(*r);
                      });
}

void RealtimeCore::async_emit_batch(std::vector<EmitItem> items,
                                    std::function<void(EmitBatchResult)> handler) {
  // Everything is checked and encoded before anything is stored: a refused item stores nothing.
  std::vector<std::string> messages;
  messages.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& item = items[i];
    std::string why;
    if (auto ec = check_emit(item.channel, item.event, item.data, &why))
      return handler(EmitError{ec, i, std::move(why)});
    if (!item.idempotency_key.empty())
      if (auto bad = check_idempotency_key(item.idempotency_key))
        return handler(EmitError{make_error_code(errc::invalid_payload), i, std::move(*bad)});
    messages.push_back(core::encode_message(item.channel, item.event, item.data));
  }
  if (items.empty()) return handler(std::vector<StreamId>{});

  // One completion when the last append answers. The error reported: a timeout first (a retry
  // must know that anything may have been stored), else the first failed item.
  struct State {
    std::function<void(EmitBatchResult)> handler;
    std::mutex mu;
    std::vector<StreamId> ids;
    std::size_t left;
    std::optional<EmitError> error;
  };
  auto st = std::make_shared<State>();
  st->handler = std::move(handler);
  st->ids.resize(items.size());
  st->left = items.size();
  for (std::size_t i = 0; i < items.size(); ++i) {
    async_append_encoded(
        items[i].channel, std::move(messages[i]),
        [st, i](Result<StreamId> r) {
          std::unique_lock lock(st->mu);
          if (r) {
            st->ids[i] = *r;
          } else {
            bool unknown = r.error() == condition::outcome_unknown;
            if (!st->error || (unknown && st->error->code != condition::outcome_unknown) ||
                (unknown == (st->error->code == condition::outcome_unknown) &&
                 i < st->error->index))
              st->error = EmitError{r.error(), i, r.error().message()};
          }
          if (--st->left) return;
          lock.unlock();
          if (st->error)
            st->handler(std::move(*st->error));
          else
            st->handler(std::move(st->ids));
        },
        std::move(items[i].idempotency_key));
  }
}

std::variant<RangeQuery, std::string> to_range(const HistoryQuery& q) {
  RangeQuery r;
  r.limit = std::min<std::size_t>(q.limit, 1000);
  if (q.last) {
    if (q.limit != HistoryQuery{}.limit)
      return std::string("last and limit cannot be given together");
    if (*q.last > 1000) return std::string("last must be at most 1000");
    r.limit = *q.last;
    r.newest_first = true;
  }
  if (q.start) r.start = StreamId{*q.start, 0};
  if (q.after && (!q.start || *q.after >= r.start)) {
    r.start = *q.after;
    r.start_exclusive = true;
  }
  if (q.end) r.end = StreamId{*q.end, StreamId::max().seq};
  if (r.end < r.start) return std::string("the end of the range is before its start");
  return r;
}

void RealtimeCore::async_history(std::string_view channel, HistoryQuery query,
                                 std::function<void(Result<std::vector<Event>>)> handler) {
  if (core::check_channel(channel)) return handler(make_error_code(errc::invalid_channel));
  auto range = to_range(query);
  if (std::holds_alternative<std::string>(range))
    return handler(make_error_code(errc::invalid_query));
  auto q = std::get<RangeQuery>(range);
  if (q.limit == 0) return handler(std::vector<Event>{});
  store->async_range(channel, q,
                     [handler = std::move(handler), ch = std::string(channel), log = log,
                      newest_first = q.newest_first](Store::Result<std::vector<StoredEntry>> r) {
                       if (!r) {
                         log->warn("history of '{}' failed: {}", ch, r.error().message());
                         return handler(r.error());
                       }
                       if (newest_first) std::reverse(r->begin(), r->end());  // oldest first
                       std::vector<Event> out;
                       out.reserve(r->size());
                       for (auto& e : *r) {
                         auto m = core::decode_message(e.message);
                         if (!m) continue;  // undecodable entries are skipped, never fatal
                         out.push_back(Event{e.id, ch, std::move(m->event), std::move(m->data)});
                       }
                       handler(std::move(out));
                     });
}

}  // namespace detail

namespace {

template <class T, class Start>
Result<T> wait_for(Start start) {
  std::promise<Result<T>> p;
  auto f = p.get_future();
  start([&p](Result<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace

void throw_exception_from_error(const EmitError& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(e.code, e.why), loc);
}

std::optional<std::string> check_idempotency_key(std::string_view key) {
  if (key.empty()) return "idempotency key is empty";
  if (key.size() > 255) return "idempotency key is longer than 255 bytes";
  for (char c : key)
    if (c < 0x21 || c > 0x7e) return "idempotency key holds a character outside visible ASCII";
  return std::nullopt;
}

// --- Channel -------------------------------------------------------------------------------------

void Channel::async_emit(std::string_view event, boost::json::value data,
                         std::function<void(Result<StreamId>)> handler) const {
  core_->async_emit(name_, event, std::move(data), std::move(handler));
}

Channel::executor_type Channel::get_executor() const {
  return core_->get_executor();
}

Result<StreamId> Channel::emit(std::string_view event, boost::json::value data) const {
  return wait_for<StreamId>(
      [&](auto cb) { core_->async_emit(name_, event, std::move(data), std::move(cb)); });
}

Result<StreamId> Channel::emit_json(std::string_view event, std::string_view json) const {
  boost::system::error_code ec;
  auto v = core::parse_json(json, ec);
  if (ec) return make_error_code(errc::invalid_payload);
  return emit(event, std::move(v));
}

void Channel::async_history(HistoryQuery query,
                            std::function<void(Result<std::vector<Event>>)> handler) const {
  core_->async_history(name_, query, std::move(handler));
}

Result<std::vector<Event>> Channel::history(HistoryQuery query) const {
  return wait_for<std::vector<Event>>(
      [&](auto cb) { core_->async_history(name_, query, std::move(cb)); });
}

// --- Realtime ------------------------------------------------------------------------------------

Realtime::Realtime(Options options)
    : core_(std::make_shared<detail::RealtimeCore>(std::move(options))) {}

Realtime::~Realtime() {
  shutdown();
  // Stop the internal threads here, while this reference keeps the core alive: otherwise the
  // last reference could be dropped on one of them, which cannot join itself.
  core_->close();
}

void Realtime::async_emit_batch(std::vector<EmitItem> items,
                                std::function<void(EmitBatchResult)> handler) const {
  core_->async_emit_batch(std::move(items), std::move(handler));
}

Realtime::executor_type Realtime::get_executor() const {
  return core_->get_executor();
}

EmitBatchResult Realtime::emit_batch(std::vector<EmitItem> items) const {
  std::promise<EmitBatchResult> p;
  auto f = p.get_future();
  core_->async_emit_batch(std::move(items), [&p](EmitBatchResult r) { p.set_value(std::move(r)); });
  return f.get();
}

Channel Realtime::channel(std::string name) const {
  return Channel(core_, std::move(name));
}

const Options& Realtime::options() const {
  return core_->options;
}
Store& Realtime::store() const {
  return *core_->store;
}
spdlog::logger& Realtime::logger() const {
  return *core_->log;
}

void Realtime::shutdown() {
  if (core_->shutting_down.exchange(true)) return;
  core_->hub->shutdown();
}

void Realtime::add_plugin(std::type_index type, std::shared_ptr<Plugin> plugin) {
  {
    std::lock_guard lock(core_->plugins_mu);
    for (auto& [t, p] : core_->plugins)
      if (t == type) throw std::logic_error("plugin already added: " + std::string(p->name()));
    core_->plugins.emplace_back(type, plugin);
  }
  plugin->init(*core_);
  core_->log->info("plugin '{}' added", plugin->name());
}

Plugin& Realtime::find_plugin(std::type_index type) const {
  std::lock_guard lock(core_->plugins_mu);
  for (auto& [t, p] : core_->plugins)
    if (t == type) return *p;
  throw std::out_of_range("no such plugin on this Realtime");
}

}  // namespace forrealtime
