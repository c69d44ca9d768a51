// A command connection on a worker's event loop (see command_link.hpp).
#include "store/redis/command_link.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "store/redis/commands.hpp"
#include "store/redis/store_ops.hpp"

namespace forrealtime::redis {

namespace asio = boost::asio;
using boost::system::error_code;

CommandLink::CommandLink(asio::io_context& ioc, RedisEndpoint endpoint, const RedisOptions& options,
                         std::string client_name)
    : CommandLink(ioc, std::make_shared<Endpoint>(std::move(endpoint), nullptr), options,
                  std::move(client_name)) {}

CommandLink::CommandLink(asio::io_context& ioc, std::shared_ptr<const Endpoint> target,
                         const RedisOptions& options, std::string client_name)
    : ioc_(ioc),
      target_(std::move(target)),
      endpoint_(target_->current()),
      options_(options),
      client_name_(std::move(client_name)),
      backoff_(options.reconnect_min) {
  retry_timer_.emplace(ioc_);
}

error_code CommandLink::state_error() const {
  return state_ == State::stopped ? error_code(store_errc::stopped)
                                  : error_code(store_errc::unavailable);
}

template <class Send, class Handler>
void CommandLink::submit(Send send, Handler handler) {
  if (state_ == State::up && conn_ && conn_->is_open()) {
    send(conn_, std::move(handler));
    return flush_soon();
  }
  if (state_ != State::idle && state_ != State::connecting) return handler(state_error());
  waiting_.push_back(
      [this, send = std::move(send), handler = std::move(handler)](error_code ec) mutable {
        if (ec) return handler(ec);
        send(conn_, std::move(handler));
      });
}

void CommandLink::append(std::string key, std::string record_key, std::string message,
                         const AppendOptions& options, Store::AppendHandler handler) {
  submit(
      [this, key = std::move(key), record = std::move(record_key), message = std::move(message),
       options](const std::shared_ptr<Connection>& c, Store::AppendHandler h) mutable {
        send_append(c, script_sha_, std::move(key), std::move(record), std::move(message), options,
                    std::move(h), {options_.wait_replicas, options_.wait_timeout});
      },
      std::move(handler));
}

void CommandLink::range(std::string key, RangeQuery query, Store::RangeHandler handler) {
  submit(
      [key = std::move(key), query](const std::shared_ptr<Connection>& c, Store::RangeHandler h) {
        send_range(*c, key, query, std::move(h));
      },
      std::move(handler));
}

void CommandLink::latest(std::string key, Store::LatestHandler handler) {
  submit([key = std::move(key)](const std::shared_ptr<Connection>& c,
                                Store::LatestHandler h) { send_latest(*c, key, std::move(h)); },
         std::move(handler));
}

void CommandLink::info(std::string key, Store::InfoHandler handler) {
  submit([key = std::move(key)](const std::shared_ptr<Connection>& c,
                                Store::InfoHandler h) { send_info(*c, key, std::move(h)); },
         std::move(handler));
}

void CommandLink::exec(std::function<void(const std::shared_ptr<Connection>&)> send,
                       std::function<void(error_code)> fail) {
  submit([send = std::move(send)](const std::shared_ptr<Connection>& c,
                                  const std::function<void(error_code)>&) { send(c); },
         std::move(fail));
}

// Commands leave at once when nothing is in flight on the connection; otherwise they wait for
// the replies in flight and leave together right after them (the connection's read handler
// flushes once it handed those replies out). So an emit alone costs one write and one read to
// Redis, with no turn of the loop in between, and emits that arrive while Redis is answering
// share one write (and their replies one read), however many loop turns they came in.
void CommandLink::flush_soon() {
  if (conn_ && !conn_->awaiting_replies()) conn_->flush();
}

void CommandLink::start() {
  if (state_ != State::idle) return;
  connect();
}

void CommandLink::connect() {
  state_ = State::connecting;
  Connection::Config cfg{endpoint_, options_.connect_timeout, options_.command_timeout, false,
                         client_name_};
  cfg.target = target_;
  std::string load;
  encode_command(load, {"SCRIPT", "LOAD", append_script});
  cfg.handshake_extra.push_back({std::move(load), [this](const redisReply* r) {
                                   // Without it appends with idempotency keys send the script
                                   // whole (and fail with Redis's reason if scripts are refused).
                                   script_sha_ =
                                       !is_error(r) && text(r).size() == 40 ? text(r) : "";
                                 }});
  conn_ = std::make_shared<Connection>(ioc_, std::move(cfg));
  auto conn = conn_;
  auto self = shared_from_this();
  conn_->start(
      [self, conn](error_code ec) {
        if (self->conn_ != conn || self->state_ != State::connecting) return;
        auto waiting = std::move(self->waiting_);
        self->waiting_.clear();
        if (ec) {
          spdlog::debug("redis {}: {} cannot connect ({}), retrying in {} ms", self->endpoint_.host,
                        self->client_name_, ec.message(), self->backoff_.count());
          self->conn_.reset();
          self->state_ = State::down;
          for (auto& w : waiting) w(store_errc::unavailable);
          return self->on_lost();
        }
        self->state_ = State::up;
        self->backoff_ = self->options_.reconnect_min;
        for (auto& w : waiting) w({});
        conn->flush();
      },
      [self, conn](error_code ec) {
        if (self->conn_ != conn || self->state_ != State::up) return;
        spdlog::debug("redis {}: {} lost ({}), reconnecting", self->endpoint_.host,
                      self->client_name_, ec.message());
        self->conn_.reset();
        self->state_ = State::down;
        self->on_lost();
      });
}

// Down: reconnect after the backoff; calls meanwhile fail fast with `unavailable`.
void CommandLink::on_lost() {
  if (!retry_timer_) return;
  retry_timer_->expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
  retry_timer_->async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->state_ != State::down) return;
    self->connect();
  });
}

void CommandLink::reconnect_now() {
  if (state_ == State::idle || state_ == State::stopped) return;
  // Sent commands complete with `timeout` (they may have run on the old master), the rest with
  // `unavailable`; calls waiting for a connection wait for the new one.
  if (auto c = std::move(conn_)) c->close(store_errc::unavailable);
  if (retry_timer_) retry_timer_->cancel();
  backoff_ = options_.reconnect_min;
  connect();
}

void CommandLink::stop() {
  if (state_ == State::stopped) return;
  state_ = State::stopped;
  // Destroyed here, not with the link: the io_context may be gone by then.
  retry_timer_.reset();
  if (auto c = std::move(conn_)) c->close(store_errc::stopped);
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& w : waiting) w(store_errc::stopped);
}

}  // namespace forrealtime::redis
