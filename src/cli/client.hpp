// The CLI's client commands (emit, history, tail) against a running gateway over HTTP.
#pragma once

#include <string>
#include <vector>

namespace forrealtime::cli {

struct ClientOptions {
  std::string url = "http://127.0.0.1:8787";
  std::string token;  // bearer token for emit
  int timeout_secs = 10;
};

int run_emit(const ClientOptions& o, const std::string& channel, const std::string& event,
             const std::string& json);
/** Prints a channel's history: the oldest `limit`, or when `last` > 0 the newest `last`
 *  (oldest first either way), after `after` when not empty. */
int run_history(const ClientOptions& o, const std::string& channel, int limit,
                const std::string& after, int last = 0);
/** Prints each user event as one JSON line until interrupted; `max_events` > 0 stops after
 *  that many. */
int run_tail(const ClientOptions& o, const std::vector<std::string>& channels, int max_events);

}  // namespace forrealtime::cli
