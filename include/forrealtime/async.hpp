// How forrealtime's asynchronous operations take Asio completion tokens.
//
// Every `async_*` member of the public API (Store, Channel, Realtime, PluginContext) has two
// forms. The token form takes any completion token (a callback `void(error_code, T)`,
// `boost::asio::use_awaitable`, `use_future`, `deferred`, `as_tuple(...)`,
// `bind_executor(...)`, ...) and completes on the caller's executor: the handler's associated
// executor, else the I/O object's `get_executor()`. It keeps that executor's work alive while
// the operation is pending and never runs the handler inside the initiating call (an
// immediate completion is posted, a later one dispatched). The callback form of earlier
// versions (a callable taking `result<T>`, or `EmitBatchResult`) stays: it runs on whichever
// thread the store answers on, possibly before the call returns; it is what stores implement
// and what the gateway's own paths call (no executor hop, no extra allocation).
//
// `initiate` below is the bridge: it turns the token's handler into such a callback.
// Operations are not cancellable (a bound cancellation slot is ignored): one that is pending
// when its store stops completes with `store_errc::stopped` (or `timeout`, for what was sent).
// Keep the handler's execution context alive until the operation completes (an io_context's
// `run()` does not return meanwhile: the operation holds work on it).
#pragma once

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace forrealtime::detail {

/** The state of the initiation running on this thread, if any. */
inline thread_local const void* current_initiation = nullptr;

template <class Token, class R>
constexpr bool returns_void() {
  if constexpr (std::is_invocable_v<std::decay_t<Token>&, R>)
    return std::is_void_v<std::invoke_result_t<std::decay_t<Token>&, R>>;
  else
    return false;
}

/** A token that is the callback form: a callable taking `R` and returning nothing (unlike
 *  `use_future` and `deferred`, which are callable too), with no executor of its own
 *  (`bind_executor(ex, f)` is a completion token). */
template <class Token, class R>
concept callback_form = returns_void<Token, R>() && std::is_same_v<
    boost::asio::associated_executor_t<std::decay_t<Token>, boost::asio::system_executor>,
    boost::asio::system_executor>;

/** The completion signature of an operation whose callback form takes `R`:
 *  `result<T>` completes with `(error_code, T)`, anything else with `(R)`. */
template <class R>
struct signature_of {
  using type = void(R);
};
template <class T>
struct signature_of<boost::system::result<T>> {
  using type = void(boost::system::error_code, T);
};

template <class Handler, class R>
void complete(Handler& handler, R&& r) {
  std::move(handler)(std::move(r));
}
template <class Handler, class T>
void complete(Handler& handler, boost::system::result<T>&& r) {
  if (r)
    std::move(handler)(boost::system::error_code{}, std::move(*r));
  else
    std::move(handler)(r.error(), T{});
}

template <class R>
struct Initiation {
  template <class Handler, class IoExecutor, class Start>
  void operator()(Handler&& handler, const IoExecutor& io_executor, Start start) const {
    using H = std::decay_t<Handler>;
    auto ex = boost::asio::get_associated_executor(handler, io_executor);
    using Work = boost::asio::executor_work_guard<decltype(ex)>;
    struct State {
      State(H&& h, Work&& w) : handler(std::move(h)), work(std::move(w)) {}
      H handler;
      Work work;
    };
    auto st = std::make_shared<State>(std::forward<Handler>(handler), Work(ex));
    // The handler and the work guard move into the call that runs on the handler's executor
    // and end there, after the handler: the completing thread (a store's) touches nothing of
    // that executor once it has handed the call over, since the handler may let its owner
    // destroy the io_context at once (a work guard released from the store's thread after
    // that was a use-after-free: a crash, or a hang in the next run of the loop).
    std::function<void(R)> callback = [st](R r) {
      const bool inside = current_initiation == st.get();
      auto ex = st->work.get_executor();
      auto call = [h = std::move(st->handler), w = std::move(st->work),
                   r = std::move(r)]() mutable {
        complete(h, std::move(r));
        w.reset();
      };
      // Inside the initiating call (on its thread, before it returned): post, never run here.
      if (inside)
        boost::asio::post(ex, std::move(call));
      else
        boost::asio::dispatch(ex, std::move(call));
    };
    struct Restore {
      const void* outer;
      ~Restore() { current_initiation = outer; }
    } restore{std::exchange(current_initiation, st.get())};
    std::move(start)(std::move(callback));
  }
};

/** `async_initiate` of an operation whose callback form takes `R`: calls
 *  `start(std::function<void(R)>)` (`start` owns the operation's arguments, so that a deferred
 *  operation may start after the caller's strings are gone) and completes the token's handler
 *  on its executor, else `io_executor`. */
template <class R, class Token, class IoExecutor, class Start>
auto initiate(Token&& token, const IoExecutor& io_executor, Start start) {
  return boost::asio::async_initiate<Token, typename signature_of<R>::type>(
      Initiation<R>{}, token, io_executor, std::move(start));
}

}  // namespace forrealtime::detail
