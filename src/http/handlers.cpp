// The request handlers; see handlers.hpp. They reach the library through the few calls at the
// top of this file (append, history, health), so the rest is HTTP only.
#include "http/handlers.hpp"

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/events.hpp"
#include "core/names.hpp"
#include "core/query.hpp"
#include "http/authorize.hpp"
#include "http/emit_body.hpp"
#include "http/log_limit.hpp"
#include "http/metrics.hpp"
#include "http/ops.hpp"
#include "http/state.hpp"
#include "http/static_files.hpp"
#include "http/status.hpp"
#include "realtime/core.hpp"
#include "store/await.hpp"

namespace forrealtime::gateway {

namespace asio = boost::asio;

namespace {

// Realtime::async_emit_batch as an awaitable that resumes on the handler's executor; co_awaited
// where it is made (no coroutine frame of its own per emit).
auto emit_batch(Realtime& rt, std::vector<EmitItem> items) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(EmitBatchResult)>(
      [&rt, items = std::move(items)](auto handler) mutable {
        using H = decltype(handler);
        auto ex = asio::get_associated_executor(handler);
        auto shared = std::make_shared<H>(std::move(handler));
        rt.async_emit_batch(std::move(items), [ex, shared](EmitBatchResult r) mutable {
          asio::post(ex,
                     [shared, r = std::move(r)]() mutable { std::move (*shared)(std::move(r)); });
        });
      },
      asio::use_awaitable);
}

// One encoded event appended (RealtimeCore::async_append_encoded) as an awaitable that resumes
// on the handler's executor: a single emit without the batch's shared state.
auto append_one(detail::RealtimeCore& core, std::string_view channel, std::string message,
                std::string key) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(Result<StreamId>)>(
      [&core, channel, message = std::move(message), key = std::move(key)](auto handler) mutable {
        using H = decltype(handler);
        auto ex = asio::get_associated_executor(handler);
        auto shared = std::make_shared<H>(std::move(handler));
        core.async_append_encoded(
            channel, std::move(message),
            [ex, shared](Result<StreamId> r) mutable {
              asio::post(ex, [shared, r]() mutable { std::move (*shared)(r); });
            },
            std::move(key));
      },
      asio::use_awaitable);
}

// The answer to an emit the library refused or the store failed.
Reply emit_error(GatewayState& state, const HttpRequest& req, bool batch, const EmitError& e) {
  auto& metrics = state.metrics;
  auto status = static_cast<bhttp::status>(detail::status_for(e.code));
  std::string where = batch ? "item " + std::to_string(e.index) + ": " : "";
  if (status == bhttp::status::bad_request) {
    metrics.emit_rejected++;
    return error_response(state, req, status, where + e.why);
  }
  metrics.emit_failed++;
  if (status == bhttp::status::gateway_timeout)
    return error_response(
        state, req, status,
        "the store did not answer in time: the event may have been stored; retry with the "
        "same Idempotency-Key, or read the history first (" +
            e.code.message() + ")");
  if (batch)
    return error_response(state, req, status,
                          where + "the store could not append it (" + e.code.message() +
                              "); other items may have been stored: retry with "
                              "idempotency keys");
  return error_response(state, req, status,
                        "the store could not append, nothing was stored: " + e.code.message());
}

}  // namespace

