// Redis Cluster topology with no I/O: which master serves each of the 16384 slots (from
// `CLUSTER SLOTS`), what a redirection reply says (`MOVED <slot> <host>:<port>`, `ASK ...`),
// and the error codes that tell the cluster router to go elsewhere or try again.
//
// `error_of` (commands.hpp) turns MOVED, ASK, TRYAGAIN and CLUSTERDOWN replies into the codes
// of `cluster_errc` and leaves the redirection's target in `last_redirect()`, a thread-local
// read by the handler that the same reply completes (handlers of a reply run synchronously
// inside its callback, on the thread that read it). On a single Redis these codes never
// appear; the cluster store never lets one reach its caller (it reports `store_errc` codes).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>

#include "store/redis/resp.hpp"
#include "store/redis/slot.hpp"

struct redisReply;

namespace forrealtime::redis {

enum class cluster_errc {
  moved = 1,    // the slot lives elsewhere for good: update the map, go there
  ask,          // this one command goes there, after ASKING (a slot being migrated)
  tryagain,     // a multi-key command during a migration: retry shortly
  clusterdown,  // the cluster cannot serve the slot now (a failover is in progress)
};
const boost::system::error_category& cluster_category() noexcept;
inline boost::system::error_code make_error_code(cluster_errc e) noexcept {
  return {static_cast<int>(e), cluster_category()};
}

/** A node, as `host:port` (IPv6 hosts without brackets). */
struct NodeAddress {
  std::string host;
  std::uint16_t port = 0;
  std::string name() const { return host + ":" + std::to_string(port); }
  bool operator==(const NodeAddress&) const = default;
};

/** What a MOVED or ASK reply names. */
struct Redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  NodeAddress node;
};
/** Parses `MOVED <slot> <host>:<port>` or `ASK <slot> <host>:<port>` (an empty host means
 *  the host of the node that answered: `default_host`). */
std::optional<Redirect> parse_redirect(std::string_view error_text, std::string_view default_host);

/** The target of the last MOVED/ASK that `error_of` saw on this thread. */
std::optional<Redirect>& last_redirect();

/** Slot -> master. `owner[s]` indexes `masters`, -1 when no master serves the slot. */
struct SlotMap {
  std::vector<NodeAddress> masters;
  std::array<std::int16_t, slot_count> owner;
  SlotMap() { owner.fill(-1); }
  const NodeAddress* node_of(std::uint16_t slot) const {
    auto i = owner[slot % slot_count];
    return i < 0 ? nullptr : &masters[static_cast<std::size_t>(i)];
  }
  /** Points `slot` at `node` (adding it as a master if new). */
  void assign(std::uint16_t slot, const NodeAddress& node);
  std::size_t covered() const;
};

/** The map from a `CLUSTER SLOTS` reply (`[[start, end, [host, port, id, ...], replicas...]]`);
 *  an empty host is `asked_host`. Nothing when the reply is not that shape. */
std::optional<SlotMap> parse_cluster_slots(const redisReply* r, std::string_view asked_host);

}  // namespace forrealtime::redis

template <>
struct boost::system::is_error_code_enum<forrealtime::redis::cluster_errc> : std::true_type {};
