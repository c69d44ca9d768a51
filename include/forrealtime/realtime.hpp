// The public API: a `Realtime` owns a stream store, the live hub and history settings;
// `channel(name)` emits, reads history and subscribes on the server side; plugins add typed
// APIs to the instance. To serve browsers, see handler.hpp (`handle()`) or run the gateway.
//
//   forrealtime::Realtime rt({.history = {.max_length = 1000}});
//   rt.emit("chat.message", {{"text", "hi"}});                 // on channel "default"
//   auto room = rt.channel("room:1");
//   auto id = room.emit("chat.message", {{"text", "hello"}});   // -> result<StreamId>
//   auto first = room.history({.limit = 50});                   // the oldest 50, oldest first
//   auto last = room.history({.last = 20});                     // the newest 20, oldest first
//   auto sub = room.subscribe({.events = {"chat.message"},
//                              .on_data = [](const forrealtime::Event& e) { ... }});
//   sub.unsubscribe();
//
// Asynchronous forms take any Asio completion token and complete on the caller's executor (the
// handler's associated executor, else `get_executor()`, Realtime's internal loop), never
// inside the call (see async.hpp):
//
//   StreamId id = co_await room.async_emit("chat.message", data, asio::use_awaitable);  // throws
//   auto [ec, events] = co_await room.async_history({.last = 20}, as_tuple(use_awaitable));
//   room.async_emit("chat.message", data, [](boost::system::error_code ec, StreamId id) {});
//   std::future<StreamId> f = room.async_emit("chat.message", data, asio::use_future);
//   rt.async_emit_batch(items, asio::bind_executor(strand, [](EmitBatchResult r) {}));
//
// A callable taking `Result<T>` (or a plain one taking `EmitBatchResult`) is the callback form
// of earlier versions: it runs on a store thread, possibly before the call returns.
//
// Thread safety: every member function may be called from any thread. The blocking forms
// (`emit`, `history`, `emit_batch`) wait for the store: do not call them from a thread the
// store needs to answer (with the Redis store, inside a store callback); use the asynchronous
// forms there.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/assert/source_location.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include "forrealtime/errors.hpp"
#include "forrealtime/store.hpp"
#include "forrealtime/stream_id.hpp"

namespace spdlog {
class logger;
}

