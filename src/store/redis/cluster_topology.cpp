// The cluster's slot map and redirections, with no I/O (see cluster_topology.hpp).
#include "store/redis/cluster_topology.hpp"

#include <charconv>

#include "forrealtime/store.hpp"

namespace forrealtime::redis {
namespace {

class ClusterCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "forrealtime.redis.cluster"; }
  std::string message(int ev) const override {
    switch (static_cast<cluster_errc>(ev)) {
      case cluster_errc::moved:
        return "the slot moved to another node (MOVED)";
      case cluster_errc::ask:
        return "the key is being migrated to another node (ASK)";
      case cluster_errc::tryagain:
        return "the slot is being migrated (TRYAGAIN)";
      case cluster_errc::clusterdown:
        return "the cluster is down (CLUSTERDOWN)";
    }
    return "unknown cluster error";
  }
};

template <class T>
bool number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

const boost::system::error_category& cluster_category() noexcept {
  static const ClusterCategory category;
  return category;
}

std::optional<Redirect> parse_redirect(std::string_view t, std::string_view default_host) {
  Redirect r;
  if (t.starts_with("MOVED "))
    t.remove_prefix(6);
  else if (t.starts_with("ASK "))
    r.ask = true, t.remove_prefix(4);
  else
    return std::nullopt;
  auto sp = t.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  if (!number(t.substr(0, sp), slot) || slot >= slot_count) return std::nullopt;
  r.slot = static_cast<std::uint16_t>(slot);
  auto addr = t.substr(sp + 1);
  auto colon = addr.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  unsigned port = 0;
  if (!number(addr.substr(colon + 1), port) || port == 0 || port > 65535) return std::nullopt;
  r.node.port = static_cast<std::uint16_t>(port);
  r.node.host = std::string(colon == 0 ? default_host : addr.substr(0, colon));
  if (r.node.host.size() > 2 && r.node.host.front() == '[' && r.node.host.back() == ']')
    r.node.host = r.node.host.substr(1, r.node.host.size() - 2);
  return r;
}

std::optional<Redirect>& last_redirect() {
  thread_local std::optional<Redirect> last;
  return last;
}

void SlotMap::assign(std::uint16_t slot, const NodeAddress& node) {
  std::size_t i = 0;
  while (i < masters.size() && !(masters[i] == node)) ++i;
  if (i == masters.size()) masters.push_back(node);
  owner[slot % slot_count] = static_cast<std::int16_t>(i);
}

std::size_t SlotMap::covered() const {
  std::size_t n = 0;
  for (auto o : owner) n += o >= 0;
  return n;
}

std::optional<SlotMap> parse_cluster_slots(const redisReply* r, std::string_view asked_host) {
  if (!is_array(r)) return std::nullopt;
  SlotMap map;
  for (std::size_t i = 0; i < size(r); ++i) {
    const redisReply* range = at(r, i);
    long long start = 0, end = 0, port = 0;
    if (!is_array(range) || size(range) < 3 || !to_int(at(range, 0), start) ||
        !to_int(at(range, 1), end) || start < 0 || end < start || end >= slot_count)
      return std::nullopt;
    const redisReply* master = at(range, 2);
    if (!is_array(master) || size(master) < 2 || !to_int(at(master, 1), port) || port <= 0 ||
        port > 65535)
      return std::nullopt;
    NodeAddress node{std::string(text(at(master, 0))), static_cast<std::uint16_t>(port)};
    if (node.host.empty() || node.host == "?") node.host = std::string(asked_host);
    for (long long s = start; s <= end; ++s) map.assign(static_cast<std::uint16_t>(s), node);
  }
  return map;
}

}  // namespace forrealtime::redis
