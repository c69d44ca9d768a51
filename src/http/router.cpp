// The routing table and route(); see router.hpp.
#include "http/router.hpp"

#include <array>

#include "core/query.hpp"
#include "http/handlers.hpp"
#include "http/ops.hpp"
#include "http/state.hpp"

namespace forrealtime::gateway {
namespace {

constexpr std::string_view kSubscribePath = "/api/realtime";

// A synchronous handler as a route.
template <Reply (*F)(const HttpRequest&, GatewayState&)>
boost::asio::awaitable<Reply> sync(const HttpRequest& req, GatewayState& state) {
  co_return F(req, state);
}

const std::array kRoutes = {
    Route{kSubscribePath, kGet, "GET", nullptr},
    Route{"/api/emit", kPost, "POST", &handle_emit},
    Route{"/api/history", kGet, "GET", &handle_history},
    Route{"/healthz", kGet | kHead, "GET", &sync<&handle_health>},
    Route{"/metrics", kGet, "GET", &handle_metrics},
    Route{"/livez", kGet | kHead, "GET", &sync<&handle_livez>},
    Route{"/readyz", kGet | kHead, "GET", &sync<&handle_readyz>},
    Route{"/api/admin/stats", kGet, "GET", &handle_admin_stats},
    Route{"/api/admin/channels", kGet, "GET", &handle_admin_channels},
    Route{"/api/admin/channel", kGet, "GET", &handle_admin_channel},
    Route{"/api/admin/channel/close", kPost, "POST", &handle_admin_close},
    Route{"/api/admin/subject/close", kPost, "POST", &handle_admin_close_subject},
};

std::uint8_t method_flag(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get:
      return kGet;
    case bhttp::verb::head:
      return kHead;
    case bhttp::verb::post:
      return kPost;
    case bhttp::verb::put:
      return kPut;
    case bhttp::verb::delete_:
      return kDelete;
    default:
      return 0;
  }
}

const Route* find_route(std::string_view path) {
  for (auto& r : kRoutes)
    if (r.path == path) return &r;
  return nullptr;
}

}  // namespace

std::span<const Route> routes() {
  return kRoutes;
}

bool opens_stream(const HttpRequest& req) {
  return req.method() == bhttp::verb::get &&
         core::path_of(std::string_view(req.target())) == kSubscribePath;
}

boost::asio::awaitable<Reply> route(const HttpRequest& req, GatewayState& state,
                                    Listener listener) {
  auto method = req.method();
  auto path = core::path_of(std::string_view(req.target()));
  // With a separate admin listener, each listener serves only its own paths.
  if (!served_on(listener, path, state))
    co_return error_response(state, req, bhttp::status::not_found, "not found");
  if (method == bhttp::verb::options) co_return handle_preflight(req, state);
  auto not_allowed = [&](std::string_view allow) {
    auto res = error_response(state, req, bhttp::status::method_not_allowed,
                              "method not allowed; use " + std::string(allow));
    res.set(bhttp::field::allow, allow);
    return res;
  };
  if (auto* r = find_route(path)) {
    if (!(method_flag(method) & r->methods) || !r->handler) {
      if (r->path == kSubscribePath) state.metrics.subscribe_rejected++;
      co_return not_allowed(r->allow);
    }
    // Named first: GCC 12 destroys temporaries of a co_await expression twice.
    auto op = r->handler(req, state);
    co_return co_await std::move(op);
  }
  if (path.starts_with("/api/"))
    co_return error_response(state, req, bhttp::status::not_found, "no such endpoint");
  if (method != bhttp::verb::get && method != bhttp::verb::head) co_return not_allowed("GET");
  // The console: always at /console/, and at / when no static directory takes it.
  if (path == "/console" || path.starts_with("/console/") ||
      (path == "/" && state.options.static_dir.empty()))
    co_return handle_console(req, state);
  co_return handle_static(req, state);
}

}  // namespace forrealtime::gateway