namespace forrealtime {

namespace detail {
class Hub;
class RealtimeCore;
}  // namespace detail

template <class T>
using Result = boost::system::result<T>;

/** A user event as stored and delivered. */
struct Event {
  StreamId id;
  std::string channel;
  std::string event;  // `namespace.name`
  boost::json::value data;
};

/** One event of a batch emit (`Realtime::async_emit_batch`). */
struct EmitItem {
  std::string channel = "default";
  std::string event;  // `namespace.name`
  boost::json::value data;
  /** Optional. A repeat of this key on this channel within `Options::idempotency_window`
   *  stores nothing and is answered with the first emit's id: retrying an emit whose outcome
   *  is unknown (`condition::outcome_unknown`) with the same key stores it at most once. At
   *  most 255 bytes of visible ASCII (0x21-0x7E). */
  std::string idempotency_key;
};

/** Why a batch emit failed. Compare `code` with the conditions of errors.hpp:
 *  - `invalid_input`: item `index` was refused (`why` says why, for a client to read); nothing
 *    of the batch was stored.
 *  - `outcome_unknown`: some item got no answer from the store in time; any item may have been
 *    stored. Retry the batch with the same idempotency keys.
 *  - any other store failure: item `index` was not stored; items of the batch that completed
 *    were (their ids are lost to the caller: use idempotency keys to retry safely). */
struct EmitError {
  boost::system::error_code code;
  std::size_t index = 0;
  std::string why;
};
/** All ids of a batch in item order, or why it failed. */
using EmitBatchResult = boost::system::result<std::vector<StreamId>, EmitError>;
/** What `EmitBatchResult::value()` throws on an error. */
[[noreturn]] void throw_exception_from_error(const EmitError& e, const boost::source_location& loc);
/** Checks an idempotency key: empty when fine, else why not. */
std::optional<std::string> check_idempotency_key(std::string_view key);

struct HistoryOptions {
  /** Keep about this many entries per channel (`MAXLEN ~`); 0 keeps all. */
  std::size_t max_length = 0;
  /** Drop a channel's stream this long after its last event; 0 never. */
  std::uint64_t expire_after_secs = 0;
};

/** A history query (PROTOCOL.md section 7). */
struct HistoryQuery {
  /** At most this many events (capped at 1000), the oldest of the range first. */
  std::size_t limit = 1000;
  /** Instead of `limit`: the newest `last` events of the range (1..1000), still returned oldest
   *  first ("the last 20 messages"). Over 1000, or together with a `limit` other than the
   *  default, is `errc::invalid_query`; 0 gives nothing. To go on live after them with no gap
   *  and no duplicate, subscribe from the newest one's id (`last_ack_<channel>`). */
  std::optional<std::size_t> last;
  /** Only events after this id (exclusive), for paging. */
  std::optional<StreamId> after;
  /** Only events at or after / at or before these times (ms since the epoch). */
  std::optional<std::uint64_t> start;
  std::optional<std::uint64_t> end;
};

/** Limits that protect the process from clients; every one is answered, never crashed on. */
struct Limits {
  std::size_t max_channels_per_connection = 100;
  /** A subscriber whose unsent output passes the soft limit is logged; past the hard limit it
   *  gets `reconnect` and is closed (it then replays from its last ack and loses nothing). */
  std::size_t queue_soft_bytes = 256 * 1024;
  std::size_t queue_hard_bytes = 4 * 1024 * 1024;
  /** Largest request body accepted by the gateway's emit endpoint (413 beyond). */
  std::size_t max_body_bytes = 1024 * 1024;
  /** Bytes of events a stream replays when it starts (from its `last_ack_*`), 0 for no cap: at
   *  the cap the stream ends with `reconnect` after the last whole event, and the client
   *  resumes from its acks (docs/protocol.md 13.7). At least one event is always sent. */
  std::size_t max_replay_bytes = 16 * 1024 * 1024;
};

/** The schema of event names and payloads. This one passes everything through; the typed
 *  schema builds on it. */
struct Schema {
  /** Checks a JSON payload for `event`; return an error to refuse the emit. */
  std::function<Result<void>(std::string_view event, const boost::json::value& data)> check;
  /** Optional, used instead of `check` when set: the same check, that also says why a payload
   *  is refused ("chat.message: /text: expected string, got number"). See schema.hpp. */
  std::function<Result<void>(std::string_view event, const boost::json::value& data,
                             std::string& why)>
      check_with_reason;
};

class Plugin;

/** How much the library logs; mirrors spdlog's levels without including spdlog. */
enum class LogLevel { trace, debug, info, warn, error, critical, off };

struct Options {
  /** Where events are kept; the embedded memory store when null. */
  std::shared_ptr<Store> store;
  Schema schema;
  HistoryOptions history;
  /** End each stream with `reconnect` after this long; 0 = unlimited. */
  std::chrono::seconds max_duration{0};
  /** A `ping` on every stream this often. */
  std::chrono::milliseconds ping_interval{30000};
  /** Where logs go; spdlog's default logger when null. */
  std::shared_ptr<spdlog::logger> logger;
  /** When set, the logger's level is set to it. */
  std::optional<LogLevel> verbosity;
  Limits limits;
  /** The `Access-Control-Allow-Origin` of the stream; empty sends none. */
  std::string allow_origin = "*";
  /** Browser origins allowed across origins, credentials included: a request's `Origin` found
   *  here is echoed with `Access-Control-Allow-Credentials: true` and `Vary: Origin` (`*` allows
   *  any origin without credentials). When set, it replaces `allow_origin`, and the gateway
   *  refuses emits whose `Origin` is neither listed nor its own. */
  std::vector<std::string> cors_origins;
  /** Worker threads for delivery in the embedded case (server-side subscribers, timers). */
  unsigned internal_threads = 1;
  /** How long an emit's idempotency key is remembered (`EmitItem::idempotency_key`). */
  std::chrono::seconds idempotency_window{600};
};

/** What a plugin gets: emit on any channel, the logger, the store. */
class PluginContext {
 public:
  using executor_type = boost::asio::any_io_executor;
  virtual ~PluginContext() = default;
  /** Emits a JSON payload (checked against the schema) on `channel`; the callback form. */
  virtual void async_emit(std::string_view channel, std::string_view event, boost::json::value data,
                          std::function<void(Result<StreamId>)> handler) = 0;
  /** The token form: completes with `(error_code, StreamId)` on the handler's executor, else
   *  `get_executor()`. */
  template <class Token>
  requires(!detail::callback_form<Token, Result<StreamId>>) auto async_emit(
      std::string_view channel, std::string_view event, boost::json::value data, Token&& token) {
    return detail::initiate<Result<StreamId>>(
        std::forward<Token>(token), get_executor(),
        [this, ch = std::string(channel), ev = std::string(event),
         d = std::move(data)](std::function<void(Result<StreamId>)> h) mutable {
          async_emit(ch, ev, std::move(d), std::move(h));
        });
  }
  /** Where token forms complete by default (the Realtime's internal loop). */
  virtual executor_type get_executor() { return boost::asio::system_executor(); }
  virtual spdlog::logger& logger() = 0;
};

/** A plugin: a name, and `init` called once when it is added to a `Realtime`. */
class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view name() const = 0;
  virtual void init(PluginContext& context) = 0;
  /** Called when the Realtime shuts down. */
  virtual void shutdown() {}
};

