// The Redis stream store: PROTOCOL.md section 6 on a Redis server (5.0 or later; 7.0 or later
// for `entries-added`), shared with other forrealtime gateways and TypeScript forrealtime peers.
//
// The store runs its own io_context on one thread of its own. Commands are pipelined on one
// connection; the live tail is woken by keyspace notifications (one subscriber connection) and
// reads only the keys that changed (one reader connection), or, where notifications cannot be
// enabled, reads every watched channel with one blocking `XREAD` per batch of keys on
// dedicated connections; either way a process holds a handful of connections to Redis whatever
// its number of subscribers. Handlers of `async_*` calls and the `TailSink` are invoked from
// the store's thread. When Redis is unreachable the store keeps reconnecting with backoff;
// meanwhile calls fail fast with `store_errc::unavailable`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "forrealtime/store.hpp"

namespace forrealtime {

/** TLS for `rediss://` URLs (ignored for `redis://`). The server's certificate is verified
 *  against `ca_file` (or the system's CAs when empty) and must name the URL's host (which is
 *  also sent as SNI when it is a name). */
struct RedisTlsOptions {
  /** PEM file of the CAs that sign the server's certificate; empty: the system's CAs. */
  std::string ca_file;
  /** PEM client certificate and its key, for servers that ask for one (`tls-auth-clients`);
   *  both or neither. */
  std::string cert_file;
  std::string key_file;
  /** Skips verifying the server's certificate and name: anyone on the path can read and
   *  change the traffic. Off by default; logged as an error at start when on. */
  bool insecure_skip_verify = false;
};

struct RedisOptions {
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS (one Redis; see
   *  `parse_redis_url`), or `redis-cluster://[user:password@]host[:port][,host[:port]...]`
   *  (`rediss-cluster://` for TLS: a Redis Cluster through any of its nodes; see
   *  `parse_redis_cluster_url`). */
  std::string url = "redis://127.0.0.1:6379";
  /** Used by `rediss://` URLs. */
  RedisTlsOptions tls;
  /** Prepended to every channel name to form its key (PROTOCOL.md section 6). */
  std::string key_prefix;
  /** Resolve + TCP connect + AUTH/SELECT, per connection. */
  std::chrono::milliseconds connect_timeout{5000};
  /** How long a command may wait for its reply; a connection whose oldest command is late by
   *  twice this is considered lost and reconnected. */
  std::chrono::milliseconds command_timeout{5000};
  /** How the tail learns of new entries. `automatic`: keyspace notifications of streams
   *  (`notify-keyspace-events` gets `Kt` with CONFIG SET when it lacks them), or blocking
   *  batches when the server refuses CONFIG or the subscription (logged at start).
   *  `notifications`: always notifications (when CONFIG is refused, the server must already send
   *  them: set it in the managed service's parameters). `blocking`: always blocking batches. */
  enum class TailWakeup { automatic, notifications, blocking };
  TailWakeup tail_wakeup = TailWakeup::automatic;
  /** With notifications: every this long, every watched key is read from its last position
   *  (the sweep: what a lost notification left is delivered this late, never lost) and the
   *  subscriber connection must answer a PING. With blocking batches: the `XREAD BLOCK` time;
   *  changes to the watched set interrupt the block at once (`CLIENT UNBLOCK`), so this only
   *  bounds how long an idle read stays parked. */
  std::chrono::milliseconds tail_block{10000};
  /** Blocking batches: keys per tail connection (with notifications: the most keys one
   *  non-blocking XREAD names). The tail reads up to this many channels with one XREAD. Redis
   *  pays for every key of a read each time it is re-issued (after each reply), so smaller
   *  batches cost Redis less CPU per event at the price of more connections (10,000 watched
   *  channels: 79 tail connections). Measured on 10,000 channels at 5,000 events/s: 1000
   *  keys ~90% of a Redis core, 100 keys ~45%. */
  std::size_t tail_keys_per_connection = 128;
  /** At most this many distinct channels watched by this process (the tail's connections are
   *  about this / tail_keys_per_connection). Past it, a watch of a new channel fails with
   *  `store_errc::limit_reached` (its subscriber gets an error) and a log line says so. */
  std::size_t max_watched_channels = 50000;
  /** `COUNT` of the tail's XREAD: entries read per key per round. */
  std::size_t tail_count = 1000;
  /** Redis Cluster (`redis-cluster://` URLs): how often the slot map is asked again besides
   *  when a MOVED, a lost node or a failed read says it changed. */
  std::chrono::milliseconds cluster_refresh{5000};
  /** Sentinel URLs: the sentinels' own credentials (`requirepass` on the sentinels); empty
   *  password: none. */
  std::string sentinel_user;
  std::string sentinel_password;
  /** After each append, `WAIT wait_replicas wait_timeout`: the append succeeds only once that
   *  many replicas have it, so that an acknowledged event survives a failover; fewer within
   *  the timeout completes with `store_errc::timeout` (stored on the master, maybe lost).
   *  0: no WAIT (the default; what it costs is in bench/RESULTS.md). */
  unsigned wait_replicas = 0;
  std::chrono::milliseconds wait_timeout{1000};
  /** Reconnect backoff, doubling from min to max. */
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

/** What a Redis URL names. */
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /** Empty user with a password: `AUTH <password>`; both: `AUTH <user> <password>`. */
  std::string user;
  std::string password;
  bool has_password = false;
  /** `SELECT <db>` when not 0. */
  unsigned db = 0;
  /** `rediss://`: TLS (see `RedisTlsOptions`). */
  bool tls = false;
};

/** What a Sentinel URL names: `redis+sentinel://[user:password@]host[:port][,host[:port]]...
 *  /master-name[/db]` (`rediss+sentinel://`: TLS to the sentinels and to the nodes). The user
 *  and password are those of the data nodes (the master); the sentinels' own, when they want
 *  one, are `RedisOptions::sentinel_user`/`sentinel_password`. A port defaults to 26379. */
struct RedisSentinelUrl {
  std::vector<std::pair<std::string, std::uint16_t>> sentinels;
  std::string master_name;
  /** Credentials, db and TLS for the master (its host and port come from the sentinels). */
  RedisEndpoint node;
};

/** Parses a `redis+sentinel://` or `rediss+sentinel://` URL. Pure; `errc::invalid_argument`
 *  on anything else. */
boost::system::result<RedisSentinelUrl> parse_redis_sentinel_url(std::string_view url);

/** Parses `redis[s]://[[user]:password@]host[:port][/db]` (user and password percent-decoded,
 *  IPv6 hosts in brackets; `rediss` is TLS). Pure; fails with `errc::invalid_argument` on
 *  anything else. */
boost::system::result<RedisEndpoint> parse_redis_url(std::string_view url);

/** Parses `redis[s]-cluster://[[user]:password@]host[:port][,host[:port]...]`: the seed nodes of a
 *  Redis Cluster (any of its nodes; the store learns the others), each with the credentials
 *  given once. No database number (a cluster has only 0). Pure; `errc::invalid_argument` on
 *  anything else. */
boost::system::result<std::vector<RedisEndpoint>> parse_redis_cluster_url(std::string_view url);

/** A Redis store (a Redis Cluster store for a `redis-cluster://` URL: slot routing, a command
 *  link per master and loop, MOVED/ASK, failover, a tail per master woken by keyspace
 *  notifications, which every master must send: `notify-keyspace-events` with `K` and `t`, set
 *  by the store with CONFIG SET when allowed); starts connecting at once (in the background).
 * Throws `std::invalid_argument` when `options.url` does not parse or the TLS files cannot
 *  be loaded. Thread-safe. */
std::shared_ptr<Store> make_redis_store(RedisOptions options);

}  // namespace forrealtime
