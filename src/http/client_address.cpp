// The client's address behind trusted proxies; see client_address.hpp. Written by hand because
// the walk is a few lines and the two header grammars are small, and every byte of them is the
// client's (fuzz_forwarded holds the parsers to their contract).
#include "http/client_address.hpp"

#include <algorithm>
#include <charconv>

namespace forrealtime::gateway {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ip::address canonical(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

// An address as written, without a zone (`%eth0`): a zone names an interface of the writer's
// machine and would give one host many spellings.
std::optional<ip::address> plain_address(std::string_view s) {
  if (s.empty() || s.size() > 45 || s.find('%') != std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return canonical(a);
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_qdtext(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
         (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

TrustedProxies::Net make_net(const ip::address& a, unsigned prefix) {
  TrustedProxies::Net n;
  n.prefix = prefix;
  if (a.is_v4()) {
    n.v4 = true;
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
  } else {
    auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
  }
  return n;
}

bool host_bits_clear(const TrustedProxies::Net& n) {
  unsigned bits = n.v4 ? 32 : 128;
  for (unsigned i = n.prefix; i < bits; ++i)
    if (n.bytes[i / 8] & (0x80u >> (i % 8))) return false;
  return true;
}

bool in_net(const TrustedProxies::Net& n, const std::uint8_t* bytes) {
  unsigned full = n.prefix / 8, rest = n.prefix % 8;
  if (!std::equal(n.bytes.begin(), n.bytes.begin() + full, bytes)) return false;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff00u >> rest);
  return (n.bytes[full] & mask) == (bytes[full] & mask);
}

}  // namespace

std::optional<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries,
                                                    std::string& error) {
  TrustedProxies t;
  auto add = [&](std::string_view cidr) {
    auto slash = cidr.find('/');
    auto a = plain_address(cidr.substr(0, slash));
    if (!a) return false;
    unsigned bits = a->is_v4() ? 32 : 128;
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
      auto p = cidr.substr(slash + 1);
      if (p.empty() || p.size() > 3 ||
          !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
      std::from_chars(p.data(), p.data() + p.size(), prefix);
      // An IPv4-mapped network (::ffff:10.0.0.0/104) was made IPv4 by plain_address.
      bool mapped = a->is_v4() && cidr.find(':') != std::string_view::npos;
      if (mapped) {
        if (prefix < 96) return false;
        prefix -= 96;
      }
      if (prefix > bits) return false;
    }
    auto n = make_net(*a, prefix);
    if (!host_bits_clear(n)) return false;
    t.nets_.push_back(n);
    return true;
  };
  for (auto& raw : entries) {
    auto e = trim(raw);
    bool ok;
    if (equals_ignore_case(e, "loopback"))
      ok = add("127.0.0.0/8") && add("::1/128");
    else if (equals_ignore_case(e, "private"))
      ok = add("10.0.0.0/8") && add("172.16.0.0/12") && add("192.168.0.0/16") && add("fc00::/7");
    else
      ok = !e.empty() && add(e);
    if (!ok) {
      error = "trusted_proxies: '" + std::string(raw.substr(0, 100)) +
              "' is not an IPv4 or IPv6 address or network (a.b.c.d/n, x::/n with no bits set "
              "past n) nor 'loopback' or 'private'";
      return std::nullopt;
    }
  }
  return t;
}

bool TrustedProxies::contains(const ip::address& address) const {
  auto a = canonical(address);
  std::array<std::uint8_t, 16> bytes{};
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  } else {
    bytes = a.to_v6().to_bytes();
  }
  return std::any_of(nets_.begin(), nets_.end(),
                     [&](const Net& n) { return n.v4 == a.is_v4() && in_net(n, bytes.data()); });
}

std::optional<ip::address> parse_hop(std::string_view hop) {
  hop = trim(hop);
  if (hop.empty() || hop.size() > 64) return std::nullopt;
  if (hop.front() == '[') {
    auto close = hop.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto rest = hop.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && is_port(rest.substr(1)))) return std::nullopt;
    auto a = plain_address(hop.substr(1, close - 1));
    // Brackets hold IPv6 only; IPv4-mapped is IPv6 written, IPv4 once canonical.
    if (!a || hop.substr(1, close - 1).find(':') == std::string_view::npos) return std::nullopt;
    return a;
  }
  if (auto a = plain_address(hop)) return a;
  // IPv4 with a port (some proxies write it so).
  auto colon = hop.find(':');
  if (colon == std::string_view::npos || hop.find(':', colon + 1) != std::string_view::npos)
    return std::nullopt;
  if (!is_port(hop.substr(colon + 1))) return std::nullopt;
  auto a = plain_address(hop.substr(0, colon));
  if (!a || !a->is_v4()) return std::nullopt;
  return a;
}

