// parse_redis_cluster_url: `redis-cluster://[[user]:password@]host[:port][,host[:port]...]`
// (`rediss-cluster://`: every node over TLS).
// Each seed goes through parse_redis_url (url.cpp) with the shared credentials, so a seed is
// exactly as strict as a single Redis URL; what this adds is the list and the refusal of a
// database number (a cluster has only database 0).
#include "forrealtime/redis_store.hpp"

namespace forrealtime {

boost::system::result<std::vector<RedisEndpoint>> parse_redis_cluster_url(std::string_view url) {
  auto invalid = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  bool tls = url.starts_with("rediss-cluster://");
  if (!tls && !url.starts_with("redis-cluster://")) return invalid;
  std::string_view rest = url.substr(tls ? 17 : 16);
  auto end = rest.find_first_of("/?#");
  if (end != std::string_view::npos) {
    auto tail = rest.substr(end);
    if (tail != "/" && tail != "/0") return invalid;
    rest = rest.substr(0, end);
  }
  std::string_view userinfo;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at + 1);
    rest = rest.substr(at + 1);
  }
  std::vector<RedisEndpoint> seeds;
  while (true) {
    auto comma = rest.find(',');
    auto host = rest.substr(0, comma);
    if (host.empty()) return invalid;
    std::string one = tls ? "rediss://" : "redis://";
    one.append(userinfo).append(host);
    auto ep = parse_redis_url(one);
    if (!ep) return ep.error();
    seeds.push_back(std::move(*ep));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return seeds;
}

}  // namespace forrealtime
