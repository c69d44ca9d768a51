// The stream store interface: where events are kept, and how new ones are learned of.
//
// A store keeps one append-only stream per channel, with Redis-style ids that grow strictly.
// forrealtime ships two: the embedded memory store (`make_memory_store()`, the zero-setup
// default) and Redis (`make_redis_store()`). Implement `Store` to bring your own engine.
//
// Calling: each operation has a token form (async.hpp) that takes any Asio completion token
// and completes with `(error_code, T)` on the caller's executor (the handler's associated
// executor, else `get_executor()`), never inside the call:
//
//   store.async_latest("room:1", [](boost::system::error_code ec, StreamId id) { ... });
//   StreamId id = co_await store.async_latest("room:1", boost::asio::use_awaitable);  // throws
//   auto [ec, id] = co_await store.async_latest("room:1", as_tuple(use_awaitable));
//   std::future<StreamId> f = store.async_latest("room:1", boost::asio::use_future);
//
// and the callback form below, which is what a store implements (a callable taking
// `result<T>`, run on any thread). A class of your own that overrides `async_append` hides
// the token forms of that name when called through it: add `using Store::async_append;` (and
// the others), or call through `Store&`.
//
// Contract for implementers:
//  - Every `async_*` call completes exactly once, on any thread, possibly before it returns.
//    Completion handlers must not be invoked while the store holds a lock that another call
//    could need (callers may call back into the store from a handler).
//  - Ids per channel are strictly increasing; `async_append` returns the id it assigned, or
//    the first id of an earlier append with the same idempotency key (AppendOptions).
//  - An append that fails with `store_errc::timeout` may have been stored (the engine did not
//    answer, in time or at all); every other error means nothing was stored.
//  - `async_range` honours `RangeQuery::newest_first`: the newest `limit` entries of the range,
//    in descending id order (the caller reverses them), so "the last N" costs N entries.
//  - The tail: after `watch(channel, armed)` has called `armed`, every entry appended to that
//    channel afterwards (by this process or any other peer sharing the engine) is handed to
//    the sink's `on_entries`, in id order per channel, exactly once, until `unwatch(channel)`.
//    Entries may also be handed for channels that are not watched; the sink ignores them.
//    `watch`/`unwatch` are counted: a channel stays watched until as many unwatch as watch.
//  - `on_entries` is called from the store's thread(s); the sink must not block in it.
//  - Workers (optional): `add_worker(loop)` tells the store of an event loop run by exactly one
//    thread (each gateway worker, Realtime's internal loop). A store may then serve calls made
//    on that thread on that loop, without a thread hop (the Redis store keeps one pipelined
//    command connection per worker there), and complete them on that thread. `remove_worker`
//    is called once no thread runs the loop any more and before it is destroyed: the store
//    completes what it still had pending there and lets go of everything bound to that loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "forrealtime/async.hpp"
#include "forrealtime/stream_id.hpp"

namespace boost::asio {
class io_context;
}

namespace forrealtime {

/** One stored entry: its id and the `message` field, the JSON text
 *  `{"channel":C,"event":E,"data":D}` of PROTOCOL.md section 6. */
struct StoredEntry {
  StreamId id;
  std::string message;
};

struct AppendOptions {
  /** Approximate cap on the stream length (`MAXLEN ~ n`); 0 keeps everything. */
  std::size_t max_length = 0;
  /** Expire the whole stream this long after the last append; 0 never expires. */
  std::uint64_t expire_after_secs = 0;
  /** Not empty: an append to the same channel with the same key within `idempotency_window`
   *  of the first stores nothing and completes with the first append's id (whatever its
   *  message). Decided atomically with the append. A store that cannot keep this promise must
   *  fail such appends rather than ignore the key. */
  std::string idempotency_key{};
  std::chrono::milliseconds idempotency_window{600000};
};

/** An inclusive or exclusive id range, at most `limit` entries: the oldest of the range,
 *  oldest first; or with `newest_first`, the newest of the range, newest first. */
struct RangeQuery {
  StreamId start{};
  bool start_exclusive = false;
  StreamId end = StreamId::max();
  std::size_t limit = 1000;
  bool newest_first = false;
};

/** What is known about a channel's stream; all zero when the stream does not exist. */
struct StreamInfo {
  std::size_t length = 0;
  /** Oldest and newest ids still kept. */
  StreamId first{};
  StreamId last{};
  /** Entries ever appended (Redis `entries-added`); `length` when unknown. */
  std::uint64_t entries_added = 0;
  /** The greatest id removed by trimming or expiry, when the store knows it exactly. */
  StreamId max_trimmed{};
  bool max_trimmed_known = false;
};

/** Receives what the tail reads. Called from the store's thread(s). */
class TailSink {
 public:
  virtual ~TailSink() = default;
  virtual void on_entries(std::string_view channel, std::span<const StoredEntry> entries) = 0;
  /** The tail lost the engine (connection dropped): watched channels may miss entries
   *  until `on_tail_resumed`. The hub ends live streams with `reconnect` on this. */
  virtual void on_tail_error(boost::system::error_code ec) = 0;
  virtual void on_tail_resumed() {}
};

class Store {
 public:
  template <class T>
  using Result = boost::system::result<T>;
  using AppendHandler = std::function<void(Result<StreamId>)>;
  using RangeHandler = std::function<void(Result<std::vector<StoredEntry>>)>;
  using LatestHandler = std::function<void(Result<StreamId>)>;
  using InfoHandler = std::function<void(Result<StreamInfo>)>;
  using ArmedHandler = std::function<void(boost::system::error_code)>;
  using executor_type = boost::asio::any_io_executor;

