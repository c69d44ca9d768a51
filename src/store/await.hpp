// Awaitable forms of the Store's callback API: `co_await store_latest(store, ch)` resumes the
// coroutine on its own executor whatever thread the store completes on.
#pragma once

#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "forrealtime/store.hpp"

namespace forrealtime::detail {

/** Wraps a store call `start(callback)` whose callback takes `Store::Result<T>`. */
template <class T, class Start>
boost::asio::awaitable<Store::Result<T>> await_store(Start start) {
  // Named, not a temporary of the co_await expression: GCC 12 destroys such temporaries twice.
  auto op =
      boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Store::Result<T>)>(
          [start = std::move(start)](auto handler) mutable {
            using H = decltype(handler);
            auto ex = boost::asio::get_associated_executor(handler);
            auto shared = std::make_shared<H>(std::move(handler));
            start([ex, shared](Store::Result<T> r) mutable {
              boost::asio::post(
                  ex, [shared, r = std::move(r)]() mutable { std::move (*shared)(std::move(r)); });
            });
          },
          boost::asio::use_awaitable);
  co_return co_await std::move(op);
}

}  // namespace forrealtime::detail
