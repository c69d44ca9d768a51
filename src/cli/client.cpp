// The HTTP client of the CLI's client commands: one connection, Beast for the HTTP, every
// operation bounded by --timeout (for `tail`, until the stream is open), an incremental SSE
// line reader for `tail`.
#include "cli/client.hpp"

#include <iostream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "core/query.hpp"

namespace forrealtime::cli {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

struct Target {
  std::string host, port, base;
};

bool parse_url(const std::string& url, Target& t) {
  auto u = boost::urls::parse_uri(url);
  if (!u || u->scheme() != "http" || u->host().empty()) {
    std::cerr << "error: --url must look like http://host:port (got '" << url << "')\n";
    return false;
  }
  t.host = u->host();
  t.port = u->has_port() ? std::string(u->port()) : "80";
  t.base = u->path();
  while (!t.base.empty() && t.base.back() == '/') t.base.pop_back();
  return true;
}

// A query value: everything but the unreserved characters and ':' (channel names read better
// with it, and a form keeps it as it is) percent-encoded, so '+' and '&' arrive as themselves.
std::string encode(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars + ':');
}

// Runs `body` on a fresh io_context; every socket operation in it carries the deadline of
// `o.timeout_secs`, so a gateway that accepts and never answers ends the command with
// "timed out" instead of a hang.
template <class Body>
int run_client(const ClientOptions& o, Body body) {
  int status = 1;
  asio::io_context ioc;
  asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e, int r) {
    if (!e) {
      status = r;
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const boost::system::system_error& se) {
      if (se.code() == boost::beast::error::timeout)
        std::cerr << "error: timed out after " << o.timeout_secs << "s waiting for " << o.url
                  << "\n";
      else
        std::cerr << "error: cannot reach " << o.url << ": " << se.what() << "\n";
    } catch (const std::exception& ex) {
      std::cerr << "error: cannot reach " << o.url << ": " << ex.what() << "\n";
    }
    status = 1;
  });
  ioc.run();
  return status;
}

std::chrono::seconds timeout_of(const ClientOptions& o) {
  return std::chrono::seconds(o.timeout_secs > 0 ? o.timeout_secs : 1);
}

// Resolves and connects within the timeout.
asio::awaitable<void> connect(boost::beast::tcp_stream& stream, const ClientOptions& o,
                              const Target& t) {
  tcp::resolver resolver(stream.get_executor());
  auto endpoints = co_await resolver.async_resolve(t.host, t.port, asio::use_awaitable);
  stream.expires_after(timeout_of(o));
  co_await stream.async_connect(endpoints, asio::use_awaitable);
}

int request(const ClientOptions& o, http::verb method, const std::string& path_and_query,
            const std::string& body) {
  Target t;
  if (!parse_url(o.url, t)) return 2;
  return run_client(o, [&](asio::io_context& ioc) -> asio::awaitable<int> {
    boost::beast::tcp_stream stream(ioc);
    co_await connect(stream, o, t);
    http::request<http::string_body> req{method, t.base + path_and_query, 11};
    req.set(http::field::host, t.host);
    req.set(http::field::user_agent, "forrealtime-cli");
    if (!o.token.empty()) req.set(http::field::authorization, "Bearer " + o.token);
    if (method == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    stream.expires_after(timeout_of(o));
    co_await http::async_write(stream, req, asio::use_awaitable);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    stream.expires_after(timeout_of(o));
    co_await http::async_read(stream, buf, res, asio::use_awaitable);
    std::cout << res.body() << "\n";
    if (res.result_int() >= 400) {
      std::cerr << "error: HTTP " << res.result_int() << "\n";
      co_return 1;
    }
    co_return 0;
  });
}

}  // namespace

int run_emit(const ClientOptions& o, const std::string& channel, const std::string& event,
             const std::string& json) {
  boost::system::error_code ec;
  auto data = boost::json::parse(json, ec);
  if (ec) {
    std::cerr << "error: the payload is not valid JSON: " << ec.message() << "\n";
    return 2;
  }
  boost::json::object body;
  body["channel"] = channel;
  body["event"] = event;
  body["data"] = std::move(data);
  return request(o, http::verb::post, "/api/emit", boost::json::serialize(body));
}

int run_history(const ClientOptions& o, const std::string& channel, int limit,
                const std::string& after, int last) {
  std::string q = "/api/history?channel=" + encode(channel);
  q += last > 0 ? "&last=" + std::to_string(last) : "&limit=" + std::to_string(limit);
  if (!after.empty()) q += "&after=" + encode(after);
  return request(o, http::verb::get, q, "");
}

int run_tail(const ClientOptions& o, const std::vector<std::string>& channels, int max_events) {
  Target t;
  if (!parse_url(o.url, t)) return 2;
  std::string q = t.base + "/api/realtime?";
  for (std::size_t i = 0; i < channels.size(); ++i)
    q += (i ? "&channel=" : "channel=") + encode(channels[i]);
  return run_client(o, [&](asio::io_context& ioc) -> asio::awaitable<int> {
    boost::beast::tcp_stream stream(ioc);
    co_await connect(stream, o, t);
    http::request<http::empty_body> req{http::verb::get, q, 11};
    req.set(http::field::host, t.host);
    req.set(http::field::accept, "text/event-stream");
    stream.expires_after(timeout_of(o));
    co_await http::async_write(stream, req, asio::use_awaitable);
    boost::beast::flat_buffer buf;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    stream.expires_after(timeout_of(o));
    co_await http::async_read_header(stream, buf, parser, asio::use_awaitable);
    if (parser.get().result_int() != 200) {
      std::cerr << "error: HTTP " << parser.get().result_int() << "\n";
      co_return 1;
    }
    // The stream is open: events may be minutes apart, so no deadline from here on.
    stream.expires_never();
    std::string pending;
    int seen = 0;
    char chunk[8192];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      auto [ec, n] =
          co_await http::async_read(stream, buf, parser, asio::as_tuple(asio::use_awaitable));
      if (ec && ec != http::error::need_buffer) break;
      pending.append(chunk, sizeof chunk - parser.get().body().size);
      std::size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!line.starts_with("data:")) continue;
        std::string_view data(line);
        data.remove_prefix(line.starts_with("data: ") ? 6 : 5);
        boost::system::error_code jec;
        auto v = boost::json::parse(data, jec);
        if (jec || !v.is_object()) continue;
        auto& obj = v.get_object();
        if (obj.contains("type")) {
          if (obj.at("type") == "connected") std::cerr << "connected: " << data << "\n";
          if (obj.at("type") == "error") std::cerr << "server error: " << data << "\n";
          continue;
        }
        std::cout << data << std::endl;
        if (max_events > 0 && ++seen >= max_events) co_return 0;
      }
    }
    std::cerr << "the stream ended\n";
    co_return 0;
  });
}

}  // namespace forrealtime::cli
