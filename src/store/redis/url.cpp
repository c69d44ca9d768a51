// parse_redis_url: `redis[s]://[[user]:password@]host[:port][/db]`, pure and strict, because a
// wrong Redis URL must fail at start rather than connect somewhere unexpected. Boost.URL does
// the RFC 3986 grammar and the percent-decoding; this file adds what a Redis URL allows on
// top of it (the scheme, a database number as the whole path, no query or fragment, a port in
// 1..65535, a host without spaces or control characters).
#include <charconv>

#include <boost/url/parse.hpp>

#include "forrealtime/redis_store.hpp"

namespace forrealtime {
namespace {

boost::system::error_code invalid() {
  return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
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
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return invalid();
  const auto& u = *parsed;
  // The scheme as written (rediss:// is TLS), and an authority.
  if ((u.scheme() != "redis" && u.scheme() != "rediss") || !u.has_authority() || u.has_query() ||
      u.has_fragment())
    return invalid();
  RedisEndpoint ep;
  ep.tls = u.scheme() == "rediss";

  // Path: /db (an empty path or a lone '/' means db 0); as written, so "/%33" is refused.
  std::string_view path = u.encoded_path();
  if (!path.empty() && path != "/" && !parse_number(path.substr(1), ep.db)) return invalid();

  // Userinfo: `user:password`, `:password`, or a lone token, which some tools write for the
  // password alone. An '@' inside either must be percent-encoded (the grammar refuses it raw).
  if (u.has_userinfo()) {
    if (u.has_password()) {
      ep.user = u.user();
      ep.password = u.password();
    } else {
      ep.password = u.user();
    }
    ep.has_password = true;
  }

  // Host: a name or IPv4 address as decoded, or an IPv6 address (written in brackets).
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      ep.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::name:
    case boost::urls::host_type::ipv4:
      ep.host = u.host();
      break;
    default:  // none, or an IPvFuture literal
      return invalid();
  }
  if (ep.host.empty()) return invalid();
  for (char c : ep.host)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '/' || c == '@') return invalid();

  if (u.has_port()) {
    unsigned p = 0;
    if (!parse_number(u.port(), p) || p == 0 || p > 65535) return invalid();
    ep.port = static_cast<std::uint16_t>(p);
  }
  return ep;
}

}  // namespace forrealtime
