// The Sentinel monitor (see sentinel.hpp).
#include "store/redis/sentinel.hpp"

#include <spdlog/spdlog.h>

#include "store/redis/commands.hpp"
#include "store/redis/sentinel_reply.hpp"

namespace forrealtime::redis {

namespace asio = boost::asio;
using boost::system::error_code;

Sentinel::Sentinel(asio::io_context& ioc, RedisSentinelUrl url, const RedisOptions& options,
                   std::shared_ptr<Endpoint> target, std::function<void()> on_moved)
    : ioc_(ioc),
      url_(std::move(url)),
      opt_(options),
      target_(std::move(target)),
      on_moved_(std::move(on_moved)),
      ask_timer_(ioc),
      sub_timer_(ioc) {
  for (auto& [host, port] : url_.sentinels) {
    RedisEndpoint ep;
    ep.host = host;
    ep.port = port;
    ep.user = opt_.sentinel_user;
    ep.password = opt_.sentinel_password;
    ep.has_password = !opt_.sentinel_password.empty();
    ep.tls = url_.node.tls;
    sentinels_.push_back(std::make_shared<Endpoint>(std::move(ep), target_->tls()));
  }
}

Connection::Config Sentinel::config_for(std::size_t index, const char* name) const {
  Connection::Config cfg{sentinels_[index]->current(), opt_.connect_timeout, opt_.command_timeout,
                         false, name};
  cfg.target = sentinels_[index];
  return cfg;
}

void Sentinel::start() {
  auto weak = weak_from_this();
  target_->on_stale([weak, &ioc = ioc_] {
    asio::post(ioc, [weak] {
      if (auto self = weak.lock()) self->rediscover();
    });
  });
  rediscover();
  subscribe(0);
}

void Sentinel::stop() {
  stopped_ = true;
  target_->on_stale(nullptr);
  ask_timer_.cancel();
  sub_timer_.cancel();
  if (auto c = std::move(query_)) c->close(store_errc::stopped);
  if (auto c = std::move(sub_)) c->close(store_errc::stopped);
}

void Sentinel::rediscover() {
  if (stopped_) return;
  if (asking_) {
    ask_again_ = true;
    return;
  }
  asking_ = true;
  auto wait = last_ask_ + min_interval - std::chrono::steady_clock::now();
  ask_timer_.expires_after(std::max<std::chrono::steady_clock::duration>(wait, {}));
  ask_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->stopped_) return;
    self->last_ask_ = std::chrono::steady_clock::now();
    self->ask(0, 0);
  });
}

// Sentinel `index` is asked; on no answer the next one, round the list once, then again later.
void Sentinel::ask(std::size_t index, std::size_t tries) {
  if (stopped_) return;
  if (tries == sentinels_.size()) {
    spdlog::error("redis sentinel: no sentinel named the master '{}'; asking again",
                  url_.master_name);
    asking_ = false;
    ask_again_ = false;
    return rediscover();
  }
  auto next = [self = shared_from_this(), index, tries] {
    self->ask((index + 1) % self->sentinels_.size(), tries + 1);
  };
  query_ = std::make_shared<Connection>(ioc_, config_for(index, "forrealtime-sentinel"));
  auto conn = query_;
  query_->start(
      [self = shared_from_this(), conn, index, next](error_code ec) {
        if (self->query_ != conn || self->stopped_) return;
        if (ec) {
          spdlog::warn("redis sentinel {}:{}: cannot connect ({})", conn->node().host,
                       conn->node().port, ec.message());
          return next();
        }
        encode_command(conn->out(),
                       {"SENTINEL", "get-master-addr-by-name", self->url_.master_name});
        conn->expect([self, conn, next](Reply r, error_code ec) {
          if (self->query_ != conn || self->stopped_) return;
          self->query_.reset();
          conn->close(store_errc::stopped);
          auto master = ec ? std::nullopt : parse_master_addr(r.get());
          if (!master) {
            spdlog::warn("redis sentinel {}:{}: does not know the master '{}' ({})",
                         conn->node().host, conn->node().port, self->url_.master_name,
                         ec ? ec.message() : std::string(text(r.get())));
            return next();
          }
          self->adopt(master->host, master->port, "named by a sentinel");
          self->asking_ = false;
          if (std::exchange(self->ask_again_, false)) self->rediscover();
        });
        conn->flush();
      },
      [](error_code) {});
}

void Sentinel::subscribe(std::size_t index) {
  if (stopped_) return;
  sub_index_ = index % sentinels_.size();
  sub_ = std::make_shared<Connection>(ioc_, config_for(sub_index_, "forrealtime-sentinel-sub"));
  auto conn = sub_;
  auto again = [self = shared_from_this(), conn] {
    if (self->sub_ != conn || self->stopped_) return;
    self->sub_.reset();
    // Whatever happened meanwhile: ask, and listen on the next sentinel.
    self->rediscover();
    self->sub_timer_.expires_after(self->opt_.reconnect_min);
    self->sub_timer_.async_wait([self](error_code ec) {
      if (!ec && !self->stopped_) self->subscribe(self->sub_index_ + 1);
    });
  };
  sub_->start(
      [self = shared_from_this(), conn, again](error_code ec) {
        if (self->sub_ != conn || self->stopped_) return;
        if (ec) return again();
        conn->set_push([self, c = conn.get()](Reply r) {
          if (self->sub_.get() == c) self->on_push(r.get());
        });
        encode_command(conn->out(), {"SUBSCRIBE", "+switch-master"});
        conn->flush();
      },
      [again](error_code) { again(); });
}

void Sentinel::on_push(const redisReply* r) {
  if (auto master = parse_switch_master(r, url_.master_name))
    adopt(master->host, master->port, "+switch-master");
}

void Sentinel::adopt(const std::string& host, std::uint16_t port, std::string_view why) {
  if (!target_->set_address(host, port)) return;
  spdlog::warn("redis sentinel: the master '{}' is {}:{} ({}); reconnecting to it",
               url_.master_name, host, port, why);
  if (on_moved_) on_moved_();
}

}  // namespace forrealtime::redis