struct SubscribeOptions {
  /** Only these event names; all when empty. */
  std::vector<std::string> events;
  /** Called for each event, on an internal thread, in id order. */
  std::function<void(const Event&)> on_data;
  /** Deliver these past events first (then live ones, with no gap and no duplicate). The whole
   *  range up to the newest event is replayed, `limit` at a time. Without it the subscription
   *  is live from when it is armed, shortly after `subscribe()` returns, so an event emitted at
   *  once may precede it; `HistoryQuery{.after = id}` starts after an event you have. */
  std::optional<HistoryQuery> history;
  /** Called, before the replay, when events after `history.after` were trimmed away before
   *  they could be replayed: the replay starts at `oldest` and what lay between is gone
   *  (`history_lost` of the SSE protocol). Also after the store's live tail was lost and
   *  the subscription caught up from its last event. On an internal thread. */
  std::function<void(StreamId after, StreamId oldest)> on_history_lost;
};

/** Ends a server-side subscription when `unsubscribe()` is called or it is destroyed. */
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> stop) : stop_(std::move(stop)) {}
  Subscription(Subscription&& o) noexcept : stop_(std::move(o.stop_)) { o.stop_ = nullptr; }
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      unsubscribe();
      stop_ = std::move(o.stop_);
      o.stop_ = nullptr;
    }
    return *this;
  }
  ~Subscription() { unsubscribe(); }
  void unsubscribe() {
    if (stop_) std::exchange(stop_, nullptr)();
  }

 private:
  std::function<void()> stop_;
};

class Realtime;

/** One channel of a Realtime. Cheap to copy; valid while its Realtime lives. */
class Channel {
 public:
  using executor_type = boost::asio::any_io_executor;
  const std::string& name() const { return name_; }
  /** Where token forms complete when the handler has no executor: the internal loop. */
  executor_type get_executor() const;

  /** Emits `event` with `data`; completes with `(error_code, StreamId)`, the stored id. */
  template <class Token>
  requires(!detail::callback_form<Token, Result<StreamId>>) auto async_emit(std::string_view event,
                                                                            boost::json::value data,
                                                                            Token&& token) const {
    return detail::initiate<Result<StreamId>>(
        std::forward<Token>(token), get_executor(),
        [self = *this, ev = std::string(event),
         d = std::move(data)](std::function<void(Result<StreamId>)> h) mutable {
          self.async_emit(ev, std::move(d), std::move(h));
        });
  }
  /** The callback form: `handler` runs on a store thread, possibly before this returns. */
  void async_emit(std::string_view event, boost::json::value data,
                  std::function<void(Result<StreamId>)> handler) const;
  /** Emits and waits for the store. */
  Result<StreamId> emit(std::string_view event, boost::json::value data) const;
  /** Emits an already-encoded JSON payload text (validated and re-encoded). */
  Result<StreamId> emit_json(std::string_view event, std::string_view json) const;