asio::awaitable<Reply> handle_emit(const HttpRequest& req, GatewayState& state) {
  auto& metrics = state.metrics;
  if (auto refused = check_emit_origin(state, req)) {
    metrics.emit_rejected++;
    co_return std::move(*refused);
  }
  if (auto refused = check_emit_token(state, req)) {
    metrics.emit_rejected++;
    co_return std::move(*refused);
  }
  auto key_header = req["Idempotency-Key"];
  std::string_view header_key(key_header.data(), key_header.size());
  if (!header_key.empty())
    if (auto why = check_idempotency_key(header_key)) {
      metrics.emit_rejected++;
      co_return error_response(state, req, bhttp::status::bad_request, "Idempotency-Key: " + *why);
    }
  // A single emit without a schema or an authorize hook (the usual one): the body is read in one
  // pass into its stored message (encode_emit_body) and appended without the batch's machinery;
  // the same checks, answers and metrics as the general path below, which takes anything else.
  if (!state.options.authorize && !state.core.checks_schema())
    if (auto fast = encode_emit_body(req.body(), header_key)) {
      std::string why;  // check_emit reads no data without a schema
      if (auto ec = state.core.check_emit(fast->channel, fast->event, boost::json::value(), &why))
        co_return emit_error(state, req, false, EmitError{ec, 0, std::move(why)});
      auto started = std::chrono::steady_clock::now();
      auto op = append_one(state.core, fast->channel,
                           core::encode_message_text(fast->channel, fast->event, fast->data),
                           std::move(fast->idempotency_key));
      auto id = co_await std::move(op);
      state.core.hub->metrics()
          .store(metrics::StoreOp::append)
          .observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      if (!id)
        co_return emit_error(state, req, false, EmitError{id.error(), 0, id.error().message()});
      metrics.emitted += 1;
      std::string reply = "{\"id\":\"";
      id->append_to(reply);
      reply += "\"}";
      if (req.find(bhttp::field::origin) == req.end())
        co_return JsonOk{std::move(reply), req.keep_alive()};
      co_return make_response(state, req, bhttp::status::ok, std::move(reply));
    }
  auto parsed = parse_emit_body(req.body(), header_key);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    metrics.emit_rejected++;
    co_return error_response(state, req, bhttp::status::bad_request, *why);
  }
  auto& body = std::get<EmitBody>(parsed);
  if (state.options.authorize) {
    std::vector<std::string> channels;
    for (auto& item : body.items)
      if (std::find(channels.begin(), channels.end(), item.channel) == channels.end())
        channels.push_back(item.channel);
    auto check = authorize(state, req, Operation::emit, channels);
    if (auto refused = co_await std::move(check)) {
      metrics.emit_rejected++;
      co_return std::move(*refused);
    }
  }
  auto n = body.items.size();
  // Named first: GCC 12 destroys temporaries of a co_await expression twice.
  auto started = std::chrono::steady_clock::now();
  auto emit_op = emit_batch(state.realtime, std::move(body.items));
  auto ids = co_await std::move(emit_op);
  state.core.hub->metrics()
      .store(metrics::StoreOp::append)
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!ids) co_return emit_error(state, req, body.batch, ids.error());
  metrics.emitted += n;
  co_return make_response(state, req, bhttp::status::ok, emit_reply(body.batch, *ids));
}

asio::awaitable<Reply> handle_history(const HttpRequest& req, GatewayState& state) {
  state.metrics.history_requests++;
  auto parsed = core::parse_history(core::query_of(std::string_view(req.target())));
  if (auto* err = std::get_if<core::QueryError>(&parsed))
    co_return error_response(state, req, bhttp::status::bad_request, err->message);
  auto& h = std::get<core::HistoryRequest>(parsed);
  if (state.options.authorize) {
    // Named: the coroutine keeps a reference to it.
    std::vector<std::string> channels{h.channel};
    auto check = authorize(state, req, Operation::history, channels);
    if (auto refused = co_await std::move(check)) co_return std::move(*refused);
  }
  HistoryQuery q;
  q.limit = h.limit;
  q.last = h.last;
  q.after = h.after;
  q.start = h.start;
  q.end = h.end;
  auto& core = state.core;
  auto started = std::chrono::steady_clock::now();
  auto events = co_await detail::await_store<std::vector<Event>>(
      [&](auto cb) { core.async_history(h.channel, q, std::move(cb)); });
  core.hub->metrics()
      .store(metrics::StoreOp::range)
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!events) {
    auto ec = events.error();
    if (ec != condition::invalid_input)
      co_return error_response(state, req, static_cast<bhttp::status>(detail::status_for(ec)),
                               "the store could not be read: " + ec.message());
    std::string why = ec.message();
    if (ec == errc::invalid_channel) why = "invalid channel: " + *core::check_channel(h.channel);
    co_return error_response(state, req, bhttp::status::bad_request, why);
  }
  // The answer stops before the event that would take it past max_history_bytes (at least one
  // is sent): with `last`, the oldest are left out, so that the newest stay and the reader can
  // page back from the first id; otherwise the newest, so that paging on with `after` goes on.
  std::size_t cap = state.options.max_history_bytes;
  std::vector<std::string> parts;
  parts.reserve(events->size());
  std::size_t total = 2;
  bool truncated = false;
  auto take = [&](const Event& e) {
    std::string one;
    core::write_event_json(e.id, e.channel, e.event, e.data, one);
    if (cap && !parts.empty() && total + one.size() + 1 > cap) return false;
    total += one.size() + (parts.empty() ? 0 : 1);
    parts.push_back(std::move(one));
    return true;
  };
  if (h.last) {
    for (auto it = events->rbegin(); it != events->rend(); ++it)
      if (!take(*it)) {
        truncated = true;
        break;
      }
    std::reverse(parts.begin(), parts.end());
  } else {
    for (auto& e : *events)
      if (!take(e)) {
        truncated = true;
        break;
      }
  }
  std::string out;
  out.reserve(total);
  out.push_back('[');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out.push_back(',');
    out += parts[i];
  }
  out.push_back(']');
  auto res = make_response(state, req, bhttp::status::ok, std::move(out));
  if (truncated) {
    core.hub->metrics().hit(metrics::Limit::history_bytes);
    res.set("Forrealtime-Truncated", "bytes");
    std::uint64_t suppressed = 0;
    if (state.limit_lines.allow(suppressed)) {
      if (suppressed) state.log().warn("{} lines about limits reached suppressed", suppressed);
      state.log().info("history of '{}' cut at {} events, {} bytes (max_history_bytes {})",
                       log_excerpt(h.channel), parts.size(), total, cap);
    }
  }
  co_return res;
}