  virtual ~Store() = default;

  // --- The token forms (async.hpp): complete with `(error_code, T)` on the caller's executor.

  /** `async_append` completing with `(error_code, StreamId)`. */
  template <class Token>
  requires(!detail::callback_form<Token, Result<StreamId>>) auto async_append(
      std::string_view channel, std::string message, AppendOptions options, Token&& token) {
    return detail::initiate<Result<StreamId>>(
        std::forward<Token>(token), get_executor(),
        [this, ch = std::string(channel), m = std::move(message),
         o = std::move(options)](AppendHandler h) mutable {
          async_append(ch, std::move(m), std::move(o), std::move(h));
        });
  }
  /** `async_range` completing with `(error_code, std::vector<StoredEntry>)`. */
  template <class Token>
  requires(!detail::callback_form<Token, Result<std::vector<StoredEntry>>>) auto async_range(
      std::string_view channel, RangeQuery query, Token&& token) {
    return detail::initiate<Result<std::vector<StoredEntry>>>(
        std::forward<Token>(token), get_executor(),
        [this, ch = std::string(channel), query](RangeHandler h) {
          async_range(ch, query, std::move(h));
        });
  }
  /** `async_latest` completing with `(error_code, StreamId)`. */
  template <class Token>
  requires(!detail::callback_form<Token, Result<StreamId>>) auto async_latest(
      std::string_view channel, Token&& token) {
    return detail::initiate<Result<StreamId>>(
        std::forward<Token>(token), get_executor(),
        [this, ch = std::string(channel)](LatestHandler h) { async_latest(ch, std::move(h)); });
  }
  /** `async_info` completing with `(error_code, StreamInfo)`. */
  template <class Token>
  requires(!detail::callback_form<Token, Result<StreamInfo>>) auto async_info(
      std::string_view channel, Token&& token) {
    return detail::initiate<Result<StreamInfo>>(
        std::forward<Token>(token), get_executor(),
        [this, ch = std::string(channel)](InfoHandler h) { async_info(ch, std::move(h)); });
  }
  /** Where a token form completes when its handler has no executor of its own: by default
   *  `boost::asio::system_executor` (Asio's system thread pool). */
  virtual executor_type get_executor() const { return boost::asio::system_executor(); }

  // --- The callback forms: what a store implements (see the contract above).

  /** Appends `message` (already-encoded JSON) to `channel`'s stream. */
  virtual void async_append(std::string_view channel, std::string message, AppendOptions options,
                            AppendHandler handler) = 0;
  /** Entries in a range: the first `limit` oldest first, or with `query.newest_first` the
   *  last `limit` newest first (Redis `XREVRANGE end start COUNT limit`). */
  virtual void async_range(std::string_view channel, RangeQuery query, RangeHandler handler) = 0;
  /** The newest id, `0-0` when the stream is empty or absent. */
  virtual void async_latest(std::string_view channel, LatestHandler handler) = 0;
  /** Length, first/last id and trimming facts of a stream (for `history_lost`). */
  virtual void async_info(std::string_view channel, InfoHandler handler) = 0;

  /** Sets the sink of the live tail (one per store; set once, before any watch). */
  virtual void start_tail(TailSink& sink) = 0;
  /** Starts delivering `channel`'s new entries to the sink; `armed` says from when. */
  virtual void watch(std::string_view channel, ArmedHandler armed) = 0;
  virtual void unwatch(std::string_view channel) = 0;

  /** An event loop run by exactly one thread, whose calls the store may serve on that loop
   *  (see the contract above). Thread-safe; the default does nothing. */
  virtual void add_worker(boost::asio::io_context& /*loop*/) {}
  /** The loop no longer runs and is about to be destroyed: complete the calls pending on it
   *  (`store_errc::stopped`, or `timeout` for what was sent) and release what is bound to it.
   *  Thread-safe; the default does nothing. */
  virtual void remove_worker(boost::asio::io_context& /*loop*/) {}

  /** True while the store can serve reads and appends. */
  virtual bool healthy() const = 0;
  /** A short name for logs and metrics ("memory", "redis"). */
  virtual std::string_view name() const = 0;
  /** Times the store's connection came back after a loss, for metrics; 0 for stores that
   *  have no connection. */
  virtual std::uint64_t reconnects() const { return 0; }
  /** Stops background work (the tail, reconnect timers); completes pending calls with errors. */
  virtual void stop() = 0;
};

/** Errors a store reports. Callers compare them with the conditions of errors.hpp
 *  (`condition::store_unavailable`, `outcome_unknown`, `limit_reached`, `store_failed`), never
 *  with these codes one by one; a store of your own should report these codes so that they do. */
enum class store_errc {
  unavailable = 1,  // the engine cannot be reached (nothing done)
  timeout,          // a command took longer than allowed (it may have been done)
  protocol,         // the engine answered something unexpected
  stopped,          // the store was stopped (nothing done)
  limit_reached,    // a configured bound refused it, e.g. too many channels (nothing done)
};
const boost::system::error_category& store_category() noexcept;
inline boost::system::error_code make_error_code(store_errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

}  // namespace forrealtime

template <>
struct boost::system::is_error_code_enum<forrealtime::store_errc> : std::true_type {};
