// The accept loop and the connection session; see connection.hpp.
#include "http/connection.hpp"

#include <array>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "core/events.hpp"
#include "core/query.hpp"
#include "forrealtime/beast.hpp"
#include "forrealtime/socket_sink.hpp"
#include "http/forwarded.hpp"
#include "http/handlers.hpp"
#include "http/log_limit.hpp"
#include "http/request_checks.hpp"
#include "http/response_text.hpp"
#include "http/router.hpp"
#include "http/state.hpp"
#include "http/tls.hpp"
#include "realtime/core.hpp"

namespace forrealtime::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

boost::beast::tcp_stream& lowest(boost::beast::tcp_stream& s) {
  return s;
}
boost::beast::tcp_stream& lowest(TlsStream& s) {
  return s.next_layer();
}

std::string peer_endpoint(boost::beast::tcp_stream& s) {
  error_code ec;
  auto ep = s.socket().remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A connection's place in the ConnectionLimiter, given back when the connection ends.
// (A trusted proxy's connection holds a slot in the total, and each request it forwards one of
// its client's address.)
struct Slot {
  ConnectionLimiter* limiter = nullptr;
  std::string address;
  ConnectionLimiter::Count count = ConnectionLimiter::Count::both;
  Slot() = default;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() {
    if (limiter) limiter->release(address, count);
  }
};

// A stream's sink that holds its connection's slot until the stream is done with it.
class SlotSink final : public SseSink {
 public:
  SlotSink(std::shared_ptr<SseSink> inner, std::shared_ptr<Slot> slot)
      : inner_(std::move(inner)), slot_(std::move(slot)) {}
  asio::any_io_executor get_executor() override { return inner_->get_executor(); }
  void respond(Response r) override { inner_->respond(std::move(r)); }
  void open(const Response& head, Listener& l) override { inner_->open(head, l); }
  void write(std::span<const asio::const_buffer> b) override { inner_->write(b); }
  void close() override { inner_->close(); }

 private:
  std::shared_ptr<SseSink> inner_;
  std::shared_ptr<Slot> slot_;
};

// A warning about a limit reached, within the limit-lines budget (a flood of refused clients
// must not become a flood of log lines).
void limit_line(GatewayState& state, const std::string& line) {
  std::uint64_t suppressed = 0;
  if (!state.limit_lines.allow(suppressed)) return;
  if (suppressed) state.log().warn("{} lines about limits reached suppressed", suppressed);
  state.log().warn("{}", line);
}

// The keys of an emit's rate buckets (EmitLimiter): its credential when it carries one
// (Authorization, the `token` query parameter, the cookies), and the client's address, an IPv6
// address by its /64 (one host commonly has a whole /64 to pick from). Only hashes are kept;
// the low bits tag the kind, so that no key is 0 (the limiter's overflow bucket).
std::optional<std::uint64_t> credential_key(const HttpRequest& req) {
  std::hash<std::string_view> h;
  auto tag = [](std::uint64_t v, std::uint64_t t) { return (v & ~std::uint64_t{7}) | t; };
  auto auth = req[bhttp::field::authorization];
  if (!auth.empty()) return tag(h(std::string_view(auth.data(), auth.size())), 1);
  if (auto form = core::parse_form(core::query_of(std::string_view(req.target()))))
    for (auto& [k, v] : *form)
      if (k == "token" && !v.empty()) return tag(h(v), 2);
  auto cookie = req[bhttp::field::cookie];
  if (!cookie.empty()) return tag(h(std::string_view(cookie.data(), cookie.size())), 3);
  return std::nullopt;
}

std::uint64_t address_key(const std::string& address) {
  std::string_view a = address;
  if (a.find(':') != std::string_view::npos) {
    // The first four groups of an IPv6 address, as written by Asio (compressed, no brackets).
    boost::system::error_code ec;
    auto v6 = asio::ip::make_address_v6(address, ec);
    if (!ec && !v6.is_v4_mapped()) {
      auto bytes = v6.to_bytes();
      for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
      auto prefix = asio::ip::address_v6(bytes).to_string();
      return (std::hash<std::string_view>{}(prefix) & ~std::uint64_t{7}) | 4;
    }
  }
  return (std::hash<std::string_view>{}(a) & ~std::uint64_t{7}) | 4;
}

// 429 for an emit over the rate (not logged per request: limit_line is).
HttpResponse too_many_emits(const GatewayState& state, const HttpRequest& req,
                            std::uint32_t retry_after) {
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", state.emit_limits.rate());
  auto res = make_response(state, req, bhttp::status::too_many_requests,
                           core::error_body(std::string("too many emits: at most ") + rate +
                                            " per second for this credential or address; retry "
                                            "after " +
                                            std::to_string(retry_after) + " s"));
  res.set(bhttp::field::retry_after, std::to_string(retry_after));
  return res;
}

// Answers a connection over a cap with 503 before reading anything, then reads what the client
// sends for a moment so that closing does not reset the connection before it reads the answer.
asio::awaitable<void> refuse_connection(boost::beast::tcp_stream& stream, std::string why) {
  HttpResponse res{bhttp::status::service_unavailable, 11};
  res.set(bhttp::field::server, "forrealtime");
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::retry_after, "1");
  res.set(bhttp::field::connection, "close");
  res.body() = core::error_body(why);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(2));
  auto [ec, n] = co_await bhttp::async_write(stream, res, use_tuple);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  char sink[1024];
  for (int i = 0; !ec && i < 64; ++i) {
    auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    ec = rec;
  }
}

