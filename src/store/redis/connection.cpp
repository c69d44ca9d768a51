// The Asio shell of one Redis connection (see connection.hpp).
#include "store/redis/connection.hpp"

#include <algorithm>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

namespace forrealtime::redis {

namespace asio = boost::asio;
using boost::system::error_code;

Connection::Connection(asio::io_context& ioc, Config config)
    : ioc_(ioc),
      config_(std::move(config)),
      resolver_(ioc),
      socket_(ioc),
      connect_timer_(ioc),
      tick_timer_(ioc) {
  if (config_.target) config_.endpoint = config_.target->current();
}

Connection::~Connection() = default;

void Connection::start(Handler done, Handler on_lost) {
  done_ = std::move(done);
  on_lost_ = std::move(on_lost);
  auto self = shared_from_this();
  if (config_.endpoint.host.empty()) {
    // Sentinel, before any sentinel named the master: nowhere to go yet.
    asio::post(ioc_, [self] { self->fail(store_errc::unavailable); });
    return;
  }
  connect_timer_.expires_after(config_.connect_timeout);
  connect_timer_.async_wait([self](error_code ec) {
    if (ec || self->closed_ || self->open_) return;
    self->fail(store_errc::timeout);
  });
  resolver_.async_resolve(config_.endpoint.host, std::to_string(config_.endpoint.port),
                          [self](error_code ec, asio::ip::tcp::resolver::results_type results) {
                            if (self->closed_) return;
                            if (ec) return self->fail(store_errc::unavailable);
                            asio::async_connect(
                                self->socket_, results,
                                [self](error_code ec, const asio::ip::tcp::endpoint&) {
                                  if (self->closed_) return;
                                  if (ec) return self->fail(store_errc::unavailable);
                                  self->on_tcp_connected();
                                });
                          });
}

// rediss://: the TLS handshake before anything else. The certificate must chain to the
// context's CAs and name the host dialled (unless verification is off in the context).
void Connection::on_tcp_connected() {
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  // The connect made Asio's reactor watch the socket for writability too (EPOLLOUT, edge-
  // triggered, and it stays registered): every ACK of our writes would then wake the loop for
  // nothing (about 0.4 wake-ups per command at moderate rates, issue 15). Registering the
  // descriptor again asks for readability only; a write that finds the socket buffer full
  // still adds EPOLLOUT while it waits.
  {
    error_code ec;
    auto protocol = socket_.local_endpoint(ec).protocol();
    if (!ec) {
      auto fd = socket_.release(ec);
      if (!ec) socket_.assign(protocol, fd, ec);
      if (ec) return fail(store_errc::unavailable);
    }
  }
  // Writes are tried at once, without the reactor (flush), and fall back to an asynchronous
  // write only for what the socket did not take.
  socket_.non_blocking(true, ignored);
  auto* ctx = config_.target ? config_.target->tls().get() : nullptr;
  if (!ctx) return on_connected();
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *ctx);
  // OpenSSL checks the name (or address) during verification, so that a mismatch is reported
  // as one ("hostname mismatch"). SNI carries names only (RFC 6066).
  const auto& host = config_.endpoint.host;
  SSL* ssl = tls_->native_handle();
  error_code addr_ec;
  asio::ip::make_address(host, addr_ec);
  if (addr_ec) {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  }
  auto self = shared_from_this();
  tls_->async_handshake(asio::ssl::stream_base::client, [self](error_code ec) {
    if (self->closed_) return;
    if (ec) {
      long verify = SSL_get_verify_result(self->tls_->native_handle());
      spdlog::error("redis {}:{}: TLS handshake failed: {}{}{}", self->config_.endpoint.host,
                    self->config_.endpoint.port, ec.message(), verify != X509_V_OK ? ": " : "",
                    verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "");
      return self->fail(store_errc::unavailable);
    }
    self->on_connected();
  });
}

