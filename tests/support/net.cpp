// Socket-level helpers for the integration tests; see net.hpp.
#include "support/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#ifndef FORREALTIME_BIN
#error "FORREALTIME_BIN must name the program under test"
#endif

namespace fr_test {
namespace {

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed: " + std::string(strerror(errno)));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (413); the reply tells
    off += static_cast<std::size_t>(n);
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void parse_head(const std::string& head, int& status, std::map<std::string, std::string>& h) {
  std::istringstream in(head);
  std::string line;
  std::getline(in, line);
  if (line.size() > 12) status = std::stoi(line.substr(9, 3));
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    h[lower(line.substr(0, colon))] = v;
  }
}

}  // namespace

boost::json::value HttpResult::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) ADD_FAILURE() << "not JSON: " << body;
  return v;
}

HttpResult http(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body, const std::string& raw_headers,
                const std::string& version) {
  int fd = connect_to(port);
  std::string req =
      method + " " + target + " " + version + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST")
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += raw_headers;
  req += "\r\n";
  req += body;
  send_all(fd, req);
  std::string all;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    all.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  HttpResult r;
  auto end = all.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  parse_head(all.substr(0, end), r.status, r.headers);
  r.body = all.substr(end + 4);
  return r;
}

std::string emit(std::uint16_t port, const std::string& channel, const std::string& event,
                 const std::string& data_json) {
  auto r = http(
      port, "POST", "/api/emit",
      R"({"channel":")" + channel + R"(","event":")" + event + R"(","data":)" + data_json + "}");
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return "";
  return std::string(r.json().at("id").as_string());
}

// --- SseClient -----------------------------------------------------------------------------------

SseClient::SseClient(std::uint16_t port, const std::string& target, int recv_buffer,
                     const std::string& version, const std::string& raw_headers) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (recv_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &recv_buffer, sizeof recv_buffer);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("connect failed");
  send_all(fd_, "GET " + target + " " + version +
                    "\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" + raw_headers + "\r\n");
}

SseClient::~SseClient() {
  close();
}

void SseClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SseClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (closed_ || fd_ < 0) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[65536];
  auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  raw_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool SseClient::read_head(std::chrono::steady_clock::time_point deadline) {
  while (status_ == 0) {
    auto end = raw_.find("\r\n\r\n");
    if (end != std::string::npos) {
      head_ = raw_.substr(0, end);
      raw_.erase(0, end + 4);
      std::map<std::string, std::string> h;
      parse_head(head_, status_, h);
      chunked_ = h["transfer-encoding"] == "chunked";
      return true;
    }
    if (!fill(deadline)) return false;
  }
  return true;
}

int SseClient::status() {
  read_head(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  return status_;
}

std::optional<boost::json::value> SseClient::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!read_head(deadline)) return std::nullopt;
  for (;;) {
    if (!ready_.empty()) {
      auto [s, id] = ready_.front();
      ready_.erase(ready_.begin());
      last_event_id_ = id;
      boost::system::error_code ec;
      auto v = boost::json::parse(s, ec);
      if (ec) {
        ADD_FAILURE() << "data line is not JSON: " << s;
        continue;
      }
      return v;
    }
    // De-chunk what we have.
    if (chunked_) {
      for (;;) {
        auto crlf = raw_.find("\r\n");
        if (crlf == std::string::npos) break;
        auto size = std::stoul(raw_.substr(0, crlf), nullptr, 16);
        if (raw_.size() < crlf + 2 + size + 2) break;
        body_.append(raw_, crlf + 2, size);
        raw_.erase(0, crlf + 2 + size + 2);
        if (size == 0) closed_ = true;
      }
    } else {
      body_ += raw_;
      raw_.clear();
    }
    // Split SSE lines.
    std::size_t nl;
    while ((nl = body_.find('\n')) != std::string::npos) {
      std::string line = body_.substr(0, nl);
      body_.erase(0, nl + 1);
      if (line.empty()) {
        if (!data_.empty()) ready_.emplace_back(data_, current_id_);
        data_.clear();
      } else if (line.rfind("id: ", 0) == 0) {
        current_id_ = line.substr(4);
      } else if (line.rfind("data: ", 0) == 0) {
        if (!data_.empty()) data_ += "\n";
        data_ += line.substr(6);
      }
    }
    if (!ready_.empty()) continue;
    if (!fill(deadline)) return std::nullopt;
  }
}

