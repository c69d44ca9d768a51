// Probes, the console, the admin API and the operator's metrics; see ops.hpp.
#include "http/ops.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/use_awaitable.hpp>

#include "console/console.hpp"
#include "core/events.hpp"
#include "core/json_text.hpp"
#include "core/names.hpp"
#include "core/query.hpp"
#include "forrealtime/version.hpp"
#include "http/authorize.hpp"
#include "http/metrics.hpp"
#include "http/state.hpp"
#include "metrics/process.hpp"
#include "realtime/core.hpp"
#include "store/await.hpp"

namespace forrealtime::gateway {

namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(RouteLabel::count_)> kRouteNames{
    "subscribe", "emit", "history", "probe", "metrics", "admin", "console", "static", "other"};

bool is_probe(std::string_view path) {
  return path == "/livez" || path == "/readyz" || path == "/healthz";
}
bool is_admin(std::string_view path) {
  return path == "/metrics" || path.starts_with("/api/admin/") || path == "/console" ||
         path.starts_with("/console/");
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

// The admin credential: the admin token when set, or else the Authorizer's `admin` grant.
boost::asio::awaitable<std::optional<HttpResponse>> check_admin(GatewayState& state,
                                                                const HttpRequest& req) {
  auto& token = state.options.admin_token;
  if (!token.empty()) {
    auto auth = req[bhttp::field::authorization];
    std::string_view a(auth.data(), auth.size());
    if (a.starts_with("Bearer ") && constant_time_equal(a.substr(7), token)) co_return std::nullopt;
    if (!state.options.authorize) {
      auto r = error_response(state, req, bhttp::status::unauthorized,
                              "the admin API needs `Authorization: Bearer <admin token>`");
      r.set(bhttp::field::www_authenticate, "Bearer realm=\"forrealtime admin\"");
      r.set(bhttp::field::cache_control, "no-store");
      co_return r;
    }
  }
  if (state.options.authorize) {
    static const std::vector<std::string> none;
    auto check = authorize(state, req, Operation::admin, none);
    if (auto refused = co_await std::move(check)) {
      refused->set(bhttp::field::cache_control, "no-store");
      co_return refused;
    }
  }
  co_return std::nullopt;
}

namespace {

HttpResponse json_reply(GatewayState& state, const HttpRequest& req, std::string body,
                        bhttp::status status = bhttp::status::ok) {
  auto res = make_response(state, req, status, std::move(body));
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

std::optional<std::string> query_param(const HttpRequest& req, std::string_view name) {
  auto form = core::parse_form(core::query_of(std::string_view(req.target())));
  if (!form) return std::nullopt;
  for (auto& [k, v] : *form)
    if (k == name) return v;
  return std::nullopt;
}
std::optional<std::string> channel_param(const HttpRequest& req) {
  return query_param(req, "channel");
}

void append_number(std::string& out, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  out += buf;
}

}  // namespace

void OpsState::count(RouteLabel route, unsigned status) {
  std::size_t i = 0;
  while (i + 1 < codes.size() && codes[i] != status) ++i;
  requests[static_cast<std::size_t>(route)][i].fetch_add(1, std::memory_order_relaxed);
}

RouteLabel route_label(std::string_view path) {
  if (path == "/api/realtime") return RouteLabel::subscribe;
  if (path == "/api/emit") return RouteLabel::emit;
  if (path == "/api/history") return RouteLabel::history;
  if (is_probe(path)) return RouteLabel::probe;
  if (path == "/metrics") return RouteLabel::metrics;
  if (path.starts_with("/api/admin/")) return RouteLabel::admin;
  if (path == "/console" || path.starts_with("/console/")) return RouteLabel::console;
  if (path.starts_with("/api/")) return RouteLabel::other;
  return RouteLabel::static_files;
}

bool served_on(Listener listener, std::string_view path, const GatewayState& state) {
  if (state.options.admin_port < 0) return listener == Listener::main;
  if (is_probe(path)) return true;
  bool admin = is_admin(path) || (path == "/" && state.options.static_dir.empty());
  return listener == Listener::admin ? admin : !admin;
}

// --- probes
// ----------------------------------------------------------------------------------------

Reply handle_livez(const HttpRequest& req, GatewayState& state) {
  auto res = make_response(state, req, bhttp::status::ok, R"({"status":"alive"})");
  res.set(bhttp::field::cache_control, "no-store");
  if (req.method() == bhttp::verb::head) res.body().clear();
  return res;
}

Reply handle_readyz(const HttpRequest& req, GatewayState& state) {
  auto& core = state.core;
  bool store_ok = core.store->healthy();
  bool draining = state.ops.draining.load(std::memory_order_relaxed) || core.shutting_down.load();
  bool ready = store_ok && !draining;
  std::string body = std::string("{\"status\":\"") + (ready ? "ready" : "unavailable") + "\"";
  if (!ready)
    body += std::string(",\"reason\":\"") + (draining ? "draining" : "store unavailable") + "\"";
  body += ",\"store\":\"" + std::string(core.store->name()) +
          "\",\"store_healthy\":" + (store_ok ? "true" : "false") +
          ",\"draining\":" + (draining ? "true" : "false") + "}";
  auto res = make_response(
      state, req, ready ? bhttp::status::ok : bhttp::status::service_unavailable, std::move(body));
  res.set(bhttp::field::cache_control, "no-store");
  if (req.method() == bhttp::verb::head) res.body().clear();
  return res;
}

// --- the console
// -----------------------------------------------------------------------------------

Reply handle_console(const HttpRequest& req, GatewayState& state) {
  auto path = core::path_of(std::string_view(req.target()));
  auto* asset = console::find_asset(path);
  if (!asset) return error_response(state, req, bhttp::status::not_found, "not found");
  auto inm = req[bhttp::field::if_none_match];
  bool fresh = !inm.empty() &&
               std::string_view(inm.data(), inm.size()).find(asset->etag) != std::string_view::npos;
  auto res = make_response(state, req, fresh ? bhttp::status::not_modified : bhttp::status::ok,
                           fresh ? std::string() : std::string(asset->body), asset->content_type);
  res.set(bhttp::field::etag, asset->etag);
  res.set(bhttp::field::cache_control, console::cache_control);
  res.set("X-Content-Type-Options", "nosniff");
  // The console loads only its own files and talks only to this gateway.
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
  res.set("Referrer-Policy", "no-referrer");
  if (fresh) {
    res.body().clear();
    res.content_length(0);
  }
  if (req.method() == bhttp::verb::head) res.body().clear();
  return res;
}

// --- the admin API
// ---------------------------------------------------------------------------------

boost::asio::awaitable<Reply> handle_admin_stats(const HttpRequest& req, GatewayState& state) {
  if (auto refused = co_await check_admin(state, req)) co_return std::move(*refused);
  auto& core = state.core;
  auto& dp = core.hub->metrics();
  auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - state.ops.started);
  bool store_ok = core.store->healthy();
  bool draining = state.ops.draining.load() || core.shutting_down.load();
  std::string out = "{\"version\":\"" FORREALTIME_VERSION "\",\"uptime_secs\":";
  append_number(out, uptime.count());
  out += ",\"store\":{\"name\":";
  core::write_json_string(core.store->name(), out);
  out += ",\"healthy\":";
  out += store_ok ? "true" : "false";
  out += "},\"ready\":";
  out += store_ok && !draining ? "true" : "false";
  out += ",\"draining\":";
  out += draining ? "true" : "false";
  out += ",\"connections\":" + std::to_string(state.ops.connections.load());
  out += ",\"streams\":" + std::to_string(core.hub->stream_count());
  out += ",\"events_in_total\":" + std::to_string(state.metrics.emitted.load());
  out += ",\"deliveries_total\":" + std::to_string(core.hub->delivered().load());
  out += ",\"slow_consumer_drops_total\":" + std::to_string(dp.slow_consumer_disconnects.load());
  auto& append = dp.store(metrics::StoreOp::append);
  out += ",\"store_latency_seconds\":{\"p50\":";
  append_number(out, append.quantile(0.5));
  out += ",\"p99\":";
  append_number(out, append.quantile(0.99));
  out += "},\"delivery_latency_seconds\":{\"p50\":";
  append_number(out, dp.delivery_latency.quantile(0.5));
  out += ",\"p99\":";
  append_number(out, dp.delivery_latency.quantile(0.99));
  out += "},\"channels\":[";
  auto channels = core.hub->channel_stats();
  // The console shows the top ten by subscribers and by rate: send the top 100 by each.
  if (channels.size() > 200) {
    std::vector<detail::Hub::ChannelStats> keep;
    std::partial_sort(channels.begin(), channels.begin() + 100, channels.end(),
                      [](auto& a, auto& b) { return a.subscribers > b.subscribers; });
    keep.assign(channels.begin(), channels.begin() + 100);
    std::partial_sort(channels.begin() + 100, channels.begin() + 200, channels.end(),
                      [](auto& a, auto& b) { return a.events > b.events; });
    keep.insert(keep.end(), channels.begin() + 100, channels.begin() + 200);
    channels = std::move(keep);
  }
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"channel\":";
    core::write_json_string(channels[i].channel, out);
    out += ",\"subscribers\":" + std::to_string(channels[i].subscribers) +
           ",\"events_total\":" + std::to_string(channels[i].events) + "}";
  }
  out += "]";
  if (state.options.extra_stats) state.options.extra_stats(out);
  out += "}";
  co_return json_reply(state, req, std::move(out));
}

boost::asio::awaitable<Reply> handle_admin_channels(const HttpRequest& req, GatewayState& state) {
  if (auto refused = co_await check_admin(state, req)) co_return std::move(*refused);
  auto channels = state.core.hub->channel_stats();
  std::sort(channels.begin(), channels.end(), [](auto& a, auto& b) {
    return a.subscribers != b.subscribers ? a.subscribers > b.subscribers : a.channel < b.channel;
  });
  std::string out = "{\"channels\":[";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i) out.push_back(',');
    out += "{\"channel\":";
    core::write_json_string(channels[i].channel, out);
    out += ",\"subscribers\":" + std::to_string(channels[i].subscribers) + "}";
  }
  out += "]}";
  co_return json_reply(state, req, std::move(out));
}