void Connection::on_connected() {
  connected_ = true;
  read_loop();
  tick_loop();

  // The handshake, pipelined. Any error reply fails the connection: a wrong password or db
  // is not something retrying on this connection fixes.
  auto self = shared_from_this();
  auto check = [self](Reply r, error_code ec) {
    if (ec || self->closed_) return;
    if (is_error(r.get())) {
      spdlog::warn("redis {}:{}: handshake refused: {}", self->config_.endpoint.host,
                   self->config_.endpoint.port, text(r.get()));
      self->fail(store_errc::unavailable);
    }
  };
  const auto& ep = config_.endpoint;
  if (ep.has_password) {
    if (ep.user.empty())
      encode_command(out(), {"AUTH", ep.password});
    else
      encode_command(out(), {"AUTH", ep.user, ep.password});
    expect(check);
  }
  if (ep.db != 0) {
    encode_command(out(), {"SELECT", std::to_string(ep.db)});
    expect(check);
  }
  if (!config_.client_name.empty()) {
    encode_command(out(), {"CLIENT", "SETNAME", config_.client_name});
    // Names are cosmetic: a server that refuses CLIENT (ACLs) is still usable; anything that
    // makes every command fail (NOAUTH) is caught by the PING below.
    expect([self](Reply r, error_code ec) {
      if (ec || self->closed_ || !is_error(r.get())) return;
      spdlog::debug("redis {}:{}: CLIENT SETNAME refused: {}", self->config_.endpoint.host,
                    self->config_.endpoint.port, text(r.get()));
    });
  }
  if (config_.want_client_id) {
    encode_command(out(), {"CLIENT", "ID"});
    expect([self](Reply r, error_code ec) {
      if (ec || self->closed_) return;
      long long id = -1;
      if (!is_error(r.get()) && to_int(r.get(), id)) {
        self->client_id_ = id;
      } else {
        spdlog::warn(
            "redis {}:{}: CLIENT ID refused ({}); watch changes wait for the block timeout",
            self->config_.endpoint.host, self->config_.endpoint.port,
            is_error(r.get()) ? text(r.get()) : std::string_view("not an integer"));
      }
    });
  }
  if (config_.target && config_.target->require_master()) {
    // Sentinel: the node we were told is the master may have been demoted since (a failover
    // in progress); a replica would refuse every write with READONLY.
    encode_command(out(), {"ROLE"});
    expect([self](Reply r, error_code ec) {
      if (ec || self->closed_) return;
      auto role = is_array(r.get()) && size(r.get()) > 0 ? text(at(r.get(), 0)) : text(r.get());
      if (role == "master") return;
      spdlog::warn("redis {}:{}: not the master (ROLE answered '{}'); asking the sentinels again",
                   self->config_.endpoint.host, self->config_.endpoint.port, role);
      self->config_.target->report_stale();
      self->fail(store_errc::unavailable);
    });
  }
  for (auto& extra : config_.handshake_extra) {
    out().append(extra.command);
    expect([self, cb = extra.on_reply](Reply r, error_code ec) {
      if (ec || self->closed_) return;
      cb(r.get());
    });
  }
  // The last reply of the handshake: PING answers once everything before it has. It must be
  // PONG: a server that wants AUTH answers every command, PING included, with NOAUTH, and a
  // connection that cannot run commands is not open (defect 8: it used to count as healthy).
  encode_command(out(), {"PING"});
  expect([self](Reply r, error_code ec) {
    if (ec || self->closed_) return;
    if (text(r.get()) != "PONG" || is_error(r.get())) {
      spdlog::error("redis {}:{}: handshake refused: PING answered '{}'{}",
                    self->config_.endpoint.host, self->config_.endpoint.port, text(r.get()),
                    text(r.get()).starts_with("NOAUTH")
                        ? " (the server requires a password: give it in the URL, "
                          "redis://[user]:password@host)"
                        : "");
      return self->fail(store_errc::unavailable);
    }
    self->open_ = true;
    self->connect_timer_.cancel();
    if (auto done = std::move(self->done_)) done({});
  });
  flush();
}

