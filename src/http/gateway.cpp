// The gateway: Beast HTTP/1.1 on one io_context per thread, each with its own SO_REUSEPORT
// acceptor, so a connection lives on one worker for its whole life and nothing on the data path
// is shared between threads but the hub's routes. Subscribe requests leave Beast as soon as
// their head is read: the socket goes to a SocketSink and the hub.
#include "forrealtime/gateway.hpp"

#include <atomic>
#include <condition_variable>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include "core/events.hpp"
#include "core/json_text.hpp"
#include "core/names.hpp"
#include "core/query.hpp"
#include "forrealtime/beast.hpp"
#include "http/static_files.hpp"
#include "realtime/core.hpp"
#include "store/await.hpp"

namespace forrealtime {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

struct Metrics {
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> subscribes{0};
  std::atomic<std::uint64_t> subscribe_rejected{0};
  std::atomic<std::uint64_t> emitted{0};
  std::atomic<std::uint64_t> emit_rejected{0};
  std::atomic<std::uint64_t> emit_failed{0};
  std::atomic<std::uint64_t> history_requests{0};
};

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// One item of an emit body, checked and encoded, ready to append.
struct EmitItem {
  std::string channel;
  std::string message;
};

// Waits for `n` appends started together (pipelined on a store that can) and collects their ids
// in order; the first error wins.
asio::awaitable<Result<std::vector<StreamId>>> append_all(detail::RealtimeCore& core,
                                                          std::vector<EmitItem> items) {
  // Named, not a temporary of the co_await expression: GCC 12 destroys such temporaries twice.
  auto op =
      asio::async_initiate<decltype(asio::use_awaitable), void(Result<std::vector<StreamId>>)>(
          [&core, items = std::move(items)](auto handler) mutable {
            using H = decltype(handler);
            struct State {
              H handler;
              asio::any_io_executor ex;
              std::mutex mu;
              std::vector<StreamId> ids;
              std::size_t left;
              boost::system::error_code error;
            };
            auto ex = asio::get_associated_executor(handler);
            auto st = std::shared_ptr<State>(new State{
                std::move(handler), ex, {}, std::vector<StreamId>(items.size()), items.size(), {}});
            for (std::size_t i = 0; i < items.size(); ++i) {
              core.async_append_encoded(items[i].channel, std::move(items[i].message),
                                        [st, i](Result<StreamId> r) {
                                          std::unique_lock lock(st->mu);
                                          if (r)
                                            st->ids[i] = *r;
                                          else if (!st->error)
                                            st->error = r.error();
                                          if (--st->left) return;
                                          lock.unlock();
                                          asio::post(st->ex, [st] {
                                            if (st->error)
                                              std::move(st->handler)(st->error);
                                            else
                                              std::move(st->handler)(std::move(st->ids));
                                          });
                                        });
            }
          },
          asio::use_awaitable);
  co_return co_await std::move(op);
}

}  // namespace

struct Gateway::Impl {
  Realtime& rt;
  detail::RealtimeCore& core;
  GatewayOptions options;
  Handler handler;
  Metrics metrics;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::uint16_t bound_port = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  bool started = false;

  Impl(Realtime& r, GatewayOptions o)
      : rt(r), core(*r.core()), options(std::move(o)), handler(handle(r, options.middleware)) {}

  spdlog::logger& log() { return *core.log; }

  // --- responses ---------------------------------------------------------------------------------

