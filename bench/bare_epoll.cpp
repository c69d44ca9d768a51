// The bare epoll broadcaster: the ceiling of this machine for SSE fan-out.
//
// One thread, one epoll, level-triggered. `GET <any path>?channel=X` answers an SSE head
// and a `connected` event and files the socket under X. `POST <any path>?channel=X` with a
// Content-Length body writes the frame `data: <body>\n\n` to every socket of X with one
// write() each and answers `{}`; keep-alive. Nothing else: no history, no ids, no JSON, no
// queues. A subscriber whose socket cannot take a whole frame at once is closed and counted
// (`dropped` in the exit line), so a slow client never makes this look faster than it is.
//
//   forrealtime-bare-epoll --host 127.0.0.1 --port 8090
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

struct Conn {
  bool open = false;
  bool subscriber = false;
  std::string in;  // a request being read (emitters and not yet identified sockets)
  std::vector<int>* members = nullptr;
  std::size_t index = 0;  // position in *members
};

std::vector<Conn> conns;
std::unordered_map<std::string, std::vector<int>> channels;
int ep = -1;
unsigned long long dropped = 0, delivered = 0, emits = 0;
volatile sig_atomic_t stop = 0;

void on_signal(int) {
  stop = 1;
}

void close_conn(int fd) {
  Conn& c = conns[fd];
  if (!c.open) return;
  if (c.members) {
    auto& m = *c.members;
    int last = m.back();
    m[c.index] = last;
    conns[last].index = c.index;
    m.pop_back();
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  c = Conn{};
}

bool write_all(int fd, std::string_view s) {
  ssize_t n = write(fd, s.data(), s.size());
  return n == static_cast<ssize_t>(s.size());
}

std::string query_channel(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return "default";
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto kv = query.substr(0, amp);
    if (kv.substr(0, 8) == "channel=") return std::string(kv.substr(8));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "default";
}

// Handles every complete request in c.in; returns false when the socket was closed.
bool on_requests(int fd) {
  Conn& c = conns[fd];
  for (;;) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return c.in.size() < 65536 || (close_conn(fd), false);
    std::string_view head(c.in.data(), end);
    auto sp1 = head.find(' ');
    auto sp2 = head.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos)
      return close_conn(fd), false;
    std::string_view method = head.substr(0, sp1);
    std::string_view target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method == "GET" && target.substr(0, 8) == "/healthz") {
      write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      c.in.erase(0, end + 4);
      continue;
    }
    if (method == "GET") {
      static const char sse_head[] =
          "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
          "Connection: keep-alive\r\n\r\ndata: {\"type\":\"connected\"}\n\n";
      if (!write_all(fd, sse_head)) return close_conn(fd), false;
      auto& m = channels[query_channel(target)];
      c.subscriber = true;
      c.members = &m;
      c.index = m.size();
      m.push_back(fd);
      std::string().swap(c.in);
      return true;
    }
    // POST: find Content-Length.
    std::size_t length = 0;
    for (std::size_t pos = head.find("\r\n"); pos != std::string_view::npos;
         pos = head.find("\r\n", pos + 2)) {
      std::string_view line = head.substr(pos + 2, head.find("\r\n", pos + 2) - pos - 2);
      if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0)
        length = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
    }
    if (c.in.size() < end + 4 + length) return true;  // body not complete yet
    std::string frame = "data: ";
    frame.append(c.in, end + 4, length);
    frame += "\n\n";
    auto it = channels.find(query_channel(target));
    if (it != channels.end()) {
      auto& m = it->second;
      for (std::size_t i = 0; i < m.size();) {
        int sub = m[i];
        if (write_all(sub, frame)) {
          ++delivered;
          ++i;
        } else {
          ++dropped;
          close_conn(sub);  // swaps the last member into i
        }
      }
    }
    ++emits;
    c.in.erase(0, end + 4 + length);
    if (!write_all(
            fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
      return close_conn(fd), false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 8090;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--host"))
      host = argv[i + 1];
    else if (!std::strcmp(argv[i], "--port"))
      port = std::atoi(argv[i + 1]);
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  conns.resize(rl.rlim_cur > 4'000'000 ? 4'000'000 : rl.rlim_cur);

  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, host, &a.sin_addr);
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(ls, 65535)) {
    std::perror("bind/listen");
    return 1;
  }
  ep = epoll_create1(0);
  epoll_event ev{EPOLLIN, {.fd = ls}};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  std::fprintf(stderr, "bare-epoll listening on %s:%d\n", host, port);

  std::vector<epoll_event> events(1024);
  char buf[65536];
  while (!stop) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 500);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == ls) {
        for (;;) {
          int c = accept4(ls, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          if (static_cast<std::size_t>(c) >= conns.size()) {
            close(c);
            continue;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns[c].open = true;
          epoll_event cev{EPOLLIN | EPOLLRDHUP, {.fd = c}};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      Conn& c = conns[fd];
      if (!c.open) continue;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        close_conn(fd);
        continue;
      }
      if (c.subscriber) continue;  // subscribers have nothing to say
      c.in.append(buf, static_cast<std::size_t>(r));
      on_requests(fd);
    }
  }
  std::fprintf(stderr, "bare-epoll: emits=%llu delivered=%llu dropped=%llu\n", emits, delivered,
               dropped);
  return 0;
}