// What bhttp::async_read_header (`header_only`) and bhttp::async_read do (Beast's read_op over
// read_some_op), in two halves: this one parses what the buffer already holds, with no I/O and
// without their trip through the scheduler (each posts its completion when no read was needed,
// and a request usually arrives whole with its first read). True when the read is over: done,
// or failed (`ec`); false when it needs more bytes (read_more).
bool read_buffered(RequestParser& parser, boost::beast::flat_buffer& buffer, bool header_only,
                   error_code& ec) {
  ec = {};
  for (;;) {
    if (header_only ? parser.is_header_done() : parser.is_done()) return true;
    if (buffer.size() == 0) return false;
    auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      return false;
    }
    if (ec) return true;
  }
}

// A plain connection's answer usually fits in the socket's send buffer: written at once with a
// non-blocking send, it needs no write operation, no timer and no trip through the scheduler.
// True when that wrote everything or failed (`ec`); otherwise `bufs` is left holding what is
// still to write, for the asynchronous write (with its timeout). Over TLS: false, untouched.
template <class Stream>
bool write_now(Stream& stream, std::array<asio::const_buffer, 2>& bufs, error_code& ec) {
  if constexpr (std::is_same_v<Stream, boost::beast::tcp_stream>) {
    auto& socket = stream.socket();
    if (!socket.non_blocking()) {
      socket.non_blocking(true, ec);
      if (ec) {
        ec = {};
        return false;
      }
    }
    std::size_t sent = socket.write_some(bufs, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      sent = 0;
    } else if (ec) {
      return true;
    }
    for (auto& b : bufs) {
      auto n = std::min(sent, b.size());
      b += n;
      sent -= n;
    }
    return bufs[0].size() + bufs[1].size() == 0;
  } else {
    return false;
  }
}

// The other half: read (at most 64 KiB at a time, as Beast does) and parse until the read is
// over; end of stream as Beast reports it (put_eof when the parser had begun a message).
template <class Stream>
asio::awaitable<error_code> read_more(Stream& stream, boost::beast::flat_buffer& buffer,
                                      RequestParser& parser, bool header_only) {
  for (;;) {
    auto size = boost::beast::read_size(buffer, 65536);
    if (size == 0) co_return bhttp::error::buffer_overflow;
    asio::mutable_buffer mb;
    try {
      mb = buffer.prepare(size);
    } catch (const std::length_error&) {
      co_return bhttp::error::buffer_overflow;
    }
    auto [ec, n] = co_await stream.async_read_some(mb, use_tuple);
    buffer.commit(n);
    if (ec == asio::error::eof) {
      if (!parser.got_some()) co_return bhttp::error::end_of_stream;
      error_code eec;
      parser.put_eof(eec);
      co_return eec;
    }
    if (ec) co_return ec;
    if (read_buffered(parser, buffer, header_only, ec)) co_return ec;
  }
}

}  // namespace

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