void Connection::expect(Callback cb, std::chrono::milliseconds extra) {
  if (config_.target && config_.target->require_master()) {
    // Sentinel: a write refused with READONLY means this node was demoted (a failover): the
    // connection goes (it reconnects to the master the sentinels name) and they are asked.
    cb = [weak = weak_from_this(), cb = std::move(cb)](Reply r, error_code ec) {
      if (!ec && r && is_error(r.get()) && text(r.get()).starts_with("READONLY")) {
        if (auto self = weak.lock()) {
          spdlog::warn("redis {}:{}: READONLY: the node is no longer the master",
                       self->config_.endpoint.host, self->config_.endpoint.port);
          asio::post(self->ioc_, [self] { self->fail(store_errc::unavailable); });
        }
      }
      cb(std::move(r), ec);
    };
  }
  pipeline_.expect(std::move(cb), Pipeline::Clock::now() + config_.command_timeout + extra);
}

void Connection::flush() {
  if (writing_ || closed_ || !connected_ || !pipeline_.has_output()) return;
  pipeline_.take_output(wbuf_);
  std::size_t done = 0;
  if (!tls_) {
    // One send now: no write operation, no completion handler queued (which would cost the
    // loop one more turn and an epoll_wait), in the usual case of a socket with room.
    error_code ec;
    done = socket_.write_some(asio::buffer(wbuf_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      done = 0;
    } else if (ec) {
      // Failed here, inside a caller's call: the commands complete from the loop, not in it.
      writing_ = true;
      asio::post(ioc_, [self = shared_from_this()] {
        self->writing_ = false;
        self->fail(store_errc::unavailable);
      });
      return;
    }
    if (done == wbuf_.size()) return;
  }
  writing_ = true;
  auto self = shared_from_this();
  auto written = [self](error_code ec, std::size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    if (ec) return self->fail(store_errc::unavailable);
    self->flush();
  };
  if (tls_)
    asio::async_write(*tls_, asio::buffer(wbuf_), std::move(written));
  else
    asio::async_write(socket_, asio::buffer(wbuf_) + done, std::move(written));
}

void Connection::read_loop() {
  auto self = shared_from_this();
  auto got = [self](error_code ec, std::size_t n) {
    if (self->closed_) return;
    if (ec) return self->fail(store_errc::unavailable);
    if (auto perr = self->pipeline_.on_bytes(self->rbuf_.data(), n)) return self->fail(perr);
    if (self->closed_) return;
    self->flush();
    self->read_loop();
  };
  if (tls_)
    tls_->async_read_some(asio::buffer(rbuf_), std::move(got));
  else
    socket_.async_read_some(asio::buffer(rbuf_), std::move(got));
}

void Connection::tick_loop() {
  auto interval = std::clamp(config_.command_timeout / 4, std::chrono::milliseconds(10),
                             std::chrono::milliseconds(250));
  tick_timer_.expires_after(interval);
  auto self = shared_from_this();
  tick_timer_.async_wait([self](error_code ec) {
    if (ec || self->closed_) return;
    if (self->pipeline_.on_tick(Pipeline::Clock::now(), self->config_.command_timeout)) {
      spdlog::warn("redis {}:{}: no reply for {} ms, dropping the connection",
                   self->config_.endpoint.host, self->config_.endpoint.port,
                   2 * self->config_.command_timeout.count());
      return self->fail(store_errc::timeout);
    }
    if (self->closed_) return;
    self->tick_loop();
  });
}

void Connection::close(error_code ec) {
  if (closed_) return;
  closed_ = true;
  open_ = false;
  done_ = nullptr;
  on_lost_ = nullptr;
  error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  connect_timer_.cancel();
  tick_timer_.cancel();
  pipeline_.fail_all(ec);
}

void Connection::fail(error_code ec) {
  if (closed_) return;
  auto done = std::move(done_);
  auto lost = std::move(on_lost_);
  bool was_open = open_;
  // Queued commands learn that Redis is gone, whatever the cause found here.
  close(store_errc::unavailable);
  // Sentinel: the master may have moved; the monitor asks (at most every 200 ms).
  if (config_.target && config_.target->require_master()) config_.target->report_stale();
  if (done)
    done(ec);
  else if (was_open && lost)
    lost(ec);
}

}  // namespace forrealtime::redis
