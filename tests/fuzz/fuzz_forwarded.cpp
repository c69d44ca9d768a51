// X-Forwarded-For and RFC 7239 Forwarded from a trusted proxy (http/client_address.hpp). The
// first byte picks the header and the peer; the rest, split at '\n', is the header's fields.
// Invariants, checked with abort():
//  - the client address is canonical: parsed again it prints the same (one client, one budget);
//  - a peer outside the trusted networks is its own client and its chain is itself alone;
//  - the chain passed on ends with the peer, and holds no control character or byte over 0x7e
//    (it is sent as a header);
//  - a forwarded client is one of the chain's hops;
//  - X-Forwarded-For hops are non-empty, trimmed and hold no comma.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/client_address.hpp"

using namespace forrealtime::gateway;
namespace ip = boost::asio::ip;

namespace {

const TrustedProxies& trusted() {
  static const TrustedProxies t = [] {
    std::string error;
    auto p = TrustedProxies::parse({"10.0.0.0/8", "loopback", "2001:db8::/32"}, error);
    if (!p) std::abort();
    return *p;
  }();
  return t;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string_view> values;
  while (true) {
    auto nl = rest.find('\n');
    values.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  static const char* peers[] = {"10.0.0.1", "::1", "192.0.2.1", "::ffff:10.1.2.3"};
  auto peer = ip::make_address(peers[(mode >> 1) % 4]);
  bool peer_trusted = (mode >> 1) % 4 != 2;
  auto header = (mode & 1) ? ForwardedHeader::forwarded : ForwardedHeader::x_forwarded_for;
  auto c = client_address(trusted(), peer, header, values);

  auto again = parse_hop(c.address);
  check(again && again->to_string() == c.address);
  std::string peer_text = parse_hop(peers[(mode >> 1) % 4])->to_string();
  if (!peer_trusted) check(c.address == peer_text && c.chain == peer_text && !c.forwarded);
  check(c.chain == peer_text || c.chain.ends_with(", " + peer_text));
  for (unsigned char ch : c.chain) check(ch >= 0x20 && ch <= 0x7e);
  if (c.forwarded)
    check(("," + c.chain + ",").find(" " + c.address + ",") != std::string::npos ||
          c.chain.starts_with(c.address + ","));
  for (auto h : x_forwarded_for_hops(values)) {
    check(!h.empty() && h.find(',') == std::string_view::npos);
    check(h.front() != ' ' && h.front() != '\t' && h.back() != ' ' && h.back() != '\t');
  }
  (void)forwarded_for_hops(values);
  return 0;
}