  HttpResponse make(const HttpRequest& req, http::status status, std::string body,
                    std::string_view type = "application/json") {
    HttpResponse res{status, req.version()};
    res.set(http::field::server, "forrealtime");
    res.set(http::field::content_type, type);
    if (!core.options.allow_origin.empty())
      res.set(http::field::access_control_allow_origin, core.options.allow_origin);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  HttpResponse error(const HttpRequest& req, http::status status, std::string_view message) {
    log().info("{} {} -> {}: {}", std::string_view(req.method_string()),
               std::string_view(req.target()), static_cast<unsigned>(status), message);
    return make(req, status, core::error_body(message));
  }

  // --- endpoints ---------------------------------------------------------------------------------

  asio::awaitable<HttpResponse> emit(const HttpRequest& req) {
    if (!options.emit_token.empty()) {
      auto auth = req[http::field::authorization];
      std::string_view a(auth.data(), auth.size());
      if (!a.starts_with("Bearer ") || !constant_time_equal(a.substr(7), options.emit_token)) {
        metrics.emit_rejected++;
        auto r = error(req, http::status::unauthorized, "missing or wrong bearer token");
        r.set(http::field::www_authenticate, "Bearer");
        co_return r;
      }
    }
    boost::system::error_code ec;
    auto body = core::parse_json(req.body(), ec);
    if (ec) {
      metrics.emit_rejected++;
      co_return error(req, http::status::bad_request, "malformed JSON body: " + ec.message());
    }
    bool batch = body.is_array();
    if (batch && body.get_array().empty()) {
      metrics.emit_rejected++;
      co_return error(req, http::status::bad_request, "empty batch");
    }
    std::vector<EmitItem> items;
    auto check_one = [&](boost::json::value& v, std::size_t index) -> std::optional<std::string> {
      std::string where = batch ? "item " + std::to_string(index) + ": " : "";
      if (!v.is_object()) return where + "expected an object {channel?, event, data}";
      auto& o = v.get_object();
      std::string channel = "default";
      if (auto* c = o.if_contains("channel")) {
        if (!c->is_string()) return where + "channel must be a string";
        channel.assign(c->get_string().data(), c->get_string().size());
      }
      auto* e = o.if_contains("event");
      if (!e) return where + "missing event";
      if (!e->is_string()) return where + "event must be a string";
      auto* d = o.if_contains("data");
      if (!d) return where + "missing data";
      std::string_view event(e->get_string().data(), e->get_string().size());
      std::string why;
      if (core.check_emit(channel, event, *d, &why)) return where + why;
      items.push_back({channel, core::encode_message(channel, event, *d)});
      return std::nullopt;
    };
    if (batch) {
      auto& arr = body.get_array();
      for (std::size_t i = 0; i < arr.size(); ++i)
        if (auto why = check_one(arr[i], i)) {
          metrics.emit_rejected++;
          co_return error(req, http::status::bad_request, *why);
        }
    } else if (auto why = check_one(body, 0)) {
      metrics.emit_rejected++;
      co_return error(req, http::status::bad_request, *why);
    }
    auto n = items.size();
    // Named first: GCC 12 destroys temporaries of a co_await expression twice.
    auto append_op = append_all(core, std::move(items));
    auto ids = co_await std::move(append_op);
    if (!ids) {
      metrics.emit_failed++;
      co_return error(req, http::status::service_unavailable,
                      "the store could not append: " + ids.error().message());
    }
    metrics.emitted += n;
    std::string out;
    if (batch) {
      out = "{\"ids\":[";
      for (std::size_t i = 0; i < ids->size(); ++i) {
        if (i) out.push_back(',');
        out.push_back('"');
        (*ids)[i].append_to(out);
        out.push_back('"');
      }
      out += "]}";
    } else {
      out = "{\"id\":\"" + (*ids)[0].to_string() + "\"}";
    }
    co_return make(req, http::status::ok, std::move(out));
  }

  asio::awaitable<HttpResponse> history(const HttpRequest& req) {
    metrics.history_requests++;
    auto form = core::parse_form(core::query_of(std::string_view(req.target())));
    if (!form) co_return error(req, http::status::bad_request, "malformed query string");
    std::string channel = "default";
    HistoryQuery q;
    auto parse_u64 = [](const std::string& s, std::uint64_t& out) {
      if (s.empty() || s.size() > 20) return false;
      for (char c : s)
        if (c < '0' || c > '9') return false;
      out = std::stoull(s);
      return true;
    };
    for (auto& [k, v] : *form) {
      std::uint64_t n = 0;
      if (k == "channel") {
        channel = v;
      } else if (k == "limit") {
        if (!parse_u64(v, n) || n == 0)
          co_return error(req, http::status::bad_request, "limit must be a positive integer");
        q.limit = static_cast<std::size_t>(std::min<std::uint64_t>(n, 1000));
      } else if (k == "after") {
        auto id = StreamId::parse(v);
        if (!id) co_return error(req, http::status::bad_request, "after must be a stream id");
        q.after = *id;
      } else if (k == "start" || k == "end") {
        if (!parse_u64(v, n))
          co_return error(req, http::status::bad_request,
                          k + " must be milliseconds since the epoch");
        (k == "start" ? q.start : q.end) = n;
      }
    }
    auto events = co_await detail::await_store<std::vector<Event>>(
        [&](auto cb) { core.async_history(channel, q, std::move(cb)); });
    if (!events) {
      auto ec = events.error();
      if (ec == errc::store_failed)
        co_return error(req, http::status::service_unavailable, "the store could not be read");
      std::string why = ec.message();
      if (ec == errc::invalid_channel) why = "invalid channel: " + *core::check_channel(channel);
      co_return error(req, http::status::bad_request, why);
    }
    std::string out = "[";
    for (std::size_t i = 0; i < events->size(); ++i) {
      auto& e = (*events)[i];
      if (i) out.push_back(',');
      core::write_event_json(e.id, e.channel, e.event, e.data, out);
    }
    out.push_back(']');
    co_return make(req, http::status::ok, std::move(out));
  }

  HttpResponse health(const HttpRequest& req) {
    bool ok = core.store->healthy() && !core.shutting_down.load();
    std::string body = std::string("{\"status\":\"") + (ok ? "ok" : "unavailable") +
                       "\",\"store\":\"" + std::string(core.store->name()) +
                       "\",\"store_healthy\":" + (core.store->healthy() ? "true" : "false") +
                       ",\"streams\":" + std::to_string(core.hub->stream_count()) + "}";
    return make(req, ok ? http::status::ok : http::status::service_unavailable, std::move(body));
  }

  HttpResponse metrics_text(const HttpRequest& req) {
    std::string out;
    auto metric = [&](const char* type, const char* name, const char* help, std::uint64_t v) {
      out.append("# HELP ").append(name).append(" ").append(help);
      out.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
      out.append(name).append(" ").append(std::to_string(v)).append("\n");
    };
    auto counter = [&](const char* name, const char* help, std::uint64_t v) {
      metric("counter", name, help, v);
    };
    auto gauge = [&](const char* name, const char* help, std::uint64_t v) {
      metric("gauge", name, help, v);
    };
    gauge("forrealtime_streams", "Open SSE streams.", core.hub->stream_count());
    gauge("forrealtime_store_healthy", "1 when the store can serve.",
          core.store->healthy() ? 1 : 0);
    counter("forrealtime_http_requests_total", "HTTP requests read.", metrics.http_requests);
    counter("forrealtime_subscribes_total", "Streams opened.", metrics.subscribes);
    counter("forrealtime_subscribes_rejected_total", "Subscribe requests refused.",
            metrics.subscribe_rejected);
    counter("forrealtime_events_emitted_total", "Events appended through POST /api/emit.",
            metrics.emitted);
    counter("forrealtime_emits_rejected_total", "Emit requests refused (4xx).",
            metrics.emit_rejected);
    counter("forrealtime_emits_failed_total", "Emit requests the store failed (5xx).",
            metrics.emit_failed);
    counter("forrealtime_events_delivered_total", "Live events queued to streams.",
            core.hub->delivered().load());
    counter("forrealtime_history_requests_total", "History requests.", metrics.history_requests);
    return make(req, http::status::ok, std::move(out), "text/plain; version=0.0.4");
  }

  HttpResponse static_file(const HttpRequest& req, std::string_view path) {
    if (options.static_dir.empty()) return error(req, http::status::not_found, "not found");
    auto file = detail::static_path(options.static_dir, path);
    if (!file) return error(req, http::status::not_found, "not found");
    auto body = detail::read_file(*file);
    if (!body) return error(req, http::status::not_found, "not found");
    auto res = make(req, http::status::ok, std::move(*body), detail::content_type_for(*file));
    res.set(http::field::cache_control, "no-cache");
    if (req.method() == http::verb::head) res.body().clear();
    return res;
  }

  // --- connections -------------------------------------------------------------------------------

  asio::awaitable<void> run_connection(tcp::socket socket) {
    boost::beast::tcp_stream stream(std::move(socket));
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(core.options.limits.max_body_bytes);
      stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset || ec == boost::beast::error::timeout ||
          ec == asio::error::operation_aborted)
        co_return;
      if (ec) {
        http::status status = http::status::bad_request;
        std::string why = "malformed HTTP request: " + ec.message();
        if (ec == http::error::body_limit) {
          status = http::status::payload_too_large;
          why = "request body is larger than " +
                std::to_string(core.options.limits.max_body_bytes) + " bytes";
        } else if (ec == http::error::header_limit) {
          status = http::status::request_header_fields_too_large;
          why = "request headers are too large";
        }
        log().info("bad request from {}: {}", peer(stream), why);
        HttpResponse res{status, 11};
        res.set(http::field::content_type, "application/json");
        res.set(http::field::connection, "close");
        res.body() = core::error_body(why);
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
      }
      metrics.http_requests++;
      auto req = parser.release();
      std::string_view target(req.target().data(), req.target().size());
      auto path = core::path_of(target);

      if (path == "/api/realtime") {
        if (req.method() == http::verb::get) {
          metrics.subscribes++;
          auto serve_op = forrealtime::beast::serve(handler, std::move(stream), std::move(req));
          co_await std::move(serve_op);
          co_return;
        }
      }
      HttpResponse res = co_await route(req, path);
      bool keep = res.keep_alive();
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      if (wec || !keep) {
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
      }
    }
  }

  asio::awaitable<HttpResponse> route(const HttpRequest& req, std::string_view path) {
    auto method = req.method();
    if (method == http::verb::options) {
      auto res = make(req, http::status::no_content, "");
      res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
      res.set(http::field::access_control_allow_headers, "Content-Type, Authorization");
      res.set(http::field::access_control_max_age, "600");
      co_return res;
    }
    auto not_allowed = [&](const char* allow) {
      auto res = error(req, http::status::method_not_allowed,
                       std::string("method not allowed; use ") + allow);
      res.set(http::field::allow, allow);
      return res;
    };
    if (path == "/api/realtime") {
      metrics.subscribe_rejected++;
      co_return not_allowed("GET");
    }
    if (path == "/api/emit") {
      if (method != http::verb::post) co_return not_allowed("POST");
      co_return co_await emit(req);
    }
    if (path == "/api/history") {
      if (method != http::verb::get) co_return not_allowed("GET");
      co_return co_await history(req);
    }
    if (path == "/healthz") {
      if (method != http::verb::get && method != http::verb::head) co_return not_allowed("GET");
      co_return health(req);
    }
    if (path == "/metrics") {
      if (method != http::verb::get) co_return not_allowed("GET");
      co_return metrics_text(req);
    }
    if (path.starts_with("/api/"))
      co_return error(req, http::status::not_found, "no such endpoint");
    if (method != http::verb::get && method != http::verb::head) co_return not_allowed("GET");
    co_return static_file(req, path);
  }

  static std::string peer(boost::beast::tcp_stream& s) {
    error_code ec;
    auto ep = s.socket().remote_endpoint(ec);
    return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  asio::awaitable<void> run_accept(tcp::acceptor& acceptor) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: say so and back off instead of spinning.
        log().warn("accept failed: {}", ec.message());
        asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await t.async_wait(use_tuple);
        continue;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      asio::co_spawn(acceptor.get_executor(), run_connection(std::move(socket)),
                     [this](std::exception_ptr e) {
                       if (!e) return;
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         log().error("connection failed: {}", ex.what());
                       }
                     });
    }
  }
};