std::optional<boost::json::value> SseClient::next_user(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto v = next(left);
    if (!v) return v;
    if (v->is_object() && !v->as_object().contains("type")) return v;
  }
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
  int fd = connect_to(port);
  send_all(fd, bytes);
  std::string all;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    all.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return all;
}

SilentServer::SilentServer() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("SilentServer: " + std::string(strerror(errno)));
  port_ = ntohs(a.sin_port);
}

SilentServer::~SilentServer() {
  ::close(fd_);
}

ProgramResult run_program(const std::vector<std::string>& args,
                          std::chrono::milliseconds kill_after) {
  char out_path[] = "/tmp/forrealtime-out-XXXXXX";
  char err_path[] = "/tmp/forrealtime-err-XXXXXX";
  int outfd = ::mkstemp(out_path), errfd = ::mkstemp(err_path);
  std::vector<std::string> argv{FORREALTIME_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(outfd, 1);
    ::dup2(errfd, 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  ::close(outfd);
  ::close(errfd);
  ProgramResult r;
  int status = 0;
  auto deadline = start + kill_after;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.status = -2;
      break;
    }
    ::usleep(10000);
  }
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  auto slurp = [](const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    ::unlink(path);
    return ss.str();
  };
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

// --- GatewayProcess ------------------------------------------------------------------------------

GatewayProcess::GatewayProcess(std::vector<std::string> args) {
  char tmpl[] = "/tmp/forrealtime-test-XXXXXX";
  int logfd = ::mkstemp(tmpl);
  log_path_ = tmpl;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> argv{FORREALTIME_BIN, "serve", "--host", "127.0.0.1", "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  // The same tests on the Redis store: each gateway gets keys of its own.
  const char* url = std::getenv("FORREALTIME_TEST_REDIS_URL");
  if (url && std::find(args.begin(), args.end(), "--redis") == args.end()) {
    static int instance = 0;
    argv.insert(argv.end(),
                {"--redis", url, "--key-prefix",
                 "t" + std::to_string(::getpid()) + "-" + std::to_string(++instance) + ":"});
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no gateway behind
    ::dup2(pipefd[1], 1);
    ::dup2(logfd, 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  ::close(pipefd[1]);
  ::close(logfd);
  std::string out;
  char buf[256];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{pipefd[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    auto n = ::read(pipefd[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  auto colon = out.rfind(':');
  if (out.find("listening on") == std::string::npos || colon == std::string::npos)
    throw std::runtime_error("the gateway did not start: " + out + "\n" + log());
  port_ = static_cast<std::uint16_t>(std::stoi(out.substr(colon + 1)));
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0) stop(SIGKILL, std::chrono::seconds(5));
  ::unlink(log_path_.c_str());
}

int GatewayProcess::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    ::usleep(10000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -2;  // did not exit in time
}

std::string GatewayProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RawConn::RawConn(std::uint16_t port, const char* from) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &src.sin_addr);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) ADD_FAILURE() << "bind";
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0)
    ADD_FAILURE() << "connect";
}

void RawConn::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawConn::send(const std::string& s) {
  (void)!::write(fd_, s.data(), s.size());
}

std::string RawConn::read(const std::string& until, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_.find(until) == std::string::npos && !closed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    auto n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      closed_ = true;
      break;
    }
    in_.append(buf, static_cast<std::size_t>(n));
  }
  return in_;
}

std::string RawConn::take() {
  return std::exchange(in_, {});
}

std::uint64_t limit_hits(std::uint16_t port, const std::string& limit, const std::string& headers) {
  auto m = http(port, "GET", "/metrics", "", headers);
  auto key = "forrealtime_limits_hit_total{limit=\"" + limit + "\"} ";
  auto at = m.body.find(key);
  if (at == std::string::npos) return 0;
  return std::stoull(m.body.substr(at + key.size()));
}

}  // namespace fr_test