Reply handle_health(const HttpRequest& req, GatewayState& state) {
  auto& core = state.core;
  bool store_healthy = core.store->healthy();
  bool ok = store_healthy && !core.shutting_down.load();
  std::string body = std::string("{\"status\":\"") + (ok ? "ok" : "unavailable") +
                     "\",\"store\":\"" + std::string(core.store->name()) +
                     "\",\"store_healthy\":" + (store_healthy ? "true" : "false") +
                     ",\"streams\":" + std::to_string(core.hub->stream_count()) + "}";
  return make_response(state, req, ok ? bhttp::status::ok : bhttp::status::service_unavailable,
                       std::move(body));
}

asio::awaitable<Reply> handle_metrics(const HttpRequest& req, GatewayState& state) {
  // Without authorization /metrics stays open as before (bind it to loopback or --admin-port);
  // with it, the numbers are an operator's: the admin token or the admin grant.
  if (state.options.authorize)
    if (auto refused = co_await check_admin(state, req)) co_return std::move(*refused);
  co_return make_response(state, req, bhttp::status::ok, metrics_text(state),
                          "text/plain; version=0.0.4");
}

Reply handle_static(const HttpRequest& req, GatewayState& state) {
  auto& dir = state.options.static_dir;
  auto not_found = [&] {
    return error_response(state, req, bhttp::status::not_found, "not found");
  };
  if (dir.empty()) return not_found();
  auto path = core::path_of(std::string_view(req.target()));
  auto mapped = detail::static_path(dir, path);
  if (!mapped) return not_found();
  auto file = detail::resolve_inside(dir, *mapped);
  if (!file) return not_found();
  // The file is streamed from disk by the writer (file_body), never read whole.
  boost::beast::error_code ec;
  bhttp::file_body::value_type body;
  body.open(file->c_str(), boost::beast::file_mode::scan, ec);
  if (ec) return not_found();
  auto size = body.size();
  auto type = detail::content_type_for(*mapped);
  if (req.method() == bhttp::verb::head) {
    auto res = make_response(state, req, bhttp::status::ok, "", type);
    res.set(bhttp::field::cache_control, "no-cache");
    res.content_length(size);
    return res;
  }
  FileResponse res{std::piecewise_construct, std::make_tuple(std::move(body)),
                   std::make_tuple(bhttp::status::ok, req.version())};
  res.set(bhttp::field::server, "forrealtime");
  res.set(bhttp::field::content_type, type);
  if (!state.allow_origin().empty())
    res.set(bhttp::field::access_control_allow_origin, state.allow_origin());
  res.set(bhttp::field::cache_control, "no-cache");
  res.content_length(size);
  res.keep_alive(req.keep_alive());
  return res;
}

Reply handle_preflight(const HttpRequest& req, GatewayState& state) {
  auto res = make_response(state, req, bhttp::status::no_content, "");
  res.set(bhttp::field::access_control_allow_methods, "GET, POST, OPTIONS");
  res.set(bhttp::field::access_control_allow_headers, "Content-Type, Authorization");
  res.set(bhttp::field::access_control_max_age, "600");
  return res;
}

}  // namespace forrealtime::gateway
