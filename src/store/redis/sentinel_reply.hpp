// What the sentinels say, with no I/O: the master's address from
// `SENTINEL get-master-addr-by-name <name>` (`[host, port]`), and from a `+switch-master`
// message (`message +switch-master "<name> <old-ip> <old-port> <new-ip> <new-port>"`).
// Both read bytes from the network (a sentinel, or whatever listens where one should be):
// anything not of that shape is nothing, never an exception (fuzzed in tests/fuzz/fuzz_resp.cpp).
#pragma once

#include <optional>
#include <string_view>

#include "store/redis/cluster_topology.hpp"

struct redisReply;

namespace forrealtime::redis {

/** `[host, port]` with a non-empty host and a port in 1..65535; nothing otherwise. */
std::optional<NodeAddress> parse_master_addr(const redisReply* r);

/** The new master of `master_name` from a pub/sub message on `+switch-master`; nothing when the
 *  message is another kind, for another master, or malformed. */
std::optional<NodeAddress> parse_switch_master(const redisReply* r, std::string_view master_name);

}  // namespace forrealtime::redis