boost::asio::awaitable<Reply> handle_admin_channel(const HttpRequest& req, GatewayState& state) {
  if (auto refused = co_await check_admin(state, req)) co_return std::move(*refused);
  auto channel = channel_param(req);
  if (!channel)
    co_return error_response(state, req, bhttp::status::bad_request, "give ?channel=NAME");
  if (auto why = core::check_channel(*channel))
    co_return error_response(state, req, bhttp::status::bad_request, "invalid channel: " + *why);
  auto& core = state.core;
  auto started = std::chrono::steady_clock::now();
  auto info = co_await detail::await_store<StreamInfo>(
      [&](auto cb) { core.store->async_info(*channel, std::move(cb)); });
  core.hub->metrics()
      .store(metrics::StoreOp::info)
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!info)
    co_return error_response(state, req, bhttp::status::service_unavailable,
                             "the store could not be read: " + info.error().message());
  std::size_t subscribers = 0;
  for (auto& c : core.hub->channel_stats())
    if (c.channel == *channel) subscribers = c.subscribers;
  std::string out = "{\"channel\":";
  core::write_json_string(*channel, out);
  out += ",\"length\":" + std::to_string(info->length);
  out += ",\"first_id\":\"" + info->first.to_string() + "\"";
  out += ",\"last_id\":\"" + info->last.to_string() + "\"";
  out += ",\"entries_added\":" + std::to_string(info->entries_added);
  out += ",\"subscribers\":" + std::to_string(subscribers) + "}";
  co_return json_reply(state, req, std::move(out));
}

