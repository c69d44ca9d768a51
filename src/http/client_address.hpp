// The client's address behind reverse proxies (GatewayOptions::trusted_proxies): pure logic, no
// I/O. The TCP peer is the client unless it is a trusted proxy; then the client is the
// right-most entry of X-Forwarded-For (or of RFC 7239 `Forwarded: for=`, one of the two, chosen
// by configuration) that is not itself a trusted proxy, found by walking from the right over
// trusted hops. The headers of an untrusted peer are never read, so a client cannot choose its
// own address; entries left of the first untrusted one are the client's own words and are never
// used either.
//
// What it must never do: throw or read past its input on any header bytes (fuzz_forwarded), or
// return anything but a canonical address (Asio's spelling, IPv4-mapped IPv6 as IPv4), so that
// one client cannot spell its address several ways to get several budgets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace forrealtime::gateway {

/** Which request header carries the chain of client addresses. */
enum class ForwardedHeader { x_forwarded_for, forwarded };

/** The networks whose peers may say who the client is. Immutable once made; safe to share. */
class TrustedProxies {
 public:
  /** An IP network: the first `prefix` bits of `bytes` (16 bytes; IPv4 in the first 4). */
  struct Net {
    std::array<std::uint8_t, 16> bytes{};
    bool v4 = false;
    unsigned prefix = 0;
  };

  TrustedProxies() = default;

  /** Parses entries like `10.0.0.0/8`, `192.0.2.7` (one host), `2001:db8::/32`, `::1`, and the
   *  keywords `loopback` (127.0.0.0/8, ::1) and `private` (10.0.0.0/8, 172.16.0.0/12,
   *  192.168.0.0/16, fc00::/7). Sets `error` to a sentence naming the bad entry, and returns
   *  nothing, on the first entry that is none of these (bits set past the prefix included:
   *  `10.0.0.1/8` is a typo more often than a network). */
  static std::optional<TrustedProxies> parse(const std::vector<std::string>& entries,
                                             std::string& error);

  bool empty() const { return nets_.empty(); }
  /** True when `a` (IPv4-mapped IPv6 counts as IPv4) is in one of the networks. */
  bool contains(const boost::asio::ip::address& a) const;

 private:
  std::vector<Net> nets_;
};

/** One hop of a chain as a proxy writes it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
 *  `[2001:db8::1]`, `[2001:db8::1]:4711` (spaces around are trimmed). Nothing for anything else
 *  (`unknown`, `_hidden`, a name, junk). IPv4-mapped IPv6 comes back as IPv4. */
std::optional<boost::asio::ip::address> parse_hop(std::string_view hop);

/** The hops of X-Forwarded-For field values (several fields are one list, in order): entries
 *  split at commas and trimmed, empty ones dropped. */
std::vector<std::string_view> x_forwarded_for_hops(const std::vector<std::string_view>& values);

/** The `for=` values of RFC 7239 Forwarded field values, one per element in order (unquoted;
 *  an element without `for` gives an empty hop). Nothing when the syntax is broken anywhere (an
 *  unterminated quoted string, a pair without `=`, a bad token character): such a header is
 *  ignored whole rather than guessed at. */
std::optional<std::vector<std::string>> forwarded_for_hops(
    const std::vector<std::string_view>& values);

/** Who the client is, and the chain to send on (forward auth's X-Forwarded-For). */
struct ClientAddress {
  /** The client's address (canonical); the peer's when the headers do not apply. */
  std::string address;
  /** True when `address` came from the header (the peer is a trusted proxy that forwarded
   *  for someone else). */
  bool forwarded = false;
  /** The X-Forwarded-For a proxy would send on: the trusted peer's chain with the peer
   *  appended; only the peer when the peer is not trusted (its headers are not believed). */
  std::string chain;
};

/** At most this many hops are walked from the right; a longer trusted run stops there (its
 *  left-most trusted hop is taken as the client). */
inline constexpr std::size_t kMaxHops = 32;

/** The client of a request that came from `peer`, with `values` the fields of `header` (all of
 *  them, in order). Never throws. */
ClientAddress client_address(const TrustedProxies& trusted, const boost::asio::ip::address& peer,
                             ForwardedHeader header, const std::vector<std::string_view>& values);

/** `--client-address-header`'s words: `x-forwarded-for` or `forwarded` (any case). */
std::optional<ForwardedHeader> parse_forwarded_header(std::string_view name);

}  // namespace forrealtime::gateway
