// The Redis Cluster store: the Store of redis_store.hpp over a cluster's masters, for
// `redis-cluster://host:port[,host:port...]` URLs (`rediss-cluster://`: TLS
// to every node, with the options of `rediss://`). Keys and entries are those of PROTOCOL.md
// section 6, so a TypeScript forrealtime server on the same cluster (ioredis in cluster mode)
// interoperates; idempotency records share their stream's slot (slot.hpp).
//
// Commands: every key has a slot (CRC16, hash tags) and every slot a master, from the map
// that `CLUSTER SLOTS` gave (asked of any known node: the masters first, then the seeds).
// Each loop that calls the store (each worker, as for a single Redis, and the store's own
// thread for calls from elsewhere) keeps one pipelined command link per master, created on
// first use. A reply `MOVED` points the map's slot at the node it names, asks for a new map and
// sends the command there; `ASK` sends it there once, after `ASKING`; `TRYAGAIN` and
// `CLUSTERDOWN` retry after a short delay. A command that was not sent (the node's link is down:
// `unavailable`) asks for a new map and is retried until `command_timeout` from its start: a
// master that failed over is found again. A command sent whose reply never came is retried only
// when it is a read; an append then completes with `timeout` (the event may be stored: 504 at the
// gateway, and the emit's idempotency key makes a retry safe). The map is also refreshed every
// `cluster_refresh`.
//
// The tail: one tail of tail_io.hpp per master (a subscriber connection and a reader
// connection: two connections per master whatever the number of watched channels), woken by
// the keyspace notifications of that node (notifications are node-local, so each master
// notifies only of its own keys), its reads naming keys of one slot each (a multi-key XREAD
// must stay in one slot). A watch lives in the tail of its slot's master. When the map
// changes (a failover, a migrated slot, a MOVED met by a read), each watch whose slot moved
// leaves its tail with its position and is read by the new master's tail from that position
// once subscribed there: what the cluster kept is delivered once. Blocking reads (the single
// Redis's fallback) cannot serve a cluster (CROSSSLOT, and one connection per slot): the
// cluster needs `notify-keyspace-events` with `K` and `t` on every master, set with CONFIG SET
// when allowed, else in the provider's parameters.
#pragma once

#include <memory>
#include <vector>

#include "forrealtime/redis_store.hpp"

namespace boost::asio::ssl {
class context;
}

namespace forrealtime::redis {

/** The store over the cluster reached through `seeds` (all with the same credentials); `tls`
 *  (null: plain TCP) for every node. */
std::shared_ptr<Store> make_cluster_store(RedisOptions options, std::vector<RedisEndpoint> seeds,
                                          std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace forrealtime::redis