  /** Reads history; completes with `(error_code, std::vector<Event>)`, oldest first. */
  template <class Token>
  requires(!detail::callback_form<Token, Result<std::vector<Event>>>) auto async_history(
      HistoryQuery query, Token&& token) const {
    return detail::initiate<Result<std::vector<Event>>>(
        std::forward<Token>(token), get_executor(),
        [self = *this,
         q = std::move(query)](std::function<void(Result<std::vector<Event>>)> h) mutable {
          self.async_history(std::move(q), std::move(h));
        });
  }
  /** The callback form: `handler` runs on a store thread, possibly before this returns. */
  void async_history(HistoryQuery query,
                     std::function<void(Result<std::vector<Event>>)> handler) const;
  /** Reads history and waits for the store. */
  Result<std::vector<Event>> history(HistoryQuery query = {}) const;

  /** Calls `on_data` for new events on this channel until the subscription ends. */
  Subscription subscribe(SubscribeOptions options) const;

 private:
  friend class Realtime;
  Channel(std::shared_ptr<detail::RealtimeCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}
  std::shared_ptr<detail::RealtimeCore> core_;
  std::string name_;
};

class Realtime {
 public:
  using executor_type = boost::asio::any_io_executor;
  explicit Realtime(Options options = {});
  ~Realtime();
  Realtime(const Realtime&) = delete;
  Realtime& operator=(const Realtime&) = delete;

  Channel channel(std::string name) const;
  /** Emits on channel `default`. */
  Result<StreamId> emit(std::string_view event, boost::json::value data) const {
    return channel("default").emit(event, std::move(data));
  }

  /** The internal loop (`Options::internal_threads` threads): where token forms complete
   *  when the handler has no executor of its own. Valid while the Realtime lives. */
  executor_type get_executor() const;

  /** Emits a batch, each item on its own channel and with its own idempotency key: every item
   *  is checked (channel, event name, schema, key) before any is stored, then all are appended
   *  together (pipelined on a store that can). Completes once with `(EmitBatchResult)`: every
   *  id in item order, or the error (see `EmitError`, which says which item and why; so no
   *  `error_code` first, and `co_await` returns the result rather than throwing). An empty
   *  batch completes with no ids. The HTTP emit endpoint is this call, in the callback form
   *  below. This token form completes on the handler's executor, else `get_executor()`. */
  template <class Token>
  requires(!detail::callback_form<Token, EmitBatchResult>) auto async_emit_batch(
      std::vector<EmitItem> items, Token&& token) const {
    return detail::initiate<EmitBatchResult>(
        std::forward<Token>(token), get_executor(),
        [this, i = std::move(items)](std::function<void(EmitBatchResult)> h) mutable {
          async_emit_batch(std::move(i), std::move(h));
        });
  }
  /** The callback form: a plain callable taking `EmitBatchResult` is called once, on a store
   *  thread, possibly before this returns. */
  void async_emit_batch(std::vector<EmitItem> items,
                        std::function<void(EmitBatchResult)> handler) const;
  /** The blocking form of `async_emit_batch` (not from a store thread). */
  EmitBatchResult emit_batch(std::vector<EmitItem> items) const;

  /** Adds a plugin and returns it with its type intact:
   *    auto& pg = rt.use<PostgresSync>(PostgresSyncOptions{...}); pg.start(); */
  template <class P, class... Args>
  P& use(Args&&... args) {
    auto p = std::make_shared<P>(std::forward<Args>(args)...);
    P& ref = *p;
    add_plugin(std::type_index(typeid(P)), std::move(p));
    return ref;
  }
  /** A plugin added with `use<P>`; throws std::out_of_range when there is none. */
  template <class P>
  P& plugin() const {
    return static_cast<P&>(find_plugin(std::type_index(typeid(P))));
  }

  const Options& options() const;
  Store& store() const;
  spdlog::logger& logger() const;

  /** Ends every open stream with `reconnect` (graceful shutdown); new ones are refused. */
  void shutdown();

  /** Internal: the shared state used by handle() and channels. */
  const std::shared_ptr<detail::RealtimeCore>& core() const { return core_; }

 private:
  void add_plugin(std::type_index type, std::shared_ptr<Plugin> plugin);
  Plugin& find_plugin(std::type_index type) const;
  std::shared_ptr<detail::RealtimeCore> core_;
};

}  // namespace forrealtime
