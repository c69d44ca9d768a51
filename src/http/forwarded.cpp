// The client of each request on a connection; see forwarded.hpp.
#include "http/forwarded.hpp"

#include <vector>

#include "http/state.hpp"

namespace forrealtime::gateway {

namespace {
constexpr std::string_view kXff = "X-Forwarded-For";
}  // namespace

Peer peer_of(const GatewayState& state, const boost::asio::ip::tcp::socket& socket) {
  Peer p;
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) {
    p.address = "?";
    return p;
  }
  p.ip = ep.address();
  p.address = p.ip.to_string();
  p.trusted = !state.trusted_proxies.empty() && state.trusted_proxies.contains(p.ip);
  return p;
}

ClientAddress request_client(const GatewayState& state, const Peer& peer, HttpRequest& req) {
  bool readers = static_cast<bool>(state.options.authorize || state.options.middleware);
  if (!peer.trusted) {
    // The common case, kept cheap: no header is read.
    ClientAddress c{peer.address, false, peer.address};
    if (readers && peer.address != "?")
      req.set(kXff, peer.address);
    else if (readers)
      req.erase(kXff);
    return c;
  }
  std::string_view field =
      state.client_address_header == ForwardedHeader::forwarded ? "Forwarded" : kXff;
  std::vector<std::string_view> values;
  for (auto [it, end] = req.equal_range(field); it != end; ++it)
    values.emplace_back(it->value().data(), it->value().size());
  auto c = client_address(state.trusted_proxies, peer.ip, state.client_address_header, values);
  if (readers) req.set(kXff, c.chain);
  return c;
}

std::string describe_client(const ClientAddress& client, const Peer& peer) {
  if (!client.forwarded) return client.address;
  return client.address + " (via " + peer.address + ")";
}

}  // namespace forrealtime::gateway
