// The JWK Set fetcher; see jwks_fetcher.hpp. Each fetch runs on an io_context of its own on the
// fetcher's thread: one connection, `GET`, a 1 MiB cap on the answer, the whole of it within the
// timeout.
#include "auth/jwks_fetcher.hpp"

#include <stdexcept>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace forrealtime::auth {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// GET over an open stream (plain or TLS); the body of a 200, or why not.
template <class Stream>
asio::awaitable<std::string> get(Stream& stream, const std::string& host, const std::string& target,
                                 bool& ok) {
  ok = false;
  bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "forrealtime");
  req.set(bhttp::field::accept, "application/json");
  req.keep_alive(false);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
  if (wec) co_return "cannot send the request: " + wec.message();
  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1024 * 1024);
  auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
  if (ec) co_return "no readable answer: " + ec.message();
  if (parser.get().result_int() != 200)
    co_return "answered " + std::to_string(parser.get().result_int());
  ok = true;
  co_return std::move(parser.get().body());
}

}  // namespace

JwksFetcher::JwksFetcher(Options options, const KeySet& base, std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)), log_(log ? std::move(log) : spdlog::default_logger()) {
  auto u = boost::urls::parse_uri(options_.url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty())
    throw std::invalid_argument("--jwks-url must be an http:// or https:// URL");
  scheme_ = std::string(u->scheme());
  host_ = std::string(u->host());
  port_ = u->has_port() ? std::string(u->port()) : (scheme_ == "https" ? "443" : "80");
  target_ = std::string(u->encoded_target());
  if (target_.empty()) target_ = "/";
  auto b = std::make_shared<KeySet>();
  b->add_all(base);
  base_ = b;
  keys_ = base_;
  thread_ = std::thread([this] { run(); });
}

JwksFetcher::~JwksFetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::shared_ptr<const KeySet> JwksFetcher::keys() const {
  std::lock_guard lock(mu_);
  return keys_;
}

bool JwksFetcher::refresh_soon() {
  std::lock_guard lock(mu_);
  if (wanted_) return true;
  if (std::chrono::steady_clock::now() - last_start_ < options_.min_interval) return false;
  wanted_ = true;
  cv_.notify_all();
  return true;
}

void JwksFetcher::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    last_start_ = std::chrono::steady_clock::now();
    wanted_ = false;
    lock.unlock();
    fetch_once();
    lock.lock();
    cv_.wait_for(lock, options_.refresh, [&] { return stop_ || wanted_; });
  }
}

void JwksFetcher::fetch_once() {
  fetches_++;
  asio::io_context io;
  std::string outcome;
  bool ok = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        tcp::resolver resolver(ex);
        auto [rec, endpoints] = co_await resolver.async_resolve(host_, port_, use_tuple);
        if (rec) {
          outcome = "cannot resolve " + host_;
          co_return;
        }
        boost::beast::tcp_stream stream(ex);
        stream.expires_after(options_.timeout);
        auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
        if (cec) {
          outcome = "cannot connect: " + cec.message();
          co_return;
        }
        std::string host_header = host_ + ":" + port_;
        if (scheme_ == "http") {
          outcome = co_await get(stream, host_header, target_, ok);
          co_return;
        }
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.set_default_verify_paths();
        ctx.set_verify_mode(asio::ssl::verify_peer);
        ctx.set_verify_callback(asio::ssl::host_name_verification(host_));
        asio::ssl::stream<boost::beast::tcp_stream> tls(std::move(stream), ctx);
        SSL_set_tlsext_host_name(tls.native_handle(), host_.c_str());
        auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (hec) {
          outcome = "TLS handshake failed: " + hec.message();
          co_return;
        }
        outcome = co_await get(tls, host_header, target_, ok);
      },
      asio::detached);
  io.run();
  if (!ok) {
    log_->warn("JWK Set from {}: {}; keeping the keys we have", options_.url, outcome);
    return;
  }
  auto next = std::make_shared<KeySet>();
  next->add_all(*base_);
  std::string why;
  if (!next->add_jwks(outcome, &why)) {
    log_->warn("JWK Set from {} refused: {}; keeping the keys we have", options_.url, why);
    return;
  }
  auto n = next->size() - base_->size();
  {
    std::lock_guard lock(mu_);
    keys_ = std::move(next);
  }
  generation_++;
  log_->info("JWK Set from {}: {} keys", options_.url, n);
}

}  // namespace forrealtime::auth
