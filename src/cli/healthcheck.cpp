// `forrealtime healthcheck`: see healthcheck.hpp.
#include "cli/healthcheck.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <vector>

#include <openssl/ssl.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "cli/settings.hpp"

namespace forrealtime::cli {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

constexpr const char* kWho = "forrealtime healthcheck: ";

// The NUL-separated strings of /proc/PID/cmdline or /proc/PID/environ; nullopt if unreadable.
std::optional<std::vector<std::string>> read_proc_strings(long pid, const char* what) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + what, std::ios::binary);
  if (!in) return std::nullopt;
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < all.size()) {
    auto end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    out.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The serve settings of the running process `pid`: its arguments, its environment (when this
// user may read it; else this process's own), its working directory for relative paths.
bool is_serve(const std::vector<std::string>& args) {
  return args.size() >= 2 && args[1] == "serve";
}

// The parent's pid from /proc/PID/stat (the field after the parenthesised command name).
long parent_of(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return -1;
  try {
    return std::stol(stat.substr(close + 4));  // ") S PPID"
  } catch (const std::exception&) {
    return -1;
  }
}

// A direct child of `pid` that is `forrealtime serve` (PID 1 is an init such as tini under
// `docker run --init`), or 0.
long serve_child_of(long pid) {
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    long child = std::stol(name);
    if (parent_of(child) != pid) continue;
    auto args = read_proc_strings(child, "cmdline");
    if (args && is_serve(*args)) return child;
  }
  return 0;
}

bool settings_of_process(long pid, ServeSettings& out, std::string& error) {
  auto args = read_proc_strings(pid, "cmdline");
  if (!args || args->empty()) {
    error = "no process " + std::to_string(pid) + " (or its command line is unreadable)";
    return false;
  }
  if (!is_serve(*args)) {
    if (long child = serve_child_of(pid)) {
      pid = child;
      args = read_proc_strings(pid, "cmdline");
    }
  }
  if (!args || !is_serve(*args)) {
    std::string cmd;
    for (auto& a : *args) cmd += (cmd.empty() ? "" : " ") + a;
    error = "process " + std::to_string(pid) + " is not `forrealtime serve` (nor is any of its " +
            "children): " + cmd;
    return false;
  }
  if (auto env = read_proc_strings(pid, "environ")) {
    for (auto& name : environment_names()) ::unsetenv(name.c_str());
    auto names = environment_names();
    for (auto& kv : *env) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) continue;
      auto name = kv.substr(0, eq);
      if (std::find(names.begin(), names.end(), name) != names.end())
        ::setenv(name.c_str(), kv.c_str() + eq + 1, 1);
    }
    adopt_deprecated_environment();
    take_deprecation_warnings();
  }
  std::error_code ec;
  auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  if (!ec) std::filesystem::current_path(cwd, ec);

  CLI::App app{"forrealtime"};
  auto* sv = app.add_subcommand("serve");
  add_serve_options(*sv, out);
  std::vector<const char*> argv;
  for (auto& a : *args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    error = "process " + std::to_string(pid) + "'s arguments: " + e.what();
    return false;
  }
  return apply_config(*sv, out, error);
}

struct Target {
  std::string host, port;
  bool tls = false;
};

Target target_of(const ServeSettings& s) {
  Target t;
  // Probes move to the admin listener (plain HTTP) when there is one.
  bool admin = s.admin_port >= 0;
  t.host = admin ? s.admin_host : s.host;
  t.port = std::to_string(admin ? s.admin_port : s.port);
  t.tls = !admin && !s.tls_cert.empty();
  if (t.host.empty() || t.host == "0.0.0.0") t.host = "127.0.0.1";
  if (t.host == "::" || t.host == "[::]") t.host = "::1";
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']')
    t.host = t.host.substr(1, t.host.size() - 2);
  return t;
}

template <class Stream>
asio::awaitable<unsigned> get(Stream& stream, const std::string& host, const std::string& path) {
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "forrealtime-healthcheck");
  req.set(http::field::connection, "close");
  co_await http::async_write(stream, req, asio::use_awaitable);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  co_await http::async_read(stream, buf, res, asio::use_awaitable);
  co_return res.result_int();
}

}  // namespace

void add_healthcheck_options(CLI::App& app, HealthcheckOptions& o) {
  app.add_flag("--ready", o.ready,
               "Probe /readyz (store reachable, not draining) instead of /livez");
  app.add_option("--timeout", o.timeout_secs, "Seconds for the whole probe")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--process", o.process,
                 "Take the settings of this running `forrealtime serve` (its arguments and "
                 "environment) instead of this command's flags; the image's HEALTHCHECK uses 1")
      ->check(CLI::Range(1L, 4194304L));
}

int run_healthcheck(CLI::App& app, ServeSettings& s, const HealthcheckOptions& o) {
  std::string error;
  ServeSettings of_process;
  if (o.process > 0) {
    if (!settings_of_process(o.process, of_process, error)) {
      std::cerr << kWho << error << "\n";
      return 1;
    }
  } else if (!apply_config(app, s, error)) {
    std::cerr << kWho << error << "\n";
    return 1;
  }
  take_deprecation_warnings();
  const ServeSettings& eff = o.process > 0 ? of_process : s;
  Target t = target_of(eff);
  std::string path = o.ready ? "/readyz" : "/livez";
  std::string url = std::string(t.tls ? "https" : "http") + "://" +
                    (t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host) + ":" +
                    t.port + path;
  if (t.port == "0") {
    std::cerr << kWho << "the port is 0 (chosen when the gateway starts): nothing to probe\n";
    return 1;
  }

  std::optional<unsigned> status;
  std::string failure;
  asio::io_context ioc;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        asio::ip::tcp::resolver resolver(ioc);
        auto endpoints = co_await resolver.async_resolve(t.host, t.port, asio::use_awaitable);
        if (!t.tls) {
          boost::beast::tcp_stream stream(ioc);
          stream.expires_after(std::chrono::seconds(o.timeout_secs));
          co_await stream.async_connect(endpoints, asio::use_awaitable);
          status = co_await get(stream, t.host, path);
          co_return;
        }
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.set_verify_mode(asio::ssl::verify_none);
        asio::ssl::stream<boost::beast::tcp_stream> stream(ioc, ctx);
        boost::beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(o.timeout_secs));
        co_await boost::beast::get_lowest_layer(stream).async_connect(endpoints,
                                                                      asio::use_awaitable);
        co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        status = co_await get(stream, t.host, path);
      },
      [&](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const boost::system::system_error& se) {
          failure = se.code() == boost::beast::error::timeout
                        ? "no answer in " + std::to_string(o.timeout_secs) + " s"
                        : se.code().message();
        } catch (const std::exception& ex) {
          failure = ex.what();
        }
      });
  // The resolver has no deadline of its own: the whole run is bounded too.
  ioc.run_for(std::chrono::seconds(o.timeout_secs + 1));
  if (!status) {
    std::cerr << kWho << url << ": " << (failure.empty() ? "no answer" : failure) << "\n";
    return 1;
  }
  if (*status != 200) {
    std::cerr << kWho << url << ": HTTP " << *status << "\n";
    return 1;
  }
  std::cout << kWho << url << ": 200\n";
  return 0;
}

}  // namespace forrealtime::cli