boost::asio::awaitable<Reply> handle_admin_close(const HttpRequest& req, GatewayState& state) {
  if (auto refused = co_await check_admin(state, req)) co_return std::move(*refused);
  auto channel = channel_param(req);
  if (!channel)
    co_return error_response(state, req, bhttp::status::bad_request, "give ?channel=NAME");
  if (auto why = core::check_channel(*channel))
    co_return error_response(state, req, bhttp::status::bad_request, "invalid channel: " + *why);
  auto& hub = *state.core.hub;
  auto closed = co_await detail::await_store<std::size_t>([&](auto cb) {
    hub.end_streams(*channel, [cb = std::move(cb)](std::size_t n) mutable { cb(n); });
  });
  std::size_t n = closed ? *closed : 0;
  state.log().info("admin: ended {} stream(s) of channel '{}' with reconnect", n, *channel);
  co_return json_reply(state, req, "{\"closed\":" + std::to_string(n) + "}");
}

boost::asio::awaitable<Reply> handle_admin_close_subject(const HttpRequest& req,
                                                         GatewayState& state) {
  if (auto refused = co_await check_admin(state, req)) co_return std::move(*refused);
  auto subject = query_param(req, "subject");
  if (!subject || subject->empty() || subject->size() > 1024)
    co_return error_response(state, req, bhttp::status::bad_request,
                             "give ?subject=SUB (a token's sub, 1 to 1024 bytes)");
  auto& hub = *state.core.hub;
  auto closed = co_await detail::await_store<std::size_t>([&](auto cb) {
    hub.end_subject_streams(*subject, [cb = std::move(cb)](std::size_t n) mutable { cb(n); });
  });
  std::size_t n = closed ? *closed : 0;
  state.log().info("admin: ended {} stream(s) of subject '{}' with reconnect", n, *subject);
  co_return json_reply(state, req, "{\"closed\":" + std::to_string(n) + "}");
}

