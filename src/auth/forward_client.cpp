// Forward auth over HTTP; see forward_client.hpp. One connection per call (no pool): the cache
// keeps calls rare, and a fresh connection cannot carry a previous answer's state.
#include "auth/forward_client.hpp"

#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
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

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// A call in progress and the requests waiting for its answer.
struct Flight {
  bool done = false;
  ForwardDecision result;
  std::vector<std::function<void(ForwardDecision)>> waiters;
};

}  // namespace

struct ForwardClient::State {
  std::string host, port, target, host_header;
  std::chrono::milliseconds timeout;
  DecisionCache cache;
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
  std::atomic<std::uint64_t> calls{0};

  struct Headers {
    std::optional<std::string> cookie, authorization, origin, forwarded_for;
  };

  asio::awaitable<ForwardDecision> call(std::string body, Headers h) {
    using K = ForwardDecision::Kind;
    calls++;
    auto ex = co_await asio::this_coro::executor;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    tcp::resolver resolver(ex);
    auto resolve_op = resolver.async_resolve(host, port, use_tuple);
    auto [rec, endpoints] = co_await std::move(resolve_op);
    if (rec) co_return ForwardDecision{K::unavailable, 0, "cannot resolve the auth service"};
    boost::beast::tcp_stream stream(ex);
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0))
      co_return ForwardDecision{K::unavailable, 0, "the auth service did not answer in time"};
    stream.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(left));
    auto connect_op = stream.async_connect(endpoints, use_tuple);
    auto [cec, ep] = co_await std::move(connect_op);
    if (cec == boost::beast::error::timeout)
      co_return ForwardDecision{K::unavailable, 0, "the auth service did not answer in time"};
    if (cec) co_return ForwardDecision{K::unavailable, 0, "cannot connect to the auth service"};
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
    req.set(bhttp::field::host, host_header);
    req.set(bhttp::field::user_agent, "forrealtime");
    req.set(bhttp::field::content_type, "application/json");
    if (h.cookie) req.set(bhttp::field::cookie, *h.cookie);
    if (h.authorization) req.set(bhttp::field::authorization, *h.authorization);
    if (h.origin) req.set(bhttp::field::origin, *h.origin);
    if (h.forwarded_for) req.set("X-Forwarded-For", *h.forwarded_for);
    req.keep_alive(false);
    req.body() = std::move(body);
    req.prepare_payload();
    auto write_op = bhttp::async_write(stream, req, use_tuple);
    auto [wec, wn] = co_await std::move(write_op);
    if (!wec) {
      boost::beast::flat_buffer buffer;
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024);
      auto read_op = bhttp::async_read(stream, buffer, parser, use_tuple);
      auto [ec, n] = co_await std::move(read_op);
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      if (!ec) {
        auto& res = parser.get();
        co_return interpret_answer(res.result_int(), res.body());
      }
      if (ec == boost::beast::error::timeout)
        co_return ForwardDecision{K::unavailable, 0, "the auth service did not answer in time"};
      co_return ForwardDecision{K::unavailable, 0,
                                "the auth service's answer is unreadable: " + ec.message()};
    }
    if (wec == boost::beast::error::timeout)
      co_return ForwardDecision{K::unavailable, 0, "the auth service did not answer in time"};
    co_return ForwardDecision{K::unavailable, 0, "cannot write to the auth service"};
  }

  // Waits for another request's call with the same key; completes on the caller's executor.
  asio::awaitable<ForwardDecision> join(std::shared_ptr<Flight> flight) {
    auto op = asio::async_initiate<decltype(asio::use_awaitable), void(ForwardDecision)>(
        [this, flight](auto handler) {
          using H = decltype(handler);
          auto ex = asio::get_associated_executor(handler);
          auto shared = std::make_shared<H>(std::move(handler));
          auto deliver = [ex, shared](ForwardDecision d) {
            asio::post(ex, [shared, d = std::move(d)]() mutable { std::move (*shared)(d); });
          };
          std::unique_lock lock(mu);
          if (flight->done) {
            auto d = flight->result;
            lock.unlock();
            deliver(std::move(d));
          } else {
            flight->waiters.push_back(std::move(deliver));
          }
        },
        asio::use_awaitable);
    co_return co_await std::move(op);
  }
};

ForwardClient::ForwardClient(const std::string& url, std::chrono::milliseconds timeout)
    : state_(std::make_shared<State>()) {
  auto u = boost::urls::parse_uri(url);
  if (!u) throw std::invalid_argument("--auth-url: not a URL: " + url);
  if (u->scheme() != "http")
    throw std::invalid_argument("--auth-url: only http:// is supported (put TLS in front)");
  if (u->encoded_host().empty()) throw std::invalid_argument("--auth-url: no host in " + url);
  state_->host = std::string(u->encoded_host());
  if (state_->host.starts_with('[') && state_->host.ends_with(']'))
    state_->host = state_->host.substr(1, state_->host.size() - 2);
  state_->port = u->has_port() ? std::string(u->port()) : "80";
  state_->host_header = std::string(u->encoded_host_and_port());
  state_->target = std::string(u->encoded_path());
  if (state_->target.empty()) state_->target = "/";
  if (u->has_query()) state_->target += "?" + std::string(u->encoded_query());
  if (timeout.count() <= 0) throw std::invalid_argument("--auth-timeout must be positive");
  state_->timeout = timeout;
}

ForwardClient::~ForwardClient() = default;

std::uint64_t ForwardClient::calls() const {
  return state_->calls.load();
}

asio::awaitable<ForwardDecision> ForwardClient::check(Operation op,
                                                      const std::vector<std::string>& channels,
                                                      const Request& req) {
  auto st = state_;  // the call outlives nothing it needs
  State::Headers h;
  auto get = [&](std::string_view name) -> std::optional<std::string> {
    if (!req.header) return std::nullopt;
    auto v = req.header(name);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  };
  h.cookie = get("cookie");
  h.authorization = get("authorization");
  h.origin = get("origin");
  h.forwarded_for = get("x-forwarded-for");
  auto key = cache_key(op, channels, h.cookie, h.authorization);
  if (auto hit = st->cache.get(key, steady_ms())) co_return *hit;
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(st->mu);
    auto& slot = st->flights[key];
    if (!slot) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    auto wait = st->join(flight);
    co_return co_await std::move(wait);
  }
  auto started = steady_ms();
  auto call = st->call(forward_body(op, channels), std::move(h));
  auto d = co_await std::move(call);
  st->cache.put(key, d, started);
  std::vector<std::function<void(ForwardDecision)>> waiters;
  {
    std::lock_guard lock(st->mu);
    flight->done = true;
    flight->result = d;
    waiters = std::move(flight->waiters);
    st->flights.erase(key);
  }
  for (auto& w : waiters) w(d);
  co_return d;
}

}  // namespace forrealtime::auth
