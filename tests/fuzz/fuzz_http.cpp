// The whole HTTP path in memory: the input bytes are what a client sends on one connection; the
// gateway's own connection loop (run_connection: head checks, body limits, routing, every
// handler, static files, the SSE stream) serves them over one end of a socketpair, with the
// memory store behind it, on an io_context driven here. No TCP, no threads of ours.
//
// Invariants, checked on the bytes that come back:
//  - nothing crashes or throws out of the connection, and the connection ends (within 5 s of
//    the client's end of input);
//  - what comes back is a sequence of well-formed HTTP/1.1 responses (Beast's strict response
//    parser reads each one whole); only a `text/event-stream` may be cut off, and only as the
//    last thing;
//  - no more responses than requests, nothing after a response that says `Connection: close`
//    or after a stream;
//  - no response to a smuggled request: a request whose Transfer-Encoding does not end in
//    `chunked` (or that has one in HTTP/1.0) is answered 400 and is the last one answered;
//  - no byte of a file outside the static root is ever served (a symlink points at one).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/string_body.hpp>

#include "forrealtime/gateway.hpp"
#include "forrealtime/realtime.hpp"
#include "http/connection.hpp"
#include "http/state.hpp"
#include "realtime/core.hpp"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using namespace forrealtime;

constexpr std::string_view kOutsideMarker = "OUTSIDE-THE-STATIC-ROOT-7f3a";

[[noreturn]] void fail(const char* why, std::string_view out = {}) {
  std::fprintf(stderr, "fuzz_http invariant broken: %s\n--- response bytes ---\n%.*s\n", why,
               static_cast<int>(std::min<std::size_t>(out.size(), 4000)), out.data());
  std::abort();
}

struct World {
  std::filesystem::path dir;
  asio::io_context ioc{1};
  std::unique_ptr<Realtime> rt;
  std::unique_ptr<gateway::GatewayState> state;

  World() {
    char tmpl[] = "/tmp/fuzz-http-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir / "www/sub");
    std::ofstream(dir / "www/index.html") << "<h1>index</h1>";
    std::ofstream(dir / "www/sub/a.css") << "p{}";
    std::ofstream(dir / "outside.txt") << kOutsideMarker;
    std::filesystem::create_symlink(dir / "outside.txt", dir / "www/leak.txt");
    std::filesystem::create_directory_symlink(dir, dir / "www/up");

    Options o;
    o.logger =
        std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    o.ping_interval = std::chrono::milliseconds(50);
    o.internal_threads = 1;
    rt = std::make_unique<Realtime>(std::move(o));
    rt->core()->hub->register_worker(ioc);
    GatewayOptions g;
    g.static_dir = (dir / "www").string();
    g.idle_timeout = std::chrono::seconds(2);
    state = std::make_unique<gateway::GatewayState>(*rt, std::move(g));
  }
};

World& world() {
  static World* w = new World;  // lives for the process: libFuzzer never returns from main
  // Its files go when libFuzzer exits (at the end of its time; not after a crash).
  static const bool cleanup = std::atexit([] {
                                std::error_code ec;
                                std::filesystem::remove_all(w->dir, ec);
                              }) == 0;
  (void)cleanup;
  return *w;
}

struct Expected {
  std::vector<bool> head;  // per request beast reads from the input: was it HEAD?
  // The index of the first request that must be refused as smuggling, or -1.
  long smuggled = -1;
};

// The requests Beast's own parser reads from the input, in order, as the gateway will.
Expected expected_requests(std::string_view in) {
  Expected e;
  while (!in.empty()) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(1 << 20);
    error_code ec;
    std::size_t used = p.put(asio::buffer(in.data(), in.size()), ec);
    if (ec == bhttp::error::need_more) {
      // With the whole input given, a request that still needs more ends at EOF.
      p.put_eof(ec);
    }
    if (ec && !(p.is_header_done())) break;
    auto& req = p.get();
    auto [first, last] = req.equal_range(bhttp::field::transfer_encoding);
    if (first != last && (req.version() < 11 || !p.chunked()) && e.smuggled < 0)
      e.smuggled = static_cast<long>(e.head.size());
    e.head.push_back(req.method() == bhttp::verb::head);
    if (ec || !p.is_done() || used == 0) break;
    in.remove_prefix(used);
    if (!req.keep_alive()) break;
  }
  return e;
}

void check_output(std::string_view out, const Expected& e) {
  if (out.find(kOutsideMarker) != std::string_view::npos) fail("a file outside the root", out);
  std::size_t n = 0;
  bool last = false;
  std::string_view rest = out;
  while (!rest.empty()) {
    if (last) fail("bytes after a response that ended the connection", out);
    bhttp::response_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    if (n < e.head.size() && e.head[n]) p.skip(true);
    error_code ec;
    std::size_t used = p.put(asio::buffer(rest.data(), rest.size()), ec);
    bool stream =
        p.is_header_done() && p.get()[bhttp::field::content_type].starts_with("text/event-stream");
    if (ec == bhttp::error::need_more || (!ec && !p.is_done())) {
      p.put_eof(ec);
      if (ec && !stream) fail("a response cut short", out);
      if (!stream && !p.is_done()) fail("a response cut short", out);
      used = rest.size();
    } else if (ec) {
      fail(("a malformed response: " + ec.message()).c_str(), out);
    }
    auto status = p.get().result_int();
    if (status < 100 || status > 599) fail("a status out of range", out);
    if (e.smuggled >= 0 && static_cast<long>(n) == e.smuggled && status != 400 && status != 501)
      fail("a smuggled request was not refused", out);
    if (e.smuggled >= 0 && static_cast<long>(n) > e.smuggled)
      fail("a response after a smuggled request", out);
    ++n;
    last = stream || !p.get().keep_alive();
    rest.remove_prefix(used);
  }
  // One response per request, plus the refusal of the request that could not be read.
  if (n > e.head.size() + 1) fail("more responses than requests", out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = world();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  int big = 1 << 20;
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  asio::ip::tcp::socket server(w.ioc);
  error_code ec;
  server.assign(asio::ip::tcp::v4(), fds[0], ec);
  if (ec) std::abort();
  bool done = false;
  asio::co_spawn(w.ioc, gateway::run_connection(*w.state, std::move(server)),
                 [&done](std::exception_ptr e) {
                   if (e) fail("an exception left the connection");
                   done = true;
                 });
  // The client: all of its bytes, then its end of input (a half-close, as curl does).
  std::size_t off = 0;
  while (off < size) {
    auto n = ::write(fds[1], data + off, size - off);
    if (n <= 0) std::abort();
    off += static_cast<std::size_t>(n);
  }
  ::shutdown(fds[1], SHUT_WR);
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  std::string out;
  char buf[65536];
  auto drain = [&] {
    for (;;) {
      auto n = ::read(fds[1], buf, sizeof buf);
      if (n <= 0) return;
      out.append(buf, static_cast<std::size_t>(n));
    }
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done) {
    if (std::chrono::steady_clock::now() > deadline) fail("the connection did not end", out);
    w.ioc.restart();
    w.ioc.run_for(std::chrono::milliseconds(5));
    drain();
  }
  // Whatever the ended connection left for its stream (a stream's last frames) is run too.
  w.ioc.restart();
  w.ioc.poll();
  drain();
  ::close(fds[1]);
  check_output(out, expected_requests(std::string_view(reinterpret_cast<const char*>(data), size)));
  return 0;
}
