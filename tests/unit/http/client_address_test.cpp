// The client's address behind trusted proxies: literal headers in, the address and the chain
// out (client_address.hpp).
#include "http/client_address.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::gateway;
namespace ip = boost::asio::ip;

namespace {

TrustedProxies trust(std::vector<std::string> entries) {
  std::string error;
  auto t = TrustedProxies::parse(entries, error);
  EXPECT_TRUE(t) << error;
  return t ? *t : TrustedProxies{};
}

ClientAddress xff(const TrustedProxies& t, const char* peer, std::vector<std::string_view> values) {
  return client_address(t, ip::make_address(peer), ForwardedHeader::x_forwarded_for, values);
}

ClientAddress fwd(const TrustedProxies& t, const char* peer, std::vector<std::string_view> values) {
  return client_address(t, ip::make_address(peer), ForwardedHeader::forwarded, values);
}

}  // namespace

TEST(TrustedProxies, ParsesNetworksHostsAndKeywords) {
  auto t =
      trust({"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", " loopback ", "::ffff:172.16.0.0/108"});
  EXPECT_TRUE(t.contains(ip::make_address("10.255.1.2")));
  EXPECT_FALSE(t.contains(ip::make_address("11.0.0.1")));
  EXPECT_TRUE(t.contains(ip::make_address("192.0.2.7")));
  EXPECT_FALSE(t.contains(ip::make_address("192.0.2.8")));
  EXPECT_TRUE(t.contains(ip::make_address("2001:db8:ffff::1")));
  EXPECT_FALSE(t.contains(ip::make_address("2001:db9::1")));
  EXPECT_TRUE(t.contains(ip::make_address("127.3.4.5")));
  EXPECT_TRUE(t.contains(ip::make_address("::1")));
  EXPECT_FALSE(t.contains(ip::make_address("::2")));
  // IPv4-mapped peers (a dual-stack listener) are their IPv4 address.
  EXPECT_TRUE(t.contains(ip::make_address("::ffff:10.1.2.3")));
  EXPECT_TRUE(t.contains(ip::make_address("172.16.0.9")));
  EXPECT_FALSE(t.contains(ip::make_address("172.32.0.9")));
  auto p = trust({"private"});
  for (auto a : {"10.1.1.1", "172.31.255.255", "192.168.0.1", "fd00::1"})
    EXPECT_TRUE(p.contains(ip::make_address(a))) << a;
  for (auto a : {"172.32.0.1", "192.169.0.1", "127.0.0.1", "fe80::1", "8.8.8.8"})
    EXPECT_FALSE(p.contains(ip::make_address(a))) << a;
  EXPECT_TRUE(trust({"0.0.0.0/0"}).contains(ip::make_address("8.8.8.8")));
  EXPECT_FALSE(trust({"0.0.0.0/0"}).contains(ip::make_address("::8")));
  EXPECT_TRUE(trust({}).empty());
}

TEST(TrustedProxies, RefusesWhatIsNotANetwork) {
  for (std::string bad :
       {"", "10.0.0.0/33", "::/129", "10.0.0.1/8", "10.0.0.0/", "10.0.0/8", "example.com",
        "10.0.0.0/8x", "fe80::1%eth0", "[::1]", "LOOPBACKS", "10.0.0.0/-1", "::ffff:10.0.0.0/95"}) {
    std::string error;
    EXPECT_FALSE(TrustedProxies::parse({"loopback", bad}, error)) << bad;
    EXPECT_NE(error.find("trusted_proxies: '" + bad + "'"), std::string::npos) << error;
  }
}

TEST(ClientAddress, HopsAsProxiesWriteThem) {
  EXPECT_EQ(parse_hop(" 192.0.2.1 ")->to_string(), "192.0.2.1");
  EXPECT_EQ(parse_hop("192.0.2.1:4711")->to_string(), "192.0.2.1");
  EXPECT_EQ(parse_hop("2001:DB8:0::1")->to_string(), "2001:db8::1");
  EXPECT_EQ(parse_hop("[2001:db8::1]")->to_string(), "2001:db8::1");
  EXPECT_EQ(parse_hop("[2001:db8::1]:4711")->to_string(), "2001:db8::1");
  EXPECT_EQ(parse_hop("::ffff:192.0.2.9")->to_string(), "192.0.2.9");
  for (auto bad : {"", "unknown", "_hidden", "example.com", "[192.0.2.1]", "[::1", "[::1]x",
                   "[::1]:", "192.0.2.1:", "192.0.2.1:123456", "192.0.2.1:80:80", "1.2.3",
                   "fe80::1%eth0", "192.0.2.1 , 192.0.2.2", "::1]:80"})
    EXPECT_FALSE(parse_hop(bad)) << bad;
}

TEST(ClientAddress, AnUntrustedPeersHeadersAreIgnored) {
  auto t = trust({"10.0.0.0/8"});
  auto c = xff(t, "192.0.2.50", {"203.0.113.9"});
  EXPECT_EQ(c.address, "192.0.2.50");
  EXPECT_FALSE(c.forwarded);
  EXPECT_EQ(c.chain, "192.0.2.50");  // the spoofed hop is not passed on
  // No trusted proxies at all: the same.
  c = xff(TrustedProxies{}, "10.0.0.1", {"203.0.113.9"});
  EXPECT_EQ(c.address, "10.0.0.1");
  EXPECT_EQ(c.chain, "10.0.0.1");
}

