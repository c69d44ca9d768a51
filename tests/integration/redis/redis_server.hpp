// A throwaway redis-server for tests: a free loopback port, a temporary directory, no RDB
// snapshots; started by the constructor, stopped by the destructor. It can be killed
// (SIGKILL) and restarted on the same port and directory to test reconnection and
// persistence (`appendonly`). `Client` is a blocking hiredis connection for checking what is
// stored independently of the code under test.
//
// Header-only so that any test target can include it: link hiredis (pkg-config `hiredis`).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>

namespace forrealtime::testing {

/** A blocking hiredis connection. `cmd` returns the reply tree (owned) or throws. */
class RedisClient {
 public:
  explicit RedisClient(std::uint16_t port, int timeout_ms = 2000) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!ctx_ || ctx_->err) {
      std::string why = ctx_ ? ctx_->errstr : "out of memory";
      if (ctx_) redisFree(ctx_);
      ctx_ = nullptr;
      throw std::runtime_error("redis connect: " + why);
    }
    redisSetTimeout(ctx_, tv);
  }
  ~RedisClient() {
    if (ctx_) redisFree(ctx_);
  }
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  struct ReplyPtr {
    redisReply* r = nullptr;
    ReplyPtr() = default;
    explicit ReplyPtr(redisReply* p) : r(p) {}
    ReplyPtr(ReplyPtr&& o) noexcept : r(o.r) { o.r = nullptr; }
    ~ReplyPtr() {
      if (r) freeReplyObject(r);
    }
    redisReply* operator->() const { return r; }
    redisReply& operator*() const { return *r; }
  };

  ReplyPtr cmd(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data()));
    if (!r) throw std::runtime_error(std::string("redis command: ") + ctx_->errstr);
    return ReplyPtr(r);
  }
  /** Queues a command without waiting (pipelining); read replies with `get_reply`. */
  void append(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data());
  }
  ReplyPtr get_reply() {
    void* r = nullptr;
    if (redisGetReply(ctx_, &r) != REDIS_OK)
      throw std::runtime_error(std::string("redis reply: ") + ctx_->errstr);
    return ReplyPtr(static_cast<redisReply*>(r));
  }
  std::string str(const std::vector<std::string>& args) {
    auto r = cmd(args);
    return r->str ? std::string(r->str, r->len) : std::string();
  }
  long long integer(const std::vector<std::string>& args) { return cmd(args)->integer; }

 private:
  redisContext* ctx_ = nullptr;
};

class RedisServer {
 public:
  struct Options {
    bool appendonly = false;
    std::vector<std::string> extra_args;
  };

  RedisServer() : RedisServer(Options{}) {}
  explicit RedisServer(Options options) : options_(std::move(options)) {
    char tmpl[] = "/tmp/forrealtime-redis-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = free_port();
    start();
  }
  ~RedisServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  /** Starts (or restarts) the server and waits until it answers PING. */
  void start() {
    if (pid_ > 0) return;
    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_,
                                     "--save",
                                     "",
                                     "--appendonly",
                                     options_.appendonly ? "yes" : "no",
                                     "--appendfsync",
                                     "always",
                                     "--logfile",
                                     dir_ + "/redis.log",
                                     "--daemonize",
                                     "no"};
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("redis-server", argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        RedisClient c(port_, 200);
        auto r = c.cmd({"PING"});
        // PONG, or NOAUTH when a password is required: either way the server is up. Not
        // LOADING: a restarted server listens while it still reads its AOF, and a write
        // then fails (seen under load as history missing the entries written "after" start).
        if (r->type == REDIS_REPLY_STATUS) return;
        if (r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("NOAUTH"))
          return;
      } catch (const std::exception&) {
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start; see " + dir_ + "/redis.log");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("redis-server did not answer within 10 s");
  }

  /** SIGKILL: no shutdown, no final save (what a crash looks like). */
  void kill() { signal_and_wait(SIGKILL); }
  /** SIGTERM and wait. */
  void stop() { signal_and_wait(SIGTERM); }

  static std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
  }

 private:
  void signal_and_wait(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  Options options_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace forrealtime::testing
