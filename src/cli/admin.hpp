// `forrealtime admin ...`: the admin API of a running gateway (GET /api/admin/stats, channels,
// one channel, ending a channel's streams) from the command line.
#pragma once

#include <string>

namespace forrealtime::cli {

struct AdminOptions {
  std::string url = "http://127.0.0.1:8787";
  std::string token;  // the gateway's --admin-token
  int timeout_secs = 10;
  bool json = false;  // print the raw JSON answer instead of a table
};

/** `what` is stats, channels, channel or close; `channel` names the channel of the last two.
 *  Exit status: 0 on success, 1 when the gateway refused or failed, 2 when it was unreachable
 *  or the arguments are wrong. */
int run_admin(const AdminOptions& o, const std::string& what, const std::string& channel);

}  // namespace forrealtime::cli