// The requests of one connection, plain or TLS, until it closes or becomes a stream.
template <class Stream>
asio::awaitable<void> serve_requests(GatewayState& state, Stream& stream, Listener listener,
                                     const Peer& peer, TlsContextPtr tls,
                                     std::shared_ptr<Slot> slot) {
  const std::string& address = peer.address;
  auto& opts = state.options;
  boost::beast::flat_buffer buffer;
  std::string out;  // the answers' bytes, its capacity kept from one request to the next
  // The head of a JsonOk answer (head_prefix of make_response's for this connection's requests),
  // made again when what it depends on changes: the version, keep-alive, the allowed origin.
  struct {
    unsigned version = 0;
    bool keep = false;
    std::string allow_origin;
    std::optional<std::string> prefix;
  } ok_head;
  for (;;) {
    RequestParser parser;
    apply_limits(parser, state);
    // Waiting for a request may take the idle timeout; once its first byte is in, its head must
    // come within the header timeout (a client sending a byte now and then holds nothing long).
    lowest(stream).expires_after(opts.idle_timeout);
    if (buffer.size() == 0 && opts.header_timeout.count() > 0) {
      auto [fec, fn] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (fec) co_return;  // gone or idle: nothing to answer
      buffer.commit(fn);
    }
    if (opts.header_timeout.count() > 0) lowest(stream).expires_after(opts.header_timeout);
    // The head first: it is checked before any byte of the body is read as a body (or, worse,
    // as the next request).
    error_code ec;
    if (!read_buffered(parser, buffer, true, ec)) {
      auto read_op = read_more(stream, buffer, parser, true);
      ec = co_await std::move(read_op);
    }
    if (ec == boost::beast::error::timeout && opts.header_timeout.count() > 0) {
      // The stream closed the socket: there is no answering it.
      state.core.hub->metrics().hit(metrics::Limit::header_timeout);
      limit_line(state, "connection from " + address + " closed: its request head took more than " +
                            std::to_string(opts.header_timeout.count()) + " s (header_timeout)");
      co_return;
    }
    std::optional<Refusal> refusal;
    if (!ec) refusal = check_head(parser);
    if (!ec && !refusal && !parser.is_done()) {
      lowest(stream).expires_after(opts.idle_timeout);
      if (!read_buffered(parser, buffer, false, ec)) {
        auto read_op = read_more(stream, buffer, parser, false);
        ec = co_await std::move(read_op);
      }
    }
    if (!refusal &&
        (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == boost::beast::error::timeout || ec == asio::error::operation_aborted))
      co_return;
    if (ec && !refusal) refusal = refusal_for(ec, state);
    if (refusal) {
      auto& dp = state.core.hub->metrics();
      if (refusal->status == bhttp::status::payload_too_large) dp.hit(metrics::Limit::body_size);
      if (refusal->status == bhttp::status::request_header_fields_too_large)
        dp.hit(metrics::Limit::header_size);
      state.ops.count(RouteLabel::other, static_cast<unsigned>(refusal->status));
      std::uint64_t suppressed = 0;
      if (state.client_errors.allow(suppressed)) {
        if (suppressed) state.log().info("{} lines about refused requests suppressed", suppressed);
        state.log().info("bad request from {}: {}", peer_endpoint(lowest(stream)),
                         log_excerpt(refusal->why, 400));
      }
      auto res = refusal_response(*refusal);
      if (parser.is_header_done() && parser.get().method() == bhttp::verb::head) {
        // A refused HEAD (its body could not be read) is answered without a body too (RFC 9110
        // section 9.3.2), like every other answer to HEAD. Found by fuzz_http.
        bhttp::response_serializer<bhttp::string_body> sr{res};
        co_await bhttp::async_write_header(stream, sr, use_tuple);
      } else {
        co_await bhttp::async_write(stream, res, use_tuple);
      }
      error_code ignored;
      lowest(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    state.metrics.http_requests++;
    auto req = parser.release();
    auto path = core::path_of(std::string_view(req.target()));
    // Behind a trusted proxy the client is named by the request (forwarded.hpp); its address
    // takes a per-address slot for as long as the request (or the stream) lasts.
    auto client = request_client(state, peer, req);
    std::shared_ptr<Slot> client_slot;
    if (peer.trusted && listener == Listener::main && opts.max_connections_per_ip) {
      if (state.connection_limits.acquire(client.address, ConnectionLimiter::Count::per_ip) !=
          ConnectionLimiter::Verdict::ok) {
        state.core.hub->metrics().hit(metrics::Limit::connections_per_ip);
        std::string why = "this address has " + std::to_string(opts.max_connections_per_ip) +
                          " connections open (max_connections_per_ip)";
        limit_line(state, "request from " + describe_client(client, peer) + " refused: " + why);
        state.ops.count(route_label(path), 503);
        auto res = make_response(state, req, bhttp::status::service_unavailable,
                                 core::error_body("too many connections: " + why));
        res.set(bhttp::field::retry_after, "1");
        lowest(stream).expires_after(opts.idle_timeout);
        auto [e, wn] = co_await bhttp::async_write(stream, res, use_tuple);
        if (e || !res.keep_alive()) {
          error_code ignored;
          lowest(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
          co_return;
        }
        continue;
      }
      client_slot = std::make_shared<Slot>();
      client_slot->limiter = &state.connection_limits;
      client_slot->address = client.address;
      client_slot->count = ConnectionLimiter::Count::per_ip;
    }
    if (opens_stream(req) && served_on(listener, path, state)) {
      state.metrics.subscribes++;
      state.ops.count(RouteLabel::subscribe, 200);
      lowest(stream).expires_never();
      int version = static_cast<int>(req.version());
      std::shared_ptr<SseSink> sink;
      if constexpr (std::is_same_v<Stream, boost::beast::tcp_stream>)
        sink = make_socket_sink(stream.release_socket(), version);
      else
        sink = make_tls_sink(std::move(tls), std::move(stream), version);
      // The stream outlives this coroutine: its connection slot goes with the sink.
      if (slot) sink = std::make_shared<SlotSink>(std::move(sink), std::move(slot));
      if (client_slot) sink = std::make_shared<SlotSink>(std::move(sink), std::move(client_slot));
      auto serve_op = state.subscribe(beast::request_view(req), std::move(sink));
      co_await std::move(serve_op);
      co_return;
    }
    std::optional<Reply> limited;
    if (opts.emit_rate > 0 && listener == Listener::main && req.method() == bhttp::verb::post &&
        route_label(path) == RouteLabel::emit)
      if (auto wait = state.emit_limits.take(credential_key(req), address_key(client.address))) {
        state.core.hub->metrics().hit(metrics::Limit::emit_rate);
        limit_line(state, "emit from " + describe_client(client, peer) +
                              " refused: over emit_rate for its credential "
                              "or address (429, retry after " +
                              std::to_string(*wait) + " s)");
        state.metrics.emit_rejected++;
        limited.emplace(too_many_emits(state, req, *wait));
      }
    Reply reply;
    if (limited) {
      reply = std::move(*limited);
    } else if (req.method() == bhttp::verb::post && route_label(path) == RouteLabel::emit &&
               served_on(listener, path, state)) {
      // What route() would call, without its coroutine frame: the emit path is the hot one.
      auto emit_op = handle_emit(req, state);
      reply = co_await std::move(emit_op);
    } else {
      auto route_op = route(req, state, listener);
      reply = co_await std::move(route_op);
    }
    state.ops.count(route_label(path), status_of(reply));
    if (opts.emit_rate > 0 && !limited && listener == Listener::main &&
        route_label(path) == RouteLabel::emit && status_of(reply) / 100 == 2)
      if (auto key = credential_key(req)) state.emit_limits.granted(*key);
    bool keep = std::visit([](const auto& r) { return r.keep_alive(); }, reply);
    error_code wec;
    // The answer gets the idle timeout, not what is left of the header timeout (10 s from the
    // request's first byte: a 64 MiB static file to a slow reader was cut there). A file goes
    // out a piece at a time, each with a fresh deadline: a client that keeps reading is never
    // cut, one that stops is dropped after the idle timeout.
    lowest(stream).expires_after(opts.idle_timeout);
    if (auto* ok = std::get_if<JsonOk>(&reply)) {
      if (!ok_head.prefix || ok_head.version != req.version() || ok_head.keep != ok->keep ||
          ok_head.allow_origin != state.allow_origin()) {
        auto probe = make_response(state, req, bhttp::status::ok, std::string());
        ok_head.prefix = probe.keep_alive() == ok->keep ? head_prefix(probe) : std::nullopt;
        ok_head.version = req.version();
        ok_head.keep = ok->keep;
        ok_head.allow_origin = state.allow_origin();
      }
      if (ok_head.prefix) {
        out.clear();
        append_head_from_prefix(*ok_head.prefix, ok->body.size(), out);
        std::array<asio::const_buffer, 2> bufs{asio::buffer(out), asio::buffer(ok->body)};
        if (!write_now(stream, bufs, wec)) {
          auto [e, wn] = co_await asio::async_write(stream, bufs, use_tuple);
          wec = e;
        }
      } else {
        reply = make_response(state, req, bhttp::status::ok, std::move(ok->body));
      }
    }
    if (std::holds_alternative<JsonOk>(reply)) {
      // written above
    } else if (auto* res = std::get_if<HttpResponse>(&reply); res && plain_response(*res)) {
      // One buffer, reused by the connection's requests: one write, no serializer. A response
      // to HEAD has no body (RFC 9110 section 9.3.2), whatever the handler put in it (a 404 or
      // 405 carries its JSON error): written, it would be read as the next response on a
      // keep-alive connection. Found by fuzz_http.
      out.clear();
      append_head(*res, out);
      std::array<asio::const_buffer, 2> bufs{asio::buffer(out), asio::const_buffer()};
      if (req.method() != bhttp::verb::head) bufs[1] = asio::buffer(res->body());
      if (!write_now(stream, bufs, wec)) {
        auto [e, wn] = co_await asio::async_write(stream, bufs, use_tuple);
        wec = e;
      }
    } else if (auto* res = std::get_if<HttpResponse>(&reply);
               res && req.method() == bhttp::verb::head) {
      // A response to HEAD has no body (RFC 9110 section 9.3.2), whatever the handler put in
      // it (a 404 or 405 carries its JSON error): written, it would be read as the next
      // response on a keep-alive connection. Found by fuzz_http.
      bhttp::response_serializer<bhttp::string_body> sr{*res};
      auto [e, wn] = co_await bhttp::async_write_header(stream, sr, use_tuple);
      wec = e;
    } else if (res) {
      auto [e, wn] = co_await bhttp::async_write(stream, *res, use_tuple);
      wec = e;
    } else {
      bhttp::response_serializer<bhttp::file_body> sr{std::get<FileResponse>(reply)};
      while (!sr.is_done()) {
        lowest(stream).expires_after(opts.idle_timeout);
        auto [e, wn] = co_await bhttp::async_write_some(stream, sr, use_tuple);
        if (e) {
          wec = e;
          break;
        }
      }
    }
    if (wec || !keep) {
      error_code ignored;
      lowest(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
  }
}

asio::awaitable<void> run_connection(GatewayState& state, tcp::socket socket, Listener listener) {
  // Counted while the coroutine lives: a stream's connection counts until the stream ends.
  struct Open {
    std::atomic<std::int64_t>& n;
    explicit Open(std::atomic<std::int64_t>& c) : n(c) {
      n.fetch_add(1, std::memory_order_relaxed);
    }
    ~Open() { n.fetch_sub(1, std::memory_order_relaxed); }
  } open(state.ops.connections);
  auto peer = peer_of(state, socket);
  const std::string& address = peer.address;
  boost::beast::tcp_stream stream(std::move(socket));
  std::shared_ptr<Slot> slot;
  auto& opts = state.options;
  if (listener == Listener::main && (opts.max_connections || opts.max_connections_per_ip)) {
    // A trusted proxy's connection counts in the total; its requests count per client.
    auto count = peer.trusted ? ConnectionLimiter::Count::total : ConnectionLimiter::Count::both;
    auto verdict = state.connection_limits.acquire(address, count);
    if (verdict != ConnectionLimiter::Verdict::ok) {
      bool total = verdict == ConnectionLimiter::Verdict::total;
      auto& dp = state.core.hub->metrics();
      dp.hit(total ? metrics::Limit::connections : metrics::Limit::connections_per_ip);
      std::string why = total ? "the gateway has " + std::to_string(opts.max_connections) +
                                    " connections open (max_connections)"
                              : "this address has " + std::to_string(opts.max_connections_per_ip) +
                                    " connections open (max_connections_per_ip)";
      limit_line(state, "connection from " + address + " refused: " + why);
      // Over TLS there is no answering before a handshake, which is what the cap saves: close.
      if (!state.tls) {
        auto refuse = refuse_connection(stream, "too many connections: " + why);
        co_await std::move(refuse);
      }
      co_return;
    }
    slot = std::make_shared<Slot>();
    slot->limiter = &state.connection_limits;
    slot->address = address;
    slot->count = count;
  }
  if (listener == Listener::main && state.tls) {
    // TLS: the handshake shares the header timeout (a client that never finishes it holds
    // nothing long); a failed one is a client error, logged within that budget.
    auto ctx = state.tls->current();
    TlsStream tls_stream(std::move(stream), *ctx);
    auto hs_timeout = opts.header_timeout.count() > 0 ? opts.header_timeout : opts.idle_timeout;
    lowest(tls_stream).expires_after(hs_timeout);
    auto [hec] = co_await tls_stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (hec) {
      std::uint64_t suppressed = 0;
      if (state.client_errors.allow(suppressed)) {
        if (suppressed) state.log().info("{} lines about refused requests suppressed", suppressed);
        state.log().info("TLS handshake with {} failed: {}", address, hec.message());
      }
      co_return;
    }
    auto serve_op = serve_requests(state, tls_stream, listener, peer, ctx, slot);
    co_await std::move(serve_op);
    co_return;
  }
  auto serve_op = serve_requests(state, stream, listener, peer, nullptr, slot);
  co_await std::move(serve_op);
}

asio::awaitable<void> run_accept(GatewayState& state, tcp::acceptor& acceptor, Listener listener) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: say so and back off instead of spinning.
      state.log().warn("accept failed: {}", ec.message());
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(use_tuple);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor.get_executor(), run_connection(state, std::move(socket), listener),
                   [&state](std::exception_ptr e) {
                     if (e) state.log().error("connection failed: {}", describe(e));
                   });
  }
}

void start_accepting(GatewayState& state, tcp::acceptor& acceptor, Listener listener) {
  asio::co_spawn(acceptor.get_executor(), run_accept(state, acceptor, listener),
                 [&state, &acceptor, listener](std::exception_ptr e) {
                   if (!e) return;
                   // The loop must not end while the acceptor is open: log, and accept again.
                   state.log().error("the accept loop failed: {}; accepting again", describe(e));
                   if (acceptor.is_open()) start_accepting(state, acceptor, listener);
                 });
}

}  // namespace forrealtime::gateway
