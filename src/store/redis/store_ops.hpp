// The Store's calls (append, range, latest, info) as commands on one Redis connection, written
// once for both places that send them: the store's own command connection and the command
// links that live on the workers' event loops (command_link.hpp).
//
// Appends: a plain append is the one XADD of PROTOCOL.md section 6. An append with an expiry
// sends `EXPIRE` only once its XADD's reply says the XADD succeeded (issue 10 defect 2: a key
// we could not append to, e.g. another application's key of another type, is never touched),
// and completes with the XADD's id once the EXPIRE answered: the expiry costs Redis one cheap
// command instead of a script run (measured in bench/RESULTS.md, "Event cost"), and one more
// round trip of latency. If the connection drops between the two, the append still succeeds
// (the event is stored) but may leave the stream's previous TTL (or none, for a stream it
// created) until the next append to it sets one again; a log line says so. An append with an
// idempotency key is one EVALSHA of the append script (commands.hpp): the record is checked and
// written atomically with the XADD, in the stream's cluster slot; NOSCRIPT (script cache
// flushed) re-sends the script whole, which is safe because it did not run.
//
// Waiting for replicas (`RedisOptions::wait_replicas`): once an append succeeded, `WAIT n t` on
// the same connection (it covers every write the connection made before it); the append
// completes with its id only when n replicas acknowledged within t, else with `timeout` (the
// event is on the master but may not survive a failover). One more round trip, plus the
// replication delay: measured in bench/RESULTS.md.
//
// On a cluster, an append sent after `ASKING` (its slot is being migrated and the key is on the
// importing node already: `asking`) sends `ASKING` again before each command that follows on its
// own (the EXPIRE, the script re-sent after NOSCRIPT): the importing node serves a command of a
// migrating slot only right after an ASKING, and answers MOVED back to the source otherwise.
//
// Every function completes its handler exactly once, inside the connection's callbacks (on the
// connection's thread). The caller checks that the connection is open before calling.
#pragma once

#include <memory>
#include <string>

#include "forrealtime/store.hpp"
#include "store/redis/connection.hpp"

namespace forrealtime::redis {

/** WAIT after each append: `replicas` 0 is none. */
struct WaitReplicas {
  unsigned replicas = 0;
  std::chrono::milliseconds timeout{1000};
};

/** Sends one append. `record_key` empty: no idempotency key. `script_sha` empty: the script is
 *  sent whole when one is needed. `asking`: the caller sent ASKING right before (a cluster's
 *  ASK redirection), and every later command of this append is preceded by ASKING too. */
void send_append(const std::shared_ptr<Connection>& conn, const std::string& script_sha,
                 std::string key, std::string record_key, std::string message,
                 const AppendOptions& options, Store::AppendHandler handler, WaitReplicas wait = {},
                 bool asking = false);
void send_range(Connection& conn, std::string_view key, const RangeQuery& query,
                Store::RangeHandler handler);
void send_latest(Connection& conn, std::string_view key, Store::LatestHandler handler);
void send_info(Connection& conn, std::string_view key, Store::InfoHandler handler);

}  // namespace forrealtime::redis