Gateway::Gateway(Realtime& realtime, GatewayOptions options)
    : impl_(std::make_unique<Impl>(realtime, std::move(options))) {}

Gateway::~Gateway() {
  stop();
}

void Gateway::start() {
  auto& d = *impl_;
  unsigned n =
      d.options.threads ? d.options.threads : std::max(1u, std::thread::hardware_concurrency());
  auto address = asio::ip::make_address(d.options.host);
  std::uint16_t port = d.options.port;
  for (unsigned i = 0; i < n; ++i) {
    auto ioc = std::make_unique<asio::io_context>(1);
    d.core.hub->register_worker(*ioc);
    auto acc = std::make_unique<tcp::acceptor>(*ioc);
    tcp::endpoint ep(address, port);
    acc->open(ep.protocol());
    acc->set_option(tcp::acceptor::reuse_address(true));
    int one = 1;
    ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acc->bind(ep);
    acc->listen(asio::socket_base::max_listen_connections);
    port = acc->local_endpoint().port();  // the first picks a free port when asked for 0
    d.contexts.push_back(std::move(ioc));
    d.acceptors.push_back(std::move(acc));
  }
  d.bound_port = port;
  for (unsigned i = 0; i < n; ++i) {
    auto& acc = *d.acceptors[i];
    asio::co_spawn(*d.contexts[i], d.run_accept(acc), asio::detached);
  }
  for (unsigned i = 0; i < n; ++i)
    d.threads.emplace_back([ioc = d.contexts[i].get()] { ioc->run(); });
  d.started = true;
}

std::uint16_t Gateway::port() const {
  return impl_->bound_port;
}

void Gateway::stop() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    if (d.stopped) return;
    d.stopped = true;
  }
  if (d.started) {
    for (std::size_t i = 0; i < d.acceptors.size(); ++i)
      asio::post(*d.contexts[i], [acc = d.acceptors[i].get()] {
        error_code ignored;
        acc->close(ignored);
      });
    d.rt.shutdown();
    // Give the streams a moment to write their `reconnect`.
    for (int i = 0; i < 40 && d.core.hub->stream_count() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (auto& c : d.contexts) c->stop();
    for (auto& t : d.threads) t.join();
    d.core.hub->release_shards();
    d.acceptors.clear();
    d.contexts.clear();
  }
  d.cv.notify_all();
}

void Gateway::wait() {
  auto& d = *impl_;
  std::unique_lock lock(d.mu);
  d.cv.wait(lock, [&] { return d.stopped; });
}

}  // namespace forrealtime
