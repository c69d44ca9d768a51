// A throwaway Redis Cluster for tests: 3 masters and 3 replicas (`redis-server
// --cluster-enabled yes` on free loopback ports, each in its own temporary directory, the
// cluster bus on another free port), joined with `redis-cli --cluster create --cluster-replicas
// 1`, node timeout 1 s so that a failover takes about two seconds. The destructor stops every
// process it started (also after a failed assertion), and removes the directories.
//
// `ClusterClient` is a blocking client that follows MOVED and ASK, to check what the cluster
// holds independently of the code under test and to write as "another writer" (what
// `redis-cli -c XADD` does).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../redis/redis_server.hpp"

namespace forrealtime::testing {

inline std::string reply_text(const redisReply* r) {
  return r && r->str ? std::string(r->str, r->len) : std::string();
}

class RedisCluster {
 public:
  struct Node {
    std::unique_ptr<RedisServer> server;
    std::uint16_t port = 0;
    std::string id;
  };

  RedisCluster() {
    for (int i = 0; i < 6; ++i) {
      Node n;
      auto bus = RedisServer::free_port();
      RedisServer::Options o;
      o.extra_args = {"--cluster-enabled",
                      "yes",
                      "--cluster-config-file",
                      "nodes.conf",
                      "--cluster-node-timeout",
                      "1000",
                      "--cluster-port",
                      std::to_string(bus),
                      "--cluster-replica-validity-factor",
                      "0"};
      n.server = std::make_unique<RedisServer>(o);
      n.port = n.server->port();
      nodes_.push_back(std::move(n));
    }
    std::vector<std::string> args = {"redis-cli", "--cluster", "create"};
    for (auto& n : nodes_) args.push_back("127.0.0.1:" + std::to_string(n.port));
    args.insert(args.end(), {"--cluster-replicas", "1", "--cluster-yes"});
    if (run(args) != 0) throw std::runtime_error("redis-cli --cluster create failed");
    for (auto& n : nodes_) {
      RedisClient c(n.port);
      n.id = reply_text(c.cmd({"CLUSTER", "MYID"}).r);
    }
    wait_ok();
  }
  ~RedisCluster() { nodes_.clear(); }

  std::string url() const { return "redis-cluster://127.0.0.1:" + std::to_string(nodes_[0].port); }
  std::vector<Node>& nodes() { return nodes_; }

  /** Waits until every running node says `cluster_state:ok` and every replica is in sync. */
  void wait_ok(std::chrono::seconds limit = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      bool ok = true;
      for (auto& n : nodes_) {
        if (!n.server->running()) continue;
        try {
          RedisClient c(n.port);
          if (reply_text(c.cmd({"CLUSTER", "INFO"}).r).find("cluster_state:ok") ==
              std::string::npos)
            ok = false;
          // A replica must be in sync, or a manual failover waits for it.
          auto repl = reply_text(c.cmd({"INFO", "replication"}).r);
          if (repl.find("role:slave") != std::string::npos &&
              repl.find("master_link_status:up") == std::string::npos)
            ok = false;
        } catch (const std::exception&) {
          ok = false;
        }
      }
      if (ok) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("the cluster did not reach cluster_state:ok");
  }

  /** Port of the master serving `slot`, asked of a running node. */
  std::uint16_t master_of(std::uint16_t slot) {
    for (auto& n : nodes_) {
      if (!n.server->running()) continue;
      RedisClient c(n.port);
      auto r = c.cmd({"CLUSTER", "SLOTS"});
      for (std::size_t i = 0; i < r->elements; ++i) {
        auto* range = r->element[i];
        if (static_cast<long long>(slot) >= range->element[0]->integer &&
            static_cast<long long>(slot) <= range->element[1]->integer)
          return static_cast<std::uint16_t>(range->element[2]->element[1]->integer);
      }
    }
    throw std::runtime_error("no master for the slot");
  }
  Node& node_at(std::uint16_t port) {
    for (auto& n : nodes_)
      if (n.port == port) return n;
    throw std::runtime_error("no such node");
  }
  /** A replica of the master at `port`. */
  Node& replica_of(std::uint16_t port) {
    auto id = node_at(port).id;
    for (auto& n : nodes_) {
      if (!n.server->running() || n.port == port) continue;
      RedisClient c(n.port);
      auto info = reply_text(c.cmd({"CLUSTER", "NODES"}).r);
      std::istringstream lines(info);
      std::string line;
      while (std::getline(lines, line))
        if (line.find("myself") != std::string::npos && line.find(id) != std::string::npos)
          return n;
    }
    throw std::runtime_error("no replica");
  }
  std::vector<std::uint16_t> masters() {
    std::vector<std::uint16_t> out;
    for (auto& n : nodes_) {
      if (!n.server->running()) continue;
      RedisClient c(n.port);
      if (reply_text(c.cmd({"ROLE"}).r->element[0]) == "master") out.push_back(n.port);
    }
    return out;
  }

  static int run(const std::vector<std::string>& args) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : const_cast<std::vector<std::string>&>(args)) argv.push_back(a.data());
      argv.push_back(nullptr);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, 1);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::vector<Node> nodes_;
};

/** A blocking client of the cluster that follows MOVED and ASK. */
class ClusterClient {
 public:
  explicit ClusterClient(std::uint16_t seed) : seed_(seed) {}

  RedisClient::ReplyPtr cmd(const std::vector<std::string>& args, std::uint16_t port = 0) {
    if (!port) port = seed_;
    bool asking = false;
    for (int hop = 0; hop < 8; ++hop) {
      auto& c = client(port);
      if (asking) c.cmd({"ASKING"});
      auto r = c.cmd(args);
      auto t = reply_text(r.r);
      if (r->type == REDIS_REPLY_ERROR && (t.starts_with("MOVED ") || t.starts_with("ASK "))) {
        asking = t.starts_with("ASK ");
        port = static_cast<std::uint16_t>(std::stoi(t.substr(t.rfind(':') + 1)));
        continue;
      }
      return r;
    }
    throw std::runtime_error("too many redirections");
  }

 private:
  RedisClient& client(std::uint16_t port) {
    auto& c = clients_[port];
    if (!c) c = std::make_unique<RedisClient>(port);
    return *c;
  }
  std::uint16_t seed_;
  std::map<std::uint16_t, std::unique_ptr<RedisClient>> clients_;
};

}  // namespace forrealtime::testing