TEST(ClientAddress, TheRightMostUntrustedHopIsTheClient) {
  auto t = trust({"10.0.0.0/8"});
  // What the client wrote itself (1.1.1.1) is left of the real client and never used.
  auto c = xff(t, "10.0.0.1", {"1.1.1.1, 203.0.113.9, 10.0.0.2"});
  EXPECT_EQ(c.address, "203.0.113.9");
  EXPECT_TRUE(c.forwarded);
  EXPECT_EQ(c.chain, "1.1.1.1, 203.0.113.9, 10.0.0.2, 10.0.0.1");
  // Several fields are one list, in order.
  c = xff(t, "10.0.0.1", {"203.0.113.9", "10.0.0.3, 10.0.0.2"});
  EXPECT_EQ(c.address, "203.0.113.9");
  // Every hop trusted: the left-most is the best answer there is.
  c = xff(t, "10.0.0.1", {"10.0.0.5, 10.0.0.2"});
  EXPECT_EQ(c.address, "10.0.0.5");
  // No header, or an empty one: the proxy itself is the client.
  c = xff(t, "10.0.0.1", {});
  EXPECT_EQ(c.address, "10.0.0.1");
  EXPECT_FALSE(c.forwarded);
  c = xff(t, "10.0.0.1", {" , ,"});
  EXPECT_EQ(c.address, "10.0.0.1");
  EXPECT_EQ(c.chain, "10.0.0.1");
  // One client, one spelling: ports, brackets and case do not make new budgets.
  EXPECT_EQ(xff(t, "10.0.0.1", {"[2001:DB8::7]:443"}).address, "2001:db8::7");
  EXPECT_EQ(xff(t, "10.0.0.1", {"203.0.113.9:5555"}).address, "203.0.113.9");
  EXPECT_EQ(xff(t, "::ffff:10.0.0.1", {"::ffff:203.0.113.9"}).address, "203.0.113.9");
}

TEST(ClientAddress, AHopThatIsNotAnAddressStopsAtTheProxyThatWroteIt) {
  auto t = trust({"10.0.0.0/8"});
  auto c = xff(t, "10.0.0.1", {"203.0.113.9, unknown, 10.0.0.2"});
  EXPECT_EQ(c.address, "10.0.0.2");
  EXPECT_EQ(c.chain, "203.0.113.9, unknown, 10.0.0.2, 10.0.0.1");
  c = xff(t, "10.0.0.1", {"garbage\x01\xff"});
  EXPECT_EQ(c.address, "10.0.0.1");
  EXPECT_FALSE(c.forwarded);
}

TEST(ClientAddress, AtMostMaxHopsAreWalked) {
  auto t = trust({"10.0.0.0/8"});
  std::string chain = "203.0.113.9";
  for (std::size_t i = 0; i < kMaxHops + 5; ++i) chain += ", 10.0.0." + std::to_string(i + 1);
  auto c = xff(t, "10.0.0.200", {chain});
  // The walk stops after kMaxHops hops, all trusted: the last one walked.
  EXPECT_EQ(c.address, "10.0.0." + std::to_string(5 + 1));
  EXPECT_TRUE(c.forwarded);
}

TEST(ClientAddress, ForwardedHeaderOfRfc7239) {
  auto t = trust({"10.0.0.0/8"});
  auto c = fwd(
      t, "10.0.0.1",
      {R"(for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.9)", "For=10.0.0.2"});
  EXPECT_EQ(c.address, "2001:db8:cafe::17");
  EXPECT_EQ(c.chain, "1.1.1.1, 2001:db8:cafe::17, 10.0.0.2, 10.0.0.1");
  // An element without for= is a hop that is not an address.
  c = fwd(t, "10.0.0.1", {"for=203.0.113.9, proto=http, for=10.0.0.2"});
  EXPECT_EQ(c.address, "10.0.0.2");
  // Broken syntax anywhere: the header is ignored whole.
  for (std::string_view bad : {R"(for="10.0.0.2)", "for", "for=", "for=1.2.3.4;for=5.6.7.8",
                               "for=1.2.3.4 x", "fo r=1.2.3.4", "for=\"a\\", "for=[::1]"}) {
    EXPECT_FALSE(forwarded_for_hops({bad})) << bad;
    c = fwd(t, "10.0.0.1", {bad});
    EXPECT_EQ(c.address, "10.0.0.1") << bad;
    EXPECT_EQ(c.chain, "10.0.0.1") << bad;
  }
  // Quoted pairs, empty elements and pairs, obfuscated names.
  auto hops = forwarded_for_hops({R"(,for="\1.2.3.4";;proto=http,, for=_hidden ,for=unknown)"});
  ASSERT_TRUE(hops);
  EXPECT_EQ(*hops, (std::vector<std::string>{"1.2.3.4", "_hidden", "unknown"}));
  // The X-Forwarded-For header is not read in this mode, nor Forwarded in the other.
  EXPECT_EQ(fwd(t, "10.0.0.1", {}).address, "10.0.0.1");
  EXPECT_EQ(xff(t, "10.0.0.1", {"for=203.0.113.9"}).address, "10.0.0.1");
}

TEST(ClientAddress, HeaderNames) {
  EXPECT_EQ(parse_forwarded_header("X-Forwarded-For"), ForwardedHeader::x_forwarded_for);
  EXPECT_EQ(parse_forwarded_header("forwarded"), ForwardedHeader::forwarded);
  EXPECT_FALSE(parse_forwarded_header("x-real-ip"));
}