// --- metrics
// ---------------------------------------------------------------------------------------

void write_ops_metrics(std::string& out, const GatewayState& state) {
  auto& core = state.core;
  auto& dp = core.hub->metrics();
  auto head = [&](std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out.append(name).append(" ").append(type).append("\n");
  };
  head("forrealtime_build_info", "gauge", "Always 1; the labels say which build runs.");
  out.append("forrealtime_build_info{version=\"" FORREALTIME_VERSION "\",compiler=\"");
#if defined(__clang__)
  out.append("clang " __clang_version__);
#elif defined(__GNUC__)
  out.append("gcc " __VERSION__);
#endif
  out.append("\"} 1\n");

  bool store_ok = core.store->healthy();
  bool draining = state.ops.draining.load() || core.shutting_down.load();
  head("forrealtime_ready", "gauge", "1 when /readyz answers 200 (store reachable, not draining).");
  out.append("forrealtime_ready ").append(store_ok && !draining ? "1" : "0").append("\n");
  head("forrealtime_draining", "gauge", "1 once SIGTERM started the drain.");
  out.append("forrealtime_draining ").append(draining ? "1" : "0").append("\n");
  head("forrealtime_connections", "gauge", "Open HTTP connections (streams included).");
  out.append("forrealtime_connections ")
      .append(std::to_string(state.ops.connections.load()))
      .append("\n");
  head("forrealtime_uptime_seconds", "gauge", "Seconds since the gateway started.");
  out.append("forrealtime_uptime_seconds ");
  append_number(
      out,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - state.ops.started).count());
  out.append("\n");

  head("forrealtime_http_requests_total", "counter",
       "HTTP requests answered, by route and status code (subscribe: streams opened).");
  for (std::size_t r = 0; r < kRouteNames.size(); ++r)
    for (std::size_t c = 0; c < OpsState::codes.size(); ++c) {
      auto v = state.ops.requests[r][c].load(std::memory_order_relaxed);
      if (!v) continue;
      out.append("forrealtime_http_requests_total{route=\"").append(kRouteNames[r]);
      out.append("\",code=\"")
          .append(OpsState::codes[c] ? std::to_string(OpsState::codes[c]) : "other");
      out.append("\"} ").append(std::to_string(v)).append("\n");
    }

  head("forrealtime_delivery_latency_seconds", "histogram",
       "From an event's id (its append time, ms resolution) to its frame queued to a stream.");
  dp.delivery_latency.write(out, "forrealtime_delivery_latency_seconds");
  head("forrealtime_store_operation_duration_seconds", "histogram",
       "Store operations as the gateway waits for them, by operation.");
  for (std::size_t i = 0; i < metrics::store_op_names.size(); ++i)
    dp.store_latency[i].write(out, "forrealtime_store_operation_duration_seconds",
                              "op=\"" + std::string(metrics::store_op_names[i]) + "\"");
  head("forrealtime_stream_queue_bytes", "histogram",
       "Bytes a stream had unsent when it started a write (its queue depth).");
  dp.stream_queue_bytes.write(out, "forrealtime_stream_queue_bytes");
  head("forrealtime_slow_consumer_disconnects_total", "counter",
       "Streams told to reconnect because they fell behind (over the unsent-bytes limit).");
  out.append("forrealtime_slow_consumer_disconnects_total ")
      .append(std::to_string(dp.slow_consumer_disconnects.load()))
      .append("\n");
  head("forrealtime_limits_hit_total", "counter", "Requests or streams that ran into a limit.");
  for (std::size_t i = 0; i < metrics::limit_names.size(); ++i)
    out.append("forrealtime_limits_hit_total{limit=\"")
        .append(metrics::limit_names[i])
        .append("\"} ")
        .append(std::to_string(dp.limits_hit[i].load()))
        .append("\n");
  head("forrealtime_store_reconnects_total", "counter",
       "Times the store's connection came back after a loss (Redis).");
  out.append("forrealtime_store_reconnects_total ")
      .append(std::to_string(core.store->reconnects()))
      .append("\n");
  if (state.options.extra_metrics) state.options.extra_metrics(out);
  metrics::write_process_metrics(out, metrics::read_process_stats());
}

}  // namespace forrealtime::gateway
