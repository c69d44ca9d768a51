// Processes and files for the TLS and Sentinel tests: a temporary directory removed at the end,
// a child process (redis-server, redis-server --sentinel) that dies with the test even when the
// test crashes (PR_SET_PDEATHSIG) and is killed by its destructor, a shell command's output, and
// a CA with server and client certificates made by the openssl program.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace forrealtime::testing {

/** `mkdtemp`, removed with everything in it by the destructor. */
class TempDir {
 public:
  explicit TempDir(const char* stem = "forrealtime-tls") {
    std::string tmpl = std::string("/tmp/") + stem + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/** Runs `sh -c cmd` and returns its stdout and stderr; `status` gets the exit status. */
inline std::string shell(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::array<char, 4096> buf;
  while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int st = ::pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

/** A child process; SIGKILLed with the test (PR_SET_PDEATHSIG) or by `stop`/the destructor. */
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~ChildProcess() { stop(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

/** A CA, a server certificate for `localhost` only (so that dialling 127.0.0.1 is a name
 *  mismatch), a client certificate, and a second CA that signed none of them. */
struct TestPki {
  explicit TestPki(const TempDir& dir)
      : ca(dir / "ca.crt"),
        ca_key(dir / "ca.key"),
        server_cert(dir / "server.crt"),
        server_key(dir / "server.key"),
        client_cert(dir / "client.crt"),
        client_key(dir / "client.key"),
        other_ca(dir / "other-ca.crt") {
    const std::string d = dir.path();
    auto run = [](const std::string& cmd) {
      int status = 0;
      auto out = shell(cmd, &status);
      if (status != 0) throw std::runtime_error("openssl failed: " + cmd + "\n" + out);
    };
    auto make_ca = [&](const std::string& key, const std::string& crt, const std::string& cn) {
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
          "'/CN=" +
          cn + "' -keyout " + key + " -out " + crt);
    };
    auto make_leaf = [&](const std::string& name, const std::string& ext) {
      run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=" + name +
          "' -keyout " + d + "/" + name + ".key -out " + d + "/" + name + ".csr");
      run("printf '" + ext + "\\n' > " + d + "/" + name + ".ext");
      run("openssl x509 -req -days 2 -in " + d + "/" + name + ".csr -CA " + ca + " -CAkey " +
          ca_key + " -CAcreateserial -extfile " + d + "/" + name + ".ext -out " + d + "/" + name +
          ".crt");
    };
    make_ca(ca_key, ca, "forrealtime test CA");
    make_ca(d + "/other-ca.key", other_ca, "some other CA");
    make_leaf("server", "subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth");
    make_leaf("client", "extendedKeyUsage=clientAuth");
  }
  std::string ca, ca_key, server_cert, server_key, client_cert, client_key, other_ca;
};

}  // namespace forrealtime::testing
