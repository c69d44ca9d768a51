// The operator's side of the gateway: liveness and readiness probes (with the drain), the
// console's embedded files, the admin API, labelled request counters and the /metrics lines
// beyond the core counters. Handlers follow handlers.hpp: functions of (request, state).
//
//   GET /livez                      200 while the process serves requests
//   GET /readyz                     200 when the store is reachable and the gateway not draining
//   GET /  and  /console/*          the live console (embedded; `/` only without --static)
//   GET /api/admin/stats            the console's numbers (JSON)
//   GET /api/admin/channels         channels with local subscribers
//   GET /api/admin/channel?channel= one channel: length, first and last id, subscribers
//   POST /api/admin/channel/close?channel=   ends the channel's streams with `reconnect`
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"

namespace forrealtime::gateway {

struct GatewayState;

/** Which listener a connection came in on (GatewayOptions::admin_port). */
enum class Listener : std::uint8_t { main, admin };

/** The `route` label of forrealtime_http_requests_total. */
enum class RouteLabel : std::uint8_t {
  subscribe,
  emit,
  history,
  probe,
  metrics,
  admin,
  console,
  static_files,
  other,
  count_
};

struct OpsState {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<bool> draining{false};
  std::atomic<std::int64_t> connections{0};
  static constexpr std::array<unsigned, 16> codes{200, 204, 304, 400, 401, 403, 404, 405,
                                                  409, 413, 429, 431, 500, 503, 504, 0};
  /** [route][index in `codes`]; the last column counts any other status. */
  std::array<std::array<std::atomic<std::uint64_t>, codes.size()>,
             static_cast<std::size_t>(RouteLabel::count_)>
      requests{};

  void count(RouteLabel route, unsigned status);
};

/** The label of a request path. */
RouteLabel route_label(std::string_view path);

/** With a separate admin listener: false for a path the listener does not serve. */
bool served_on(Listener listener, std::string_view path, const GatewayState& state);

/** The admin credential of the admin API and, with authorization on, of /metrics: the admin
 *  token (`Authorization: Bearer`), or else the Authorizer's `admin` grant; a refusal as the
 *  response, nothing when allowed. Open when neither is configured. */
boost::asio::awaitable<std::optional<HttpResponse>> check_admin(GatewayState& state,
                                                                const HttpRequest& req);

Reply handle_livez(const HttpRequest& req, GatewayState& state);
Reply handle_readyz(const HttpRequest& req, GatewayState& state);
/** `/`, `/console` and the files under `/console/`: the embedded console, with ETag and
 *  Cache-Control. */
Reply handle_console(const HttpRequest& req, GatewayState& state);
boost::asio::awaitable<Reply> handle_admin_stats(const HttpRequest& req, GatewayState& state);
boost::asio::awaitable<Reply> handle_admin_channels(const HttpRequest& req, GatewayState& state);
boost::asio::awaitable<Reply> handle_admin_channel(const HttpRequest& req, GatewayState& state);
boost::asio::awaitable<Reply> handle_admin_close(const HttpRequest& req, GatewayState& state);
/** POST /api/admin/subject/close?subject=S: ends the streams opened by subject S (a JWT's sub,
 *  or the `subject` of a forward-auth answer). */
boost::asio::awaitable<Reply> handle_admin_close_subject(const HttpRequest& req,
                                                         GatewayState& state);

/** The /metrics lines of this file's numbers, the data path's histograms, build info and the
 *  process (appended to `out`). */
void write_ops_metrics(std::string& out, const GatewayState& state);

}  // namespace forrealtime::gateway
