// `forrealtime admin`: one HTTP request to the admin API, with a deadline, printed as a table
// (or as the JSON answer with --json).
#include "cli/admin.hpp"

#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace forrealtime::cli {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

struct Answer {
  unsigned status = 0;
  std::string body;
};

// 0 and the answer, or 2 after saying why the gateway could not be asked.
int ask(const AdminOptions& o, http::verb method, const std::string& target, Answer& out) {
  auto u = boost::urls::parse_uri(o.url);
  if (!u || u->scheme() != "http" || u->host().empty()) {
    std::cerr << "forrealtime admin: --url must look like http://host:port (got '" << o.url
              << "')\n";
    return 2;
  }
  std::string host = u->host(), port = u->has_port() ? std::string(u->port()) : "80";
  std::string base = u->path();
  while (!base.empty() && base.back() == '/') base.pop_back();
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    boost::beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(o.timeout_secs));
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host, port);
    stream.async_connect(endpoints, [&](boost::system::error_code e, auto) { ec = e; });
    ioc.run();
    if (ec) {
      std::cerr << "forrealtime admin: cannot reach " << o.url << ": " << ec.message() << "\n";
      return 2;
    }
    ioc.restart();
    http::request<http::string_body> req{method, base + target, 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "forrealtime-admin");
    if (!o.token.empty()) req.set(http::field::authorization, "Bearer " + o.token);
    req.prepare_payload();
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::async_write(stream, req, [&](boost::system::error_code e, std::size_t) {
      if (e) {
        ec = e;
        return;
      }
      http::async_read(stream, buf, res,
                       [&](boost::system::error_code e2, std::size_t) { ec = e2; });
    });
    ioc.run();
    if (ec) {
      std::cerr << "forrealtime admin: " << o.url << ": " << ec.message() << "\n";
      return 2;
    }
    out.status = res.result_int();
    out.body = std::move(res.body());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "forrealtime admin: cannot reach " << o.url << ": " << e.what() << "\n";
    return 2;
  }
}

std::string encode(const std::string& s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

}  // namespace

int run_admin(const AdminOptions& o, const std::string& what, const std::string& channel) {
  std::string target;
  http::verb method = http::verb::get;
  if (what == "stats") {
    target = "/api/admin/stats";
  } else if (what == "channels") {
    target = "/api/admin/channels";
  } else if (what == "channel" || what == "close") {
    if (channel.empty()) {
      std::cerr << "forrealtime admin " << what << ": name the channel\n";
      return 2;
    }
    target =
        (what == "close" ? "/api/admin/channel/close?channel=" : "/api/admin/channel?channel=") +
        encode(channel);
    if (what == "close") method = http::verb::post;
  } else if (what == "close-subject") {
    if (channel.empty()) {
      std::cerr << "forrealtime admin close-subject: name the subject (a token's sub)\n";
      return 2;
    }
    target = "/api/admin/subject/close?subject=" + encode(channel);
    method = http::verb::post;
  } else {
    std::cerr << "forrealtime admin: unknown command '" << what
              << "' (stats, channels, channel NAME, close NAME, close-subject SUB)\n";
    return 2;
  }
  Answer a;
  if (int rc = ask(o, method, target, a)) return rc;
  boost::system::error_code ec;
  auto v = boost::json::parse(a.body, ec);
  if (a.status >= 400 || ec || !v.is_object()) {
    std::cerr << "forrealtime admin " << what << ": HTTP " << a.status << ": " << a.body << "\n";
    return 1;
  }
  auto& obj = v.get_object();
  if (o.json || what == "stats") {
    std::cout << boost::json::serialize(v) << "\n";
  } else if (what == "channels") {
    std::cout << "subscribers  channel\n";
    for (auto& c : obj.at("channels").as_array()) {
      auto& co = c.as_object();
      std::string n = std::to_string(co.at("subscribers").to_number<std::uint64_t>());
      std::cout << std::string(n.size() < 11 ? 11 - n.size() : 0, ' ') << n << "  "
                << std::string_view(co.at("channel").as_string()) << "\n";
    }
  } else if (what == "channel") {
    for (auto& [k, val] : obj)
      std::cout << k << ": "
                << (val.is_string() ? std::string(val.get_string()) : boost::json::serialize(val))
                << "\n";
  } else {
    std::cout << "ended " << obj.at("closed").to_number<std::uint64_t>() << " stream(s) of "
              << (what == "close-subject" ? "subject " : "") << channel << "\n";
  }
  return 0;
}

}  // namespace forrealtime::cli
