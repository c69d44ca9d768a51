// parse_redis_url: `redis://[[user]:password@]host[:port][/db]`, pure and strict, because a
// wrong Redis URL must fail at start rather than connect somewhere unexpected.
#include <charconv>

#include "forrealtime/redis_store.hpp"

namespace forrealtime {
namespace {

boost::system::error_code invalid() {
  return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int h = hex(in[i + 1]), l = hex(in[i + 2]);
    if (h < 0 || l < 0) return false;
    out.push_back(static_cast<char>(h * 16 + l));
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

boost::system::result<RedisEndpoint> parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) return invalid();
  std::string_view rest = url.substr(scheme.size());
  RedisEndpoint ep;

  // Path: /db (an empty path or a lone '/' means db 0).
  std::string_view authority = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    std::string_view path = rest.substr(slash + 1);
    if (!path.empty() && !parse_number(path, ep.db)) return invalid();
  }
  if (authority.find_first_of("?#") != std::string_view::npos) return invalid();

  // Userinfo: the last '@' separates it (a password may hold an encoded '@' only).
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      // redis://password@host is what some tools write; treat a lone token as the password.
      if (!percent_decode(userinfo, ep.password)) return invalid();
    } else {
      if (!percent_decode(userinfo.substr(0, colon), ep.user)) return invalid();
      if (!percent_decode(userinfo.substr(colon + 1), ep.password)) return invalid();
    }
    ep.has_password = true;
  }

  // Host and port; IPv6 in brackets.
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid();
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid();
      port = after.substr(1);
      if (port.empty()) return invalid();
    }
  } else if (auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return invalid();
  }
  if (host.empty()) return invalid();
  for (char c : host)
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@') return invalid();
  ep.host = std::string(host);
  if (!port.empty()) {
    unsigned p = 0;
    if (!parse_number(port, p) || p == 0 || p > 65535) return invalid();
    ep.port = static_cast<std::uint16_t>(p);
  }
  return ep;
}

}  // namespace forrealtime
