// The shared state behind a Realtime: options, store, hub, internal threads and plugins.
// Channels, handlers and plugins hold it by shared_ptr so that none outlives it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <typeindex>
#include <variant>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "forrealtime/realtime.hpp"
#include "hub/hub.hpp"

namespace forrealtime::detail {

class RealtimeCore final : public PluginContext {
 public:
  explicit RealtimeCore(Options options);
  ~RealtimeCore() override;

  /** Checks channel, event name and schema; nothing when the emit may go on. */
  boost::system::error_code check_emit(std::string_view channel, std::string_view event,
                                       const boost::json::value& data,
                                       std::string* why = nullptr) const;
  /** True when emits are checked against a schema: check_emit then needs the data itself
   *  (otherwise it reads only the channel and the event name). */
  bool checks_schema() const {
    return static_cast<bool>(options.schema.check_with_reason) ||
           static_cast<bool>(options.schema.check);
  }
  void async_emit(std::string_view channel, std::string_view event, boost::json::value data,
                  std::function<void(Result<StreamId>)> handler) override;
  /** Appends an already-checked and encoded event (with an optional idempotency key). */
  void async_append_encoded(std::string_view channel, std::string message,
                            std::function<void(Result<StreamId>)> handler,
                            std::string idempotency_key = {});
  /** Realtime::async_emit_batch. */
  void async_emit_batch(std::vector<EmitItem> items, std::function<void(EmitBatchResult)> handler);
  void async_history(std::string_view channel, HistoryQuery query,
                     std::function<void(Result<std::vector<Event>>)> handler);
  spdlog::logger& logger() override { return *log; }
  /** The internal loop's executor (kept after close(), when its loop is gone). */
  executor_type get_executor() override { return executor_; }

  Options options;
  std::shared_ptr<Store> store;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<Hub> hub;
  /** Runs server-side subscribers and internal timers. */
  std::unique_ptr<boost::asio::io_context> internal;
  std::atomic<bool> shutting_down{false};
  /** Set by close(): internal threads are gone, server-side subscribe is refused. */
  std::atomic<bool> closed{false};

  /** Stops plugins and internal threads and the store; idempotent. */
  void close();

  std::mutex plugins_mu;
  std::vector<std::pair<std::type_index, std::shared_ptr<Plugin>>> plugins;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  executor_type executor_;
  std::vector<std::thread> threads_;
};

/** Converts a history query to a store range; an error text when it makes no sense. */
std::variant<RangeQuery, std::string> to_range(const HistoryQuery& q);

}  // namespace forrealtime::detail
