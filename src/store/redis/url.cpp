// parse_redis_url: `redis[s]://[[user]:password@]host[:port][/db]`, pure and strict, because a
// wrong Redis URL must fail at start rather than connect somewhere unexpected. Boost.URL does
// the RFC 3986 grammar and the percent-decoding; this file adds what a Redis URL allows on
// top of it (the scheme, a database number as the whole path, no query or fragment, a port in
// 1..65535, a host without spaces or control characters). parse_redis_sentinel_url:
// `redis[s]+sentinel://[userinfo@]host[:port],host[:port].../master-name[/db]`, each host checked
// as a one-host URL.
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

boost::system::result<RedisSentinelUrl> parse_redis_sentinel_url(std::string_view url) {
  // The authority lists several hosts, which RFC 3986 does not allow, so the list is split here
  // and each host is checked as the authority of a one-host URL (which also percent-decodes the
  // userinfo once).
  std::string_view scheme;
  for (std::string_view s : {"redis+sentinel://", "rediss+sentinel://"})
    if (url.starts_with(s)) scheme = s;
  if (scheme.empty()) return invalid();
  bool tls = scheme.starts_with("rediss");
  std::string_view rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid();  // the master name is required
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash + 1);
  std::string_view userinfo;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    userinfo = authority.substr(0, at + 1);
    authority = authority.substr(at + 1);
  }
  RedisSentinelUrl out;
  // /master-name[/db]
  auto name_end = path.find('/');
  out.master_name = std::string(path.substr(0, name_end));
  std::string_view db = name_end == std::string_view::npos ? "" : path.substr(name_end);
  if (out.master_name.empty()) return invalid();
  for (char c : out.master_name)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '%')
      return invalid();
  while (!authority.empty()) {
    auto comma = authority.find(',');
    std::string_view host = authority.substr(0, comma);
    authority = comma == std::string_view::npos ? "" : authority.substr(comma + 1);
    if (host.empty() || (comma != std::string_view::npos && authority.empty())) return invalid();
    // A host without a port gets the sentinels' default (a bracketed IPv6 address ends in ']').
    auto after_bracket = host.starts_with('[') ? host.find(']') : 0;
    if (after_bracket == std::string_view::npos) return invalid();
    auto colon = host.find(':', after_bracket);
    if (colon != std::string_view::npos && host.find(':', colon + 1) != std::string_view::npos)
      return invalid();
    std::string with_port(host);
    if (host.back() == ']' || host.find(':') == std::string_view::npos) with_port += ":26379";
    auto ep = parse_redis_url(std::string("redis://") + std::string(userinfo) + with_port +
                              std::string(db));
    if (!ep) return invalid();
    out.sentinels.emplace_back(ep->host, ep->port);
    if (out.sentinels.size() == 1) {
      out.node = std::move(*ep);
      out.node.host.clear();
      out.node.port = 0;
      out.node.tls = tls;
    }
  }
  if (out.sentinels.empty()) return invalid();
  return out;
}

}  // namespace forrealtime