std::vector<std::string_view> x_forwarded_for_hops(const std::vector<std::string_view>& values) {
  std::vector<std::string_view> hops;
  for (auto v : values) {
    while (true) {
      auto comma = v.find(',');
      auto h = trim(v.substr(0, comma));
      if (!h.empty()) hops.push_back(h);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return hops;
}

std::optional<std::vector<std::string>> forwarded_for_hops(
    const std::vector<std::string_view>& values) {
  std::vector<std::string> hops;
  for (auto v : values) {
    std::size_t i = 0, n = v.size();
    auto skip_ows = [&] {
      while (i < n && (v[i] == ' ' || v[i] == '\t')) ++i;
    };
    // One element per turn: pairs separated by ';', up to a ',' or the end.
    while (true) {
      std::optional<std::string> for_value;
      bool element_empty = true;
      while (true) {
        skip_ows();
        if (i == n || v[i] == ',') break;
        if (v[i] == ';') {
          ++i;
          continue;
        }
        auto start = i;
        while (i < n && is_tchar(static_cast<unsigned char>(v[i]))) ++i;
        auto name = v.substr(start, i - start);
        if (name.empty() || i == n || v[i] != '=') return std::nullopt;
        ++i;
        std::string value;
        if (i < n && v[i] == '"') {
          ++i;
          bool closed = false;
          while (i < n) {
            auto c = static_cast<unsigned char>(v[i]);
            if (c == '"') {
              closed = true;
              ++i;
              break;
            }
            if (c == '\\') {
              if (i + 1 == n) return std::nullopt;
              auto e = static_cast<unsigned char>(v[i + 1]);
              if (!(e == '\t' || (e >= 0x20 && e != 0x7f))) return std::nullopt;
              value.push_back(static_cast<char>(e));
              i += 2;
              continue;
            }
            if (!is_qdtext(c)) return std::nullopt;
            value.push_back(static_cast<char>(c));
            ++i;
          }
          if (!closed) return std::nullopt;
        } else {
          auto vs = i;
          while (i < n && is_tchar(static_cast<unsigned char>(v[i]))) ++i;
          if (i == vs) return std::nullopt;
          value.assign(v.substr(vs, i - vs));
        }
        element_empty = false;
        if (equals_ignore_case(name, "for")) {
          // A parameter occurs once per element (RFC 7239 section 4).
          if (for_value) return std::nullopt;
          for_value = std::move(value);
        }
        skip_ows();
        if (i < n && v[i] != ';' && v[i] != ',') return std::nullopt;
      }
      if (!element_empty) hops.push_back(for_value.value_or(std::string()));
      if (i == n) break;
      ++i;  // the ','
    }
  }
  return hops;
}

ClientAddress client_address(const TrustedProxies& trusted, const ip::address& raw_peer,
                             ForwardedHeader header, const std::vector<std::string_view>& values) {
  auto peer = canonical(raw_peer);
  ClientAddress out;
  out.address = peer.to_string();
  out.chain = out.address;
  if (trusted.empty() || !trusted.contains(peer)) return out;
  // The hops, each parsed once: nothing where a hop is not an address.
  std::vector<std::optional<ip::address>> hops;
  if (header == ForwardedHeader::x_forwarded_for) {
    for (auto h : x_forwarded_for_hops(values)) hops.push_back(parse_hop(h));
  } else if (auto f = forwarded_for_hops(values)) {
    for (auto& h : *f) hops.push_back(parse_hop(h));
  }
  if (hops.empty()) return out;
  std::string chain;
  for (auto& h : hops) {
    chain += h ? h->to_string() : std::string("unknown");
    chain += ", ";
  }
  out.chain = chain + out.chain;
  // From the right: each trusted hop speaks for the one on its left. A hop that is not an
  // address stops the walk at the trusted hop that wrote it.
  auto current = peer;
  std::size_t walked = 0;
  for (auto it = hops.rbegin(); it != hops.rend() && walked < kMaxHops; ++it, ++walked) {
    if (!*it) break;
    current = **it;
    if (!trusted.contains(current)) break;
  }
  out.address = current.to_string();
  out.forwarded = current != peer;
  return out;
}

std::optional<ForwardedHeader> parse_forwarded_header(std::string_view name) {
  if (equals_ignore_case(name, "x-forwarded-for")) return ForwardedHeader::x_forwarded_for;
  if (equals_ignore_case(name, "forwarded")) return ForwardedHeader::forwarded;
  return std::nullopt;
}

}  // namespace forrealtime::gateway
