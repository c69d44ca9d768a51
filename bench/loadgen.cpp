// forrealtime-loadgen: SSE load generator for any server speaking PROTOCOL.md (and, through
// URL templates and a raw emit format, nchan and the bare epoll broadcaster).
//
// One thread and one epoll drive everything: thousands of non-blocking subscriber sockets,
// a small pool of keep-alive emitter connections, and the emission schedule (epoll_pwait2
// timeouts with microsecond resolution). The emitter stamps each event's payload with its
// send time, `{"t":<us since epoch>,"seq":<per-channel sequence>}`, right before write();
// a subscriber stamps the read() that completed the event, so latency = receive - send on
// one clock. Per connection, a bitset of seen sequence numbers gives loss, duplicates and
// reordering. Connections can be spread over 127.0.0.x source addresses (bind before
// connect with IP_BIND_ADDRESS_NO_PORT) and every phase has a deadline: a run always ends.
//
// Modes (see bench/README.md):
//   stream  N subscribers over K channels; events at a fixed rate to one channel, shuffled
//           rounds over all channels, or only the first H ("hot") channels; --reps phases.
//   idle    connect in steps (e.g. 1000,10000,...); at each step RSS per connection and
//           the time for one event to reach everyone (--reps events per step).
//   replay  a subscriber misses --miss events and reconnects with last_ack_<channel>.
//   hold    --connections subscribers to one channel, emitted to by someone else (the
//           multi-gateway scale script, bench/scale.py): writes --ready-file when connected,
//           records (seq, latency) of every delivery until --stop-file appears, writes them
//           to --latency-out. Several processes on several gateways make one measurement.
//   emit    POSTs on --emit-conns keep-alive connections, single or --batch B: closed loop
//           (saturation), or with --emit-rate R open loop at R events/s; CPU per event of the
//           server and of its helper (redis-server) from /proc, divided by events acknowledged.
// Output: one JSON object on stdout; progress on stderr.
#include "sse_parser.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

using namespace forrealtime_bench;

namespace {

// ---------------------------------------------------------------- time and options

std::int64_t now_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}
std::int64_t mono_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

void logf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "[loadgen] ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
}

struct Options {
  std::string mode = "stream";
  std::string sub_url = "http://127.0.0.1:8080/api/realtime?channel={ch}";
  std::string emit_url = "http://127.0.0.1:8080/api/emit";
  std::string emit_format = "json";  // json: forrealtime POST /api/emit body; raw: the data only
  std::string ready = "event";       // head: the 200 head; event: the first SSE event
  std::string channel_prefix;
  std::string label;
  std::string order = "shuffled";   // shuffled | sequential
  std::vector<std::int64_t> steps;  // idle mode
  std::vector<int> server_pids;
  std::int64_t connections = 100;
  std::int64_t channels = 1;
  std::int64_t hot = 0;
  double rate = 10;
  double duration = 5;
  double drain = 10;
  double settle = 1;
  double gap = 1;
  double connect_timeout = 60;
  double max_time = 300;
  int reps = 3;
  int sources = 1;
  int connect_concurrency = 500;
  int emit_conns = 4;
  int batch = 1;
  double emit_rate = 0;  // emit mode: events/s, open loop; 0 = closed loop (saturation)
  bool pipeline = false;
  int miss = 100;
  int pre = 10;
  int source_base = 0;  // sources are 127.0.0.(1 + source_base) .. (source_base + sources)
  std::string ready_file, stop_file, latency_out;  // hold mode
};

struct Url {
  std::string host = "127.0.0.1";
  int port = 80;
  std::string target = "/";  // path and query, may hold {ch}
};

Url parse_url(const std::string& s) {
  Url u;
  std::string rest = s;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = std::atoi(hostport.c_str() + colon + 1);
  } else {
    u.host = hostport;
  }
  return u;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

std::string url_encode(std::string_view s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string r;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*') {
      r.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      r.push_back('+');
    } else {
      r.push_back('%');
      r.push_back(hex[c >> 4]);
      r.push_back(hex[c & 15]);
    }
  }
  return r;
}

// ---------------------------------------------------------------- process stats

struct ProcSample {
  double cpu_s = 0;  // utime + stime of all watched pids
  std::int64_t rss_kib = 0;
  double aux_cpu_s = 0;  // helper processes (the baseline's redis-server), reported apart
  std::int64_t aux_rss_kib = 0;
  double machine_cpu_s = 0;  // all CPUs, all processes: shows how busy others kept the machine
  double irq_cpu_s = 0;      // of which hard and soft interrupts (loopback TCP runs there)
};

// Busy CPU time of the whole machine and the part spent in interrupts, from /proc/stat.
std::pair<double, double> machine_busy_s() {
  std::ifstream st("/proc/stat");
  std::string cpu;
  unsigned long long v[8] = {};
  st >> cpu;
  for (auto& x : v) st >> x;
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick,
          static_cast<double>(v[5] + v[6]) / tick};
}

ProcSample sample_one_group(const std::vector<int>& pids) {
  ProcSample s;
  static const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int pid : pids) {
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (std::getline(st, line)) {
      auto rp = line.rfind(')');
      std::istringstream is(line.substr(rp + 2));
      std::string f;
      unsigned long long ut = 0, stt = 0;
      for (int i = 3; i <= 15 && is >> f; ++i) {
        if (i == 14) ut = std::strtoull(f.c_str(), nullptr, 10);
        if (i == 15) stt = std::strtoull(f.c_str(), nullptr, 10);
      }
      s.cpu_s += (ut + stt) / tick;
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line))
      if (line.rfind("VmRSS:", 0) == 0) s.rss_kib += std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  return s;
}

std::vector<int> g_aux_pids;

ProcSample sample_pids(const std::vector<int>& pids) {
  ProcSample s = sample_one_group(pids);
  ProcSample a = sample_one_group(g_aux_pids);
  s.aux_cpu_s = a.cpu_s;
  s.aux_rss_kib = a.rss_kib;
  std::tie(s.machine_cpu_s, s.irq_cpu_s) = machine_busy_s();
  return s;
}

double self_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

// ---------------------------------------------------------------- JSON output helpers

struct Json {
  std::string s;
  bool first = true;
  void open() {
    s += '{';
    first = true;
  }
  void close() {
    s += '}';
    first = false;
  }
  void key(std::string_view k) {
    if (!first) s += ',';
    first = false;
    s += '"';
    s += k;
    s += "\":";
  }
  void num(std::string_view k, double v) {
    key(k);
    if (!std::isfinite(v)) {
      s += "null";
      return;
    }
    char b[64];
    if (v == std::floor(v) && std::fabs(v) < 1e15)
      std::snprintf(b, sizeof b, "%.0f", v);
    else
      std::snprintf(b, sizeof b, "%.4f", v);
    s += b;
  }
  void str(std::string_view k, std::string_view v) {
    key(k);
    s += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') s += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        s += ' ';
        continue;
      }
      s += c;
    }
    s += '"';
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    s += v ? "true" : "false";
  }
  void obj(std::string_view k) {
    key(k);
    open();
  }
  void arr(std::string_view k) {
    key(k);
    s += '[';
    first = true;
  }
  void arr_close() {
    s += ']';
    first = false;
  }
  void elem_obj() {
    if (!first) s += ',';
    open();
  }
};

struct Percentiles {
  std::vector<std::uint32_t> v;
  void add(std::int64_t us) {
    v.push_back(static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, 4'000'000'000)));
  }
  void write(Json& j, std::string_view name) {
    std::sort(v.begin(), v.end());
    auto q = [&](double p) -> double {
      if (v.empty()) return NAN;
      auto i = static_cast<std::size_t>(std::ceil(p * v.size()));
      return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)] / 1000.0;
    };
    double sum = 0;
    for (auto x : v) sum += x;
    j.obj(name);
    j.num("count", static_cast<double>(v.size()));
    j.num("mean_ms", v.empty() ? NAN : sum / v.size() / 1000.0);
    j.num("p50_ms", q(0.50));
    j.num("p90_ms", q(0.90));
    j.num("p99_ms", q(0.99));
    j.num("p999_ms", q(0.999));
    j.num("max_ms", v.empty() ? NAN : v.back() / 1000.0);
    j.close();
  }
};

// ---------------------------------------------------------------- connections

enum class Kind : std::uint8_t { sub, emit };

struct Conn {
  int fd = -1;
  Kind kind = Kind::sub;
  bool connected = false;  // TCP established and request written
  bool ready = false;
  bool dead = false;
  std::uint32_t index = 0;  // subscriber index or emitter index
};

struct Subscriber {
  Conn c;
  std::uint32_t channel = 0;
  std::unique_ptr<SseClientStream> stream;
  std::string request;
  std::int64_t last_seq = 0;
  std::vector<std::uint64_t> seen;      // bit per sequence number
  std::uint64_t received = 0;           // unique bench events
  std::string last_id;                  // replay mode
  std::uint64_t id_ms = 0, id_seq = 0;  // the last stream id seen, when events carry one
  bool history_lost = false;
  std::string history_lost_json;
};

// An emitter connection pipelines its requests (HTTP/1.1 answers in order): events to one
// channel always go through the same connection, so the server sees them in sequence order
// however slowly it answers, and the emission rate does not wait for answers.
struct Emitter {
  struct InFlight {
    std::int64_t sent_mono;
    int events;
  };
  Conn c;
  HttpResponseParser http;
  std::string out;
  std::size_t out_off = 0;
  std::deque<InFlight> inflight;
  bool busy() const { return !inflight.empty() && !c.dead; }
};
constexpr std::size_t max_pipeline = 256;

struct Stats {
  Percentiles latency;
  std::uint64_t received = 0, duplicates = 0, reordered = 0, seq_inversions = 0, other_events = 0;
};

class LoadGen {
 public:
  explicit LoadGen(Options o) : o_(std::move(o)) {}
  int run();

 private:
  // setup
  void raise_fd_limit();
  int open_socket(const Url& u, int source_index);
  // subscribers
  void start_subscriber(std::uint32_t i);
  void on_sub_event(Subscriber& s, std::uint32_t events);
  void on_bench_event(Subscriber& s, const SseEvent& e, std::int64_t recv_us);
  void close_sub(Subscriber& s);
  bool connect_until(std::int64_t target, std::int64_t deadline_mono);
  // emitters
  Emitter* emitter(std::uint32_t index);
  Emitter* emitter_for(std::uint32_t ch);
  bool any_emit_pending() const;
  void flush_emitter(Emitter& e);
  void emit_request(Emitter& e, const std::string& body, std::string_view channel, int n_events);
  void on_emit_event(Emitter& e, std::uint32_t events);
  std::string event_body(std::uint32_t ch);
  void emit_one(std::uint32_t ch);
  // loop
  void poll(std::int64_t timeout_us);
  bool past_deadline() const { return mono_us() > hard_deadline_; }
  // modes
  int run_stream();
  int run_idle();
  int run_replay();
  int run_emit();
  int run_hold();
  void write_rep(Json& j, double wall_s, const ProcSample& p0, const ProcSample& p1, double self0,
                 double events = 0);
  void write_common(Json& j);

  std::string channel_name(std::uint32_t ch) const {
    return o_.channel_prefix + std::to_string(ch);
  }

  Options o_;
  Url sub_url_, emit_url_;
  int ep_ = -1;
  std::vector<sockaddr_in> sources_;
  std::vector<std::unique_ptr<Subscriber>> subs_;
  std::vector<std::unique_ptr<Emitter>> emitters_;
  std::vector<std::int64_t> chan_seq_;      // last seq emitted per channel
  std::vector<std::uint32_t> chan_subs_;    // subscribers per channel
  std::deque<std::uint32_t> emit_backlog_;  // channels waiting for a free emitter
  std::int64_t hard_deadline_ = 0;
  std::int64_t connecting_ = 0, ready_count_ = 0, connect_failed_ = 0, closed_by_server_ = 0;
  std::int64_t non_200_ = 0;
  std::uint64_t expected_ = 0;  // deliveries owed for events sent so far
  std::uint64_t emitted_ = 0, emit_ok_ = 0, emit_err_ = 0, emit_backlogged_ = 0;
  Percentiles emit_latency_;
  Stats st_;
  std::vector<SseEvent> evbuf_;
  std::mt19937_64 rng_{0x5eed};
  std::string replay_log_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> hold_lat_;  // (seq, latency us)
};

void LoadGen::raise_fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t want = static_cast<rlim_t>(o_.connections + o_.emit_conns + 1000);
  for (auto s : o_.steps)
    want = std::max<rlim_t>(want, static_cast<rlim_t>(s + o_.emit_conns + 1000));
  if (rl.rlim_max < want) {
    rlimit up{want, want};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) return;
  }
  rl.rlim_cur = std::max(rl.rlim_cur, std::min(rl.rlim_max, want));
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want)
    logf("warning: fd limit %llu < %llu wanted", (unsigned long long)rl.rlim_cur,
         (unsigned long long)want);
}

int LoadGen::open_socket(const Url& u, int source_index) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!sources_.empty()) {
    const auto& src = sources_[static_cast<std::size_t>(source_index) % sources_.size()];
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
      close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(u.port));
  inet_pton(AF_INET, u.host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// ---------------------------------------------------------------- subscribers

void LoadGen::start_subscriber(std::uint32_t i) {
  Subscriber& s = *subs_[i];
  s.stream = std::make_unique<SseClientStream>();
  s.c = Conn{};
  s.c.kind = Kind::sub;
  s.c.index = i;
  s.c.fd = open_socket(sub_url_, static_cast<int>(i));
  if (s.c.fd < 0) {
    ++connect_failed_;
    s.c.dead = true;
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = (std::uint64_t(i) << 1) | 0;
  epoll_ctl(ep_, EPOLL_CTL_ADD, s.c.fd, &ev);
  ++connecting_;
}

void LoadGen::close_sub(Subscriber& s) {
  if (s.c.fd >= 0) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, s.c.fd, nullptr);
    close(s.c.fd);
  }
  if (!s.c.ready && !s.c.dead) --connecting_;
  if (s.c.ready) --ready_count_;
  s.c.fd = -1;
  s.c.dead = true;
  s.c.ready = false;
  s.stream.reset();
}

void LoadGen::on_bench_event(Subscriber& s, const SseEvent& e, std::int64_t recv_us) {
  std::string_view d = e.data;
  auto num_after = [&](std::string_view key, std::int64_t& out) {
    auto p = d.find(key);
    if (p == std::string_view::npos) return false;
    p += key.size();
    while (p < d.size() && (d[p] == ' ' || d[p] == ':')) ++p;
    auto r = std::from_chars(d.data() + p, d.data() + d.size(), out);
    return r.ec == std::errc();
  };
  std::int64_t seq = 0, t = 0;
  if (!num_after("\"seq\"", seq) || !num_after("\"t\"", t)) {
    if (d.find("\"history_lost\"") != std::string_view::npos) {
      s.history_lost = true;
      s.history_lost_json = e.data;
    }
    ++st_.other_events;
    return;
  }
  bool has_id = false, id_backwards = false;
  if (auto p = d.find("\"id\":\""); p != std::string_view::npos) {
    auto q = d.find('"', p + 6);
    std::string_view id = d.substr(p + 6, q - p - 6);
    if (o_.mode == "replay") s.last_id = std::string(id);
    std::uint64_t ms = 0, sq = 0;
    auto dash = id.find('-');
    if (dash != std::string_view::npos) {
      std::from_chars(id.data(), id.data() + dash, ms);
      std::from_chars(id.data() + dash + 1, id.data() + id.size(), sq);
      has_id = true;
      id_backwards = ms < s.id_ms || (ms == s.id_ms && sq <= s.id_seq);
      if (!id_backwards) {
        s.id_ms = ms;
        s.id_seq = sq;
      }
    }
  }
  if (seq <= 0) return;
  auto word = static_cast<std::size_t>(seq) / 64;
  if (s.seen.size() <= word) s.seen.resize(word + 1 + word / 2);
  std::uint64_t bit = std::uint64_t(1) << (seq % 64);
  if (s.seen[word] & bit) {
    ++st_.duplicates;
    return;
  }
  s.seen[word] |= bit;
  // Out of order: against the server's ids when it sends them, else against our sequence.
  if (has_id ? id_backwards : seq < s.last_seq) ++st_.reordered;
  if (seq < s.last_seq) ++st_.seq_inversions;
  s.last_seq = std::max(s.last_seq, seq);
  ++s.received;
  ++st_.received;
  st_.latency.add(recv_us - t);
  if (o_.mode == "hold")
    hold_lat_.emplace_back(static_cast<std::uint32_t>(seq),
                           static_cast<std::uint32_t>(std::clamp<std::int64_t>(
                               recv_us - t, 0, std::numeric_limits<std::uint32_t>::max())));
}

void LoadGen::on_sub_event(Subscriber& s, std::uint32_t events) {
  if (s.c.dead) return;
  if (!s.c.connected) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s.c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++connect_failed_;
        close_sub(s);
        return;
      }
      ssize_t n = write(s.c.fd, s.request.data(), s.request.size());
      if (n != static_cast<ssize_t>(s.request.size())) {
        ++connect_failed_;
        close_sub(s);
        return;
      }
      s.c.connected = true;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = (std::uint64_t(s.c.index) << 1) | 0;
      epoll_ctl(ep_, EPOLL_CTL_MOD, s.c.fd, &ev);
    }
    return;
  }
  static char buf[65536];
  ssize_t n = read(s.c.fd, buf, sizeof buf);
  std::int64_t recv_us = now_us();
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    if (!s.c.ready)
      ++connect_failed_;
    else
      ++closed_by_server_;
    close_sub(s);
    return;
  }
  evbuf_.clear();
  bool ok = s.stream->feed(std::string_view(buf, static_cast<std::size_t>(n)), evbuf_);
  const auto& http = s.stream->http();
  if (!ok || (http.head_done() && http.status() != 200)) {
    if (http.head_done() && http.status() != 200) ++non_200_;
    if (!s.c.ready) ++connect_failed_;
    close_sub(s);
    return;
  }
  if (!s.c.ready && http.head_done() && (o_.ready == "head" || !evbuf_.empty())) {
    s.c.ready = true;
    --connecting_;
    ++ready_count_;
  }
  for (const auto& e : evbuf_) on_bench_event(s, e, recv_us);
}

bool LoadGen::connect_until(std::int64_t target, std::int64_t deadline) {
  std::int64_t next = static_cast<std::int64_t>(subs_.size());
  std::int64_t last_log = mono_us();
  while (ready_count_ < target) {
    while (next < target && connecting_ < o_.connect_concurrency) {
      auto s = std::make_unique<Subscriber>();
      s->channel = static_cast<std::uint32_t>(next % o_.channels);
      s->request = "GET " + replace_all(sub_url_.target, "{ch}", channel_name(s->channel)) +
                   " HTTP/1.1\r\nHost: " + sub_url_.host + ":" + std::to_string(sub_url_.port) +
                   "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
      subs_.push_back(std::move(s));
      ++chan_subs_[subs_.back()->channel];
      start_subscriber(static_cast<std::uint32_t>(next));
      ++next;
    }
    if (next >= target && connecting_ == 0) break;  // all attempts finished, some failed
    if (mono_us() > deadline || past_deadline()) {
      logf("connect phase timed out: %lld ready of %lld", (long long)ready_count_,
           (long long)target);
      return false;
    }
    poll(20'000);
    if (mono_us() - last_log > 5'000'000) {
      last_log = mono_us();
      logf("connecting: %lld ready, %lld in flight, %lld failed", (long long)ready_count_,
           (long long)connecting_, (long long)connect_failed_);
    }
  }
  // Subscribers that failed do not owe deliveries.
  std::fill(chan_subs_.begin(), chan_subs_.end(), 0);
  for (auto& s : subs_)
    if (s->c.ready) ++chan_subs_[s->channel];
  return ready_count_ >= target;
}

// ---------------------------------------------------------------- emitters

Emitter* LoadGen::emitter(std::uint32_t index) {
  while (emitters_.size() <= index) emitters_.push_back(std::make_unique<Emitter>());
  Emitter& e = *emitters_[index];
  if (e.c.fd >= 0 && !e.c.dead) return &e;
  e = Emitter{};
  e.c.kind = Kind::emit;
  e.c.index = index;
  e.c.fd = open_socket(emit_url_, 0);
  if (e.c.fd < 0) {
    e.c.dead = true;
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u64 = (std::uint64_t(index) << 1) | 1;
  epoll_ctl(ep_, EPOLL_CTL_ADD, e.c.fd, &ev);
  return &e;
}

// With --pipeline, a channel's events all go through one connection, pipelined, so the
// server receives them in sequence order. Without it (servers that do not take pipelined
// requests, e.g. Bun), any idle connection of the pool takes the next event, and concurrent
// requests may be stored out of sequence order: reordering is then judged by the stream ids
// the server assigned (see on_bench_event).
Emitter* LoadGen::emitter_for(std::uint32_t ch) {
  if (o_.pipeline) {
    Emitter* e = emitter(ch % static_cast<std::uint32_t>(o_.emit_conns));
    return e && e->inflight.size() < max_pipeline ? e : nullptr;
  }
  for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(o_.emit_conns); ++i) {
    Emitter* e = emitter(i);
    if (e && !e->busy()) return e;
  }
  return nullptr;
}

bool LoadGen::any_emit_pending() const {
  if (!emit_backlog_.empty()) return true;
  return std::any_of(emitters_.begin(), emitters_.end(), [](auto& e) { return e->busy(); });
}

void LoadGen::flush_emitter(Emitter& e) {
  if (!e.c.connected || e.c.dead) return;
  if (e.out_off < e.out.size()) {
    ssize_t n = write(e.c.fd, e.out.data() + e.out_off, e.out.size() - e.out_off);
    if (n > 0) e.out_off += static_cast<std::size_t>(n);
  }
  bool pending = e.out_off < e.out.size();
  if (!pending) {
    e.out.clear();
    e.out_off = 0;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0u);
  ev.data.u64 = (std::uint64_t(e.c.index) << 1) | 1;
  epoll_ctl(ep_, EPOLL_CTL_MOD, e.c.fd, &ev);
}

void LoadGen::emit_request(Emitter& e, const std::string& body, std::string_view channel,
                           int n_events) {
  std::string target = replace_all(emit_url_.target, "{ch}", channel);
  e.out += "POST " + target + " HTTP/1.1\r\nHost: " + emit_url_.host + ":" +
           std::to_string(emit_url_.port) +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  e.inflight.push_back({mono_us(), n_events});
  flush_emitter(e);
}

void LoadGen::on_emit_event(Emitter& e, std::uint32_t events) {
  if (e.c.dead) return;
  auto fail = [&] {
    for (auto& f : e.inflight) emit_err_ += static_cast<std::uint64_t>(f.events);
    e.inflight.clear();
    epoll_ctl(ep_, EPOLL_CTL_DEL, e.c.fd, nullptr);
    close(e.c.fd);
    e.c.fd = -1;
    e.c.dead = true;
  };
  if (!e.c.connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(e.c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return fail();
    e.c.connected = true;
    flush_emitter(e);
  } else if (events & EPOLLOUT) {
    flush_emitter(e);
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    char buf[65536];
    ssize_t n = read(e.c.fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return fail();
    std::string_view rest(buf, static_cast<std::size_t>(n));
    while (!rest.empty()) {
      std::string body;
      auto used = e.http.feed(rest, body);
      rest.remove_prefix(used);
      if (e.http.failed() || (e.http.complete() && e.inflight.empty())) return fail();
      if (!e.http.complete()) break;
      auto f = e.inflight.front();
      e.inflight.pop_front();
      if (e.http.status() >= 200 && e.http.status() < 300) {
        emit_ok_ += static_cast<std::uint64_t>(f.events);
        emit_latency_.add(mono_us() - f.sent_mono);
      } else {
        emit_err_ += static_cast<std::uint64_t>(f.events);
        if (emit_err_ < 5) logf("emit answered %d: %s", e.http.status(), body.c_str());
      }
      bool keep = e.http.keep_alive();
      e.http.reset();
      if (!keep) return fail();
    }
  }
}

std::string LoadGen::event_body(std::uint32_t ch) {
  std::int64_t seq = ++chan_seq_[ch];
  std::string data = "{\"t\":" + std::to_string(now_us()) + ",\"seq\":" + std::to_string(seq) + "}";
  if (o_.emit_format == "raw") return data;
  return "{\"channel\":\"" + channel_name(ch) + "\",\"event\":\"bench.tick\",\"data\":" + data +
         "}";
}

void LoadGen::emit_one(std::uint32_t ch) {
  // Keep the order of a channel: behind an earlier backlogged event, wait in the backlog.
  Emitter* e = emit_backlog_.empty() ? emitter_for(ch) : nullptr;
  if (!e) {
    emit_backlog_.push_back(ch);
    ++emit_backlogged_;
    return;
  }
  // The payload's time is taken now, just before write(): a full pipeline shows up as
  // backlog, not as delivery latency.
  emit_request(*e, event_body(ch), channel_name(ch), 1);
  ++emitted_;
  expected_ += chan_subs_[ch];
}

// ---------------------------------------------------------------- loop

void LoadGen::poll(std::int64_t timeout_us) {
  static epoll_event events[1024];
  timespec ts{static_cast<time_t>(timeout_us / 1'000'000),
              static_cast<long>((timeout_us % 1'000'000) * 1000)};
  int n = epoll_pwait2(ep_, events, 1024, timeout_us < 0 ? nullptr : &ts, nullptr);
  for (int i = 0; i < n; ++i) {
    std::uint64_t tag = events[i].data.u64;
    auto idx = static_cast<std::uint32_t>(tag >> 1);
    if (tag & 1) {
      on_emit_event(*emitters_[idx], events[i].events);
    } else {
      on_sub_event(*subs_[idx], events[i].events);
    }
  }
  while (!emit_backlog_.empty()) {
    auto ch = emit_backlog_.front();
    Emitter* e = emitter_for(ch);
    if (!e) break;
    emit_backlog_.pop_front();
    emit_request(*e, event_body(ch), channel_name(ch), 1);
    ++emitted_;
    expected_ += chan_subs_[ch];
  }
}

void LoadGen::write_common(Json& j) {
  j.str("mode", o_.mode);
  j.str("label", o_.label);
  j.obj("params");
  j.str("sub_url", o_.sub_url);
  j.str("emit_url", o_.emit_url);
  j.str("emit_format", o_.emit_format);
  j.num("connections", static_cast<double>(o_.connections));
  j.num("channels", static_cast<double>(o_.channels));
  j.num("hot", static_cast<double>(o_.hot));
  j.num("rate", o_.rate);
  j.num("duration_s", o_.duration);
  j.num("reps", o_.reps);
  j.num("sources", o_.sources);
  j.num("batch", o_.batch);
  j.num("emit_conns", o_.emit_conns);
  j.num("emit_rate", o_.emit_rate);
  j.boolean("pipeline", o_.pipeline);
  j.close();
}

void LoadGen::write_rep(Json& j, double wall_s, const ProcSample& p0, const ProcSample& p1,
                        double self0, double events) {
  j.num("wall_s", wall_s);
  // CPU per event: what each event cost the server (all its threads) and its helper process,
  // utime + stime deltas over the phase divided by the events it acknowledged (emit mode) or
  // sent (stream mode). Includes the server's idle work over the phase (timers), negligible at
  // thousands of events per second.
  if (events > 0) {
    j.num("server_cpu_us_per_event", 1e6 * (p1.cpu_s - p0.cpu_s) / events);
    if (!g_aux_pids.empty())
      j.num("aux_cpu_us_per_event", 1e6 * (p1.aux_cpu_s - p0.aux_cpu_s) / events);
  }
  j.num("server_cpu_pct", wall_s > 0 ? 100.0 * (p1.cpu_s - p0.cpu_s) / wall_s : NAN);
  j.num("server_rss_kib", static_cast<double>(p1.rss_kib));
  double self_s = self_cpu_s() - self0;
  j.num("loadgen_cpu_pct", wall_s > 0 ? 100.0 * self_s / wall_s : NAN);
  if (!g_aux_pids.empty()) {
    j.num("aux_cpu_pct", wall_s > 0 ? 100.0 * (p1.aux_cpu_s - p0.aux_cpu_s) / wall_s : NAN);
    j.num("aux_rss_kib", static_cast<double>(p1.aux_rss_kib));
  }
  // What the rest of the machine used meanwhile (other people's compilers on a shared box):
  // a run with a high value is a noisy run.
  double machine = p1.machine_cpu_s - p0.machine_cpu_s;
  double ours = (p1.cpu_s - p0.cpu_s) + (p1.aux_cpu_s - p0.aux_cpu_s) + self_s;
  j.num("machine_cpu_pct", wall_s > 0 ? 100.0 * machine / wall_s : NAN);
  // Interrupt time is charged to no process: it holds the kernel's share of our own
  // loopback traffic as well as other people's, so it is counted in others_cpu_pct (an
  // upper bound of the noise) and also shown apart.
  j.num("others_cpu_pct", wall_s > 0 ? std::max(0.0, 100.0 * (machine - ours) / wall_s) : NAN);
  j.num("irq_cpu_pct", wall_s > 0 ? 100.0 * (p1.irq_cpu_s - p0.irq_cpu_s) / wall_s : NAN);
}

// ---------------------------------------------------------------- modes

int LoadGen::run_stream() {
  Json j;
  j.open();
  write_common(j);
  auto t0 = mono_us();
  bool all = connect_until(o_.connections,
                           mono_us() + static_cast<std::int64_t>(o_.connect_timeout * 1e6));
  j.obj("connect");
  j.num("ready", static_cast<double>(ready_count_));
  j.num("failed", static_cast<double>(connect_failed_));
  j.num("non_200", static_cast<double>(non_200_));
  j.num("seconds", (mono_us() - t0) / 1e6);
  j.boolean("all", all);
  j.close();
  logf("%lld subscribers ready in %.1f s", (long long)ready_count_, (mono_us() - t0) / 1e6);
  std::int64_t settle_end = mono_us() + static_cast<std::int64_t>(o_.settle * 1e6);
  while (mono_us() < settle_end) poll(settle_end - mono_us());

  // The channels events go to: all of them, or the first `hot` ones.
  std::vector<std::uint32_t> targets;
  std::uint32_t n_targets =
      static_cast<std::uint32_t>(o_.hot > 0 ? std::min(o_.hot, o_.channels) : o_.channels);
  for (std::uint32_t c = 0; c < n_targets; ++c) targets.push_back(c);
  std::size_t round_pos = targets.size();

  j.arr("runs");
  for (int rep = 0; rep < o_.reps && !past_deadline(); ++rep) {
    st_ = Stats{};
    emit_latency_ = Percentiles{};
    auto exp0 = expected_;
    auto emitted0 = emitted_, ok0 = emit_ok_, err0 = emit_err_, backlog0 = emit_backlogged_;
    auto closed0 = closed_by_server_;
    auto p0 = sample_pids(o_.server_pids);
    double self0 = self_cpu_s();
    auto start = mono_us();
    auto total = static_cast<std::int64_t>(std::llround(o_.rate * o_.duration));
    double interval = 1e6 / o_.rate;
    std::int64_t sent = 0;
    while (sent < total && !past_deadline()) {
      auto due = start + static_cast<std::int64_t>(sent * interval);
      auto now = mono_us();
      if (now < due) {
        poll(due - now);
        continue;
      }
      if (round_pos >= targets.size()) {
        if (o_.order == "shuffled") std::shuffle(targets.begin(), targets.end(), rng_);
        round_pos = 0;
      }
      emit_one(targets[round_pos++]);
      ++sent;
      poll(0);
    }
    auto emit_end = mono_us();
    auto drain_end = emit_end + static_cast<std::int64_t>(o_.drain * 1e6);
    while ((st_.received < expected_ - exp0 || any_emit_pending()) && mono_us() < drain_end &&
           !past_deadline())
      poll(10'000);
    auto end = mono_us();
    auto p1 = sample_pids(o_.server_pids);
    auto expected = expected_ - exp0;
    j.elem_obj();
    j.num("rep", rep);
    j.num("events_emitted", static_cast<double>(emitted_ - emitted0));
    j.num("emit_ok", static_cast<double>(emit_ok_ - ok0));
    j.num("emit_errors", static_cast<double>(emit_err_ - err0));
    j.num("emit_backlogged", static_cast<double>(emit_backlogged_ - backlog0));
    j.num("emit_seconds", (emit_end - start) / 1e6);
    j.num("drain_seconds", (end - emit_end) / 1e6);
    j.num("expected_deliveries", static_cast<double>(expected));
    j.num("delivered", static_cast<double>(st_.received));
    j.num("lost", static_cast<double>(expected > st_.received ? expected - st_.received : 0));
    j.num("duplicates", static_cast<double>(st_.duplicates));
    j.num("reordered", static_cast<double>(st_.reordered));
    j.num("seq_inversions", static_cast<double>(st_.seq_inversions));
    j.num("closed_by_server", static_cast<double>(closed_by_server_ - closed0));
    j.num("subscribers_ready", static_cast<double>(ready_count_));
    st_.latency.write(j, "latency");
    emit_latency_.write(j, "emit_latency");
    write_rep(j, (end - start) / 1e6, p0, p1, self0, static_cast<double>(emit_ok_ - ok0));
    j.close();
    logf("rep %d: %llu/%llu delivered, p99 %s", rep, (unsigned long long)st_.received,
         (unsigned long long)expected, "(see json)");
    auto gap_end = mono_us() + static_cast<std::int64_t>(o_.gap * 1e6);
    while (mono_us() < gap_end && rep + 1 < o_.reps) poll(gap_end - mono_us());
  }
  j.arr_close();
  j.boolean("timed_out", past_deadline());
  j.close();
  std::printf("%s\n", j.s.c_str());
  return 0;
}

int LoadGen::run_idle() {
  Json j;
  j.open();
  write_common(j);
  auto base = sample_pids(o_.server_pids);
  j.num("rss_base_kib", static_cast<double>(base.rss_kib));
  j.arr("steps");
  for (auto target : o_.steps) {
    if (past_deadline()) break;
    auto t0 = mono_us();
    bool all =
        connect_until(target, mono_us() + static_cast<std::int64_t>(o_.connect_timeout * 1e6));
    double connect_s = (mono_us() - t0) / 1e6;
    logf("step %lld: %lld ready in %.1f s", (long long)target, (long long)ready_count_, connect_s);
    std::int64_t settle_end = mono_us() + static_cast<std::int64_t>(o_.settle * 1e6);
    while (mono_us() < settle_end) poll(settle_end - mono_us());
    auto ps = sample_pids(o_.server_pids);
    j.elem_obj();
    j.num("target", static_cast<double>(target));
    j.num("ready", static_cast<double>(ready_count_));
    j.num("failed", static_cast<double>(connect_failed_));
    j.boolean("all", all);
    j.num("connect_seconds", connect_s);
    j.num("rss_kib", static_cast<double>(ps.rss_kib));
    j.num("rss_per_conn_kib", ready_count_ > 0 ? static_cast<double>(ps.rss_kib - base.rss_kib) /
                                                     static_cast<double>(ready_count_)
                                               : NAN);
    j.arr("runs");
    for (int rep = 0; rep < o_.reps && !past_deadline(); ++rep) {
      st_ = Stats{};
      auto exp0 = expected_;
      auto p0 = sample_pids(o_.server_pids);
      double self0 = self_cpu_s();
      auto start = mono_us();
      emit_one(0);
      auto drain_end = start + static_cast<std::int64_t>(o_.drain * 1e6);
      while (st_.received < expected_ - exp0 && mono_us() < drain_end && !past_deadline())
        poll(10'000);
      auto end = mono_us();
      auto p1 = sample_pids(o_.server_pids);
      auto expected = expected_ - exp0;
      j.elem_obj();
      j.num("expected_deliveries", static_cast<double>(expected));
      j.num("delivered", static_cast<double>(st_.received));
      j.num("lost", static_cast<double>(expected > st_.received ? expected - st_.received : 0));
      j.num("duplicates", static_cast<double>(st_.duplicates));
      j.num("all_seconds", st_.received >= expected ? (end - start) / 1e6 : NAN);
      st_.latency.write(j, "latency");
      write_rep(j, (end - start) / 1e6, p0, p1, self0);
      j.close();
      auto gap_end = mono_us() + static_cast<std::int64_t>(o_.gap * 1e6);
      while (mono_us() < gap_end) poll(gap_end - mono_us());
    }
    j.arr_close();
    j.close();
    if (!all) break;  // a server that cannot hold this many will not hold more
  }
  j.arr_close();
  j.boolean("timed_out", past_deadline());
  j.close();
  std::printf("%s\n", j.s.c_str());
  return 0;
}

// Hold: connect, say so through --ready-file (written whole, then renamed), take whatever
// the channel gets until --stop-file exists, then write every delivery's (seq, latency).
int LoadGen::run_hold() {
  auto write_file = [](const std::string& path, const std::string& text) {
    if (path.empty()) return;
    std::string tmp = path + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
      std::rename(tmp.c_str(), path.c_str());
    }
  };
  auto t0 = mono_us();
  bool all = connect_until(o_.connections,
                           mono_us() + static_cast<std::int64_t>(o_.connect_timeout * 1e6));
  double connect_s = (mono_us() - t0) / 1e6;
  logf("hold: %lld ready, %lld failed in %.1f s", (long long)ready_count_,
       (long long)connect_failed_, connect_s);
  Json j;
  j.open();
  write_common(j);
  j.num("ready", static_cast<double>(ready_count_));
  j.num("failed", static_cast<double>(connect_failed_));
  j.boolean("all", all);
  j.num("connect_seconds", connect_s);
  write_file(o_.ready_file, j.s + "}\n");
  hold_lat_.reserve(static_cast<std::size_t>(ready_count_) * 8);
  std::int64_t next_check = 0;
  while (!past_deadline()) {
    poll(20'000);
    if (mono_us() >= next_check) {
      next_check = mono_us() + 100'000;
      if (!o_.stop_file.empty() && access(o_.stop_file.c_str(), F_OK) == 0) break;
    }
  }
  std::int64_t still = 0;
  for (auto& s : subs_)
    if (s->c.ready && !s->c.dead) ++still;
  j.num("still_connected", static_cast<double>(still));
  j.num("closed_by_server", static_cast<double>(closed_by_server_));
  j.num("received", static_cast<double>(st_.received));
  j.num("duplicates", static_cast<double>(st_.duplicates));
  j.num("other_events", static_cast<double>(st_.other_events));
  j.boolean("timed_out", past_deadline());
  j.close();
  if (!o_.latency_out.empty()) {
    std::string out;
    out.reserve(hold_lat_.size() * 12);
    for (auto [seq, us] : hold_lat_) out += std::to_string(seq) + " " + std::to_string(us) + "\n";
    write_file(o_.latency_out, out);
  }
  std::printf("%s\n", j.s.c_str());
  return 0;
}

int LoadGen::run_replay() {
  // Per rep a fresh channel: `pre` events live, disconnect, `miss` events, reconnect with
  // last_ack_<channel>, `pre` more events live; then check what came back.
  Json j;
  j.open();
  write_common(j);
  j.num("miss", o_.miss);
  j.arr("runs");
  o_.emit_conns = 1;  // one connection keeps the emit order equal to the sequence order
  std::string base_prefix = o_.channel_prefix;
  for (int rep = 0; rep < o_.reps && !past_deadline(); ++rep) {
    o_.channel_prefix = base_prefix + "r" + std::to_string(rep) + "-";
    subs_.clear();
    chan_subs_.assign(1, 0);
    chan_seq_.assign(1, 0);
    o_.channels = 1;
    ready_count_ = connecting_ = 0;
    st_ = Stats{};
    auto deadline = [&](double s) { return mono_us() + static_cast<std::int64_t>(s * 1e6); };
    auto emit_serial = [&](int n) {
      for (int i = 0; i < n && !past_deadline(); ++i) {
        emit_one(0);
        while (any_emit_pending() && !past_deadline()) poll(10'000);
      }
    };
    auto wait_seq = [&](Subscriber& s, std::int64_t seq, double secs) {
      auto end = deadline(secs);
      while (s.last_seq < seq && mono_us() < end && !s.c.dead) poll(10'000);
    };
    bool ok = connect_until(1, deadline(o_.connect_timeout));
    if (!ok) break;
    emit_serial(o_.pre);
    wait_seq(*subs_[0], o_.pre, o_.drain);
    std::string last_id = subs_[0]->last_id;
    auto got_before = subs_[0]->received;
    close_sub(*subs_[0]);
    emit_serial(o_.miss);
    // Reconnect as a new subscriber with last_ack.
    std::string ch = channel_name(0);
    auto s = std::make_unique<Subscriber>();
    s->channel = 0;
    std::string target = replace_all(sub_url_.target, "{ch}", ch) + "&last_ack_" + url_encode(ch) +
                         "=" + url_encode(last_id);
    s->request = "GET " + target + " HTTP/1.1\r\nHost: " + sub_url_.host + ":" +
                 std::to_string(sub_url_.port) + "\r\nAccept: text/event-stream\r\n\r\n";
    subs_.push_back(std::move(s));
    Subscriber& r = *subs_.back();
    auto t_reconnect = mono_us();
    ++chan_subs_[0];
    start_subscriber(static_cast<std::uint32_t>(subs_.size() - 1));
    auto ready_by = deadline(o_.connect_timeout);
    while (!r.c.ready && !r.c.dead && mono_us() < ready_by && !past_deadline()) poll(10'000);
    std::int64_t replay_end = o_.pre + o_.miss;
    wait_seq(r, replay_end, o_.drain);
    double replay_s = (mono_us() - t_reconnect) / 1e6;
    std::int64_t replayed = 0;
    for (std::int64_t q = o_.pre + 1; q <= replay_end; ++q)
      if (static_cast<std::size_t>(q / 64) < r.seen.size() && (r.seen[q / 64] >> (q % 64) & 1))
        ++replayed;
    emit_serial(o_.pre);
    wait_seq(r, replay_end + o_.pre, o_.drain);
    std::int64_t live = 0;
    for (std::int64_t q = replay_end + 1; q <= replay_end + o_.pre; ++q)
      if (static_cast<std::size_t>(q / 64) < r.seen.size() && (r.seen[q / 64] >> (q % 64) & 1))
        ++live;
    j.elem_obj();
    j.num("rep", rep);
    j.num("received_before", static_cast<double>(got_before));
    j.str("last_ack", last_id);
    j.num("missed", o_.miss);
    j.num("replayed", static_cast<double>(replayed));
    j.num("lost", static_cast<double>(o_.miss - replayed));
    j.num("live_after", static_cast<double>(live));
    j.num("duplicates", static_cast<double>(st_.duplicates));
    j.num("reordered", static_cast<double>(st_.reordered));
    j.boolean("history_lost", r.history_lost);
    j.str("history_lost_event", r.history_lost_json);
    j.num("replay_seconds", replay_s);
    j.close();
    logf("replay rep %d: replayed %lld of %d, history_lost=%d", rep, (long long)replayed, o_.miss,
         r.history_lost);
    close_sub(r);
  }
  j.arr_close();
  j.boolean("timed_out", past_deadline());
  j.close();
  std::printf("%s\n", j.s.c_str());
  return 0;
}

int LoadGen::run_emit() {
  Json j;
  j.open();
  write_common(j);
  std::uniform_int_distribution<std::uint32_t> pick(0, static_cast<std::uint32_t>(o_.channels - 1));
  // Open the pool first.
  for (int i = 0; i < o_.emit_conns; ++i) emitter(static_cast<std::uint32_t>(i));
  auto until = mono_us() + 5'000'000;
  while (mono_us() < until && !std::all_of(emitters_.begin(), emitters_.end(),
                                           [](auto& e) { return e->c.connected || e->c.dead; }))
    poll(10'000);
  auto make_body = [&](std::uint32_t ch) {
    if (o_.batch <= 1) return event_body(ch);
    std::string body = "[";
    for (int b = 0; b < o_.batch; ++b) {
      if (b) body += ',';
      body += event_body(pick(rng_));
    }
    body += "]";
    return body;
  };
  // A connection that may take a request now: an idle one, or with --pipeline one whose
  // pipeline is not full (servers that take pipelined requests).
  auto free_emitter = [&](std::uint32_t hint) -> Emitter* {
    auto n = static_cast<std::uint32_t>(emitters_.size());
    for (std::uint32_t k = 0; k < n; ++k) {
      Emitter* e = emitter((hint + k) % n);  // reopens a connection the server closed
      if (!e || !e->c.connected) continue;
      if (o_.pipeline ? e->inflight.size() < max_pipeline : !e->busy()) return e;
    }
    return nullptr;
  };
  j.arr("runs");
  for (int rep = 0; rep < o_.reps && !past_deadline(); ++rep) {
    emit_latency_ = Percentiles{};
    auto ok0 = emit_ok_, err0 = emit_err_;
    std::uint64_t requests = 0, late = 0;
    auto p0 = sample_pids(o_.server_pids);
    double self0 = self_cpu_s();
    auto start = mono_us();
    auto end_at = start + static_cast<std::int64_t>(o_.duration * 1e6);
    if (o_.emit_rate > 0) {
      // Open loop: request k is due at start + k / (rate / batch). A request that finds no free
      // connection waits for one (counted as late) and the schedule catches up behind it, so
      // the rate holds over the phase whenever the server keeps up.
      double interval = 1e6 * o_.batch / o_.emit_rate;
      auto total = static_cast<std::uint64_t>(std::llround(o_.duration * 1e6 / interval));
      std::uint32_t rr = 0;
      std::uint64_t counted_late = ~0ull;
      while (requests < total && !past_deadline()) {
        auto due = start + static_cast<std::int64_t>(static_cast<double>(requests) * interval);
        auto now = mono_us();
        if (now < due) {
          poll(due - now);
          continue;
        }
        Emitter* e = free_emitter(rr++);
        if (!e) {
          if (counted_late != requests) ++late;
          counted_late = requests;
          poll(1'000);
          continue;
        }
        std::uint32_t ch = pick(rng_);
        emit_request(*e, make_body(ch), channel_name(ch), o_.batch);
        ++requests;
        poll(0);
      }
    } else {
      while (mono_us() < end_at && !past_deadline()) {
        for (std::uint32_t i = 0; i < emitters_.size(); ++i) {
          Emitter* e = emitter(i);  // reopens a connection the server closed
          if (!e || e->busy() || !e->c.connected) continue;
          std::uint32_t ch = pick(rng_);
          emit_request(*e, make_body(ch), channel_name(ch), o_.batch);
          ++requests;
        }
        poll(1'000);
      }
    }
    auto stop = mono_us();
    while (any_emit_pending() && mono_us() < stop + 5'000'000) poll(10'000);
    auto end = mono_us();
    auto p1 = sample_pids(o_.server_pids);
    double secs = (stop - start) / 1e6;
    j.elem_obj();
    j.num("rep", rep);
    j.num("requests", static_cast<double>(requests));
    j.num("events_ok", static_cast<double>(emit_ok_ - ok0));
    j.num("events_failed", static_cast<double>(emit_err_ - err0));
    j.num("events_per_s", (emit_ok_ - ok0) / ((end - start) / 1e6));
    j.num("requests_per_s", requests / secs);
    j.num("target_rate", o_.emit_rate);
    j.num("late_requests", static_cast<double>(late));
    emit_latency_.write(j, "emit_latency");
    write_rep(j, (end - start) / 1e6, p0, p1, self0, static_cast<double>(emit_ok_ - ok0));
    j.close();
    logf("emit rep %d: %.0f events/s", rep, (emit_ok_ - ok0) / ((end - start) / 1e6));
    auto gap_end = mono_us() + static_cast<std::int64_t>(o_.gap * 1e6);
    while (mono_us() < gap_end) poll(gap_end - mono_us());
  }
  j.arr_close();
  j.boolean("timed_out", past_deadline());
  j.close();
  std::printf("%s\n", j.s.c_str());
  return 0;
}

int LoadGen::run() {
  sub_url_ = parse_url(o_.sub_url);
  emit_url_ = parse_url(o_.emit_url);
  raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < o_.sources && (o_.sources > 1 || o_.source_base > 0); ++i) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr =
        htonl(0x7f000001u + static_cast<std::uint32_t>(o_.source_base + i));  // 127.0.0.1 + i
    sources_.push_back(a);
  }
  if (o_.channel_prefix.empty()) {
    std::random_device rd;
    char b[32];
    std::snprintf(b, sizeof b, "bench-%08x-", rd());
    o_.channel_prefix = b;
  }
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  chan_subs_.assign(static_cast<std::size_t>(o_.channels), 0);
  chan_seq_.assign(static_cast<std::size_t>(o_.channels), 0);
  hard_deadline_ = mono_us() + static_cast<std::int64_t>(o_.max_time * 1e6);
  // The last resort: whatever happens, the process ends.
  alarm(static_cast<unsigned>(o_.max_time + 30));
  if (o_.mode == "stream") return run_stream();
  if (o_.mode == "idle") return run_idle();
  if (o_.mode == "replay") return run_replay();
  if (o_.mode == "emit") return run_emit();
  if (o_.mode == "hold") return run_hold();
  logf("unknown mode %s", o_.mode.c_str());
  return 2;
}

void usage() {
  std::fprintf(
      stderr,
      "usage: forrealtime-loadgen --mode stream|idle|replay|emit|hold [options]\n"
      "  --sub-url URL        subscribe URL template, {ch} = channel (default %s)\n"
      "  --emit-url URL       emit URL template, {ch} = channel (default %s)\n"
      "  --emit-format F      json (forrealtime /api/emit body) | raw (data only, nchan/bare)\n"
      "  --connections N --channels K --hot H --rate R --duration S --reps N\n"
      "  --order shuffled|sequential   --ready head|event   --sources N (127.0.0.1..N)\n"
      "  --steps a,b,c (idle) --miss M (replay) --batch B --emit-conns C (emit)\n"
      "  --emit-rate R        emit mode: R events/s open loop (0: closed loop, saturation)\n"
      "  --source-base B      first source address is 127.0.0.(1+B)\n"
      "  --ready-file F --stop-file F --latency-out F   hold mode (see bench/scale.py)\n"
      "  --pipeline on|off    pipeline emits, one connection per channel shard (keeps order)\n"
      "  --drain S --settle S --gap S --connect-timeout S --connect-concurrency N\n"
      "  --max-time S (hard bound, default 300) --server-pid P[,P] --aux-pid P[,P] --label L "
      "--channel-prefix P\n",
      Options{}.sub_url.c_str(), Options{}.emit_url.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  auto split_ints = [](const std::string& s) {
    std::vector<std::int64_t> r;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ','))
      if (!x.empty()) r.push_back(std::stoll(x));
    return r;
  };
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage();
      return 0;
    }
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    std::string v = argv[++i];
    if (k == "--mode")
      o.mode = v;
    else if (k == "--sub-url")
      o.sub_url = v;
    else if (k == "--emit-url")
      o.emit_url = v;
    else if (k == "--emit-format")
      o.emit_format = v;
    else if (k == "--ready")
      o.ready = v;
    else if (k == "--channel-prefix")
      o.channel_prefix = v;
    else if (k == "--label")
      o.label = v;
    else if (k == "--order")
      o.order = v;
    else if (k == "--steps")
      o.steps = split_ints(v);
    else if (k == "--server-pid")
      for (auto p : split_ints(v)) o.server_pids.push_back(static_cast<int>(p));
    else if (k == "--aux-pid")
      for (auto p : split_ints(v)) g_aux_pids.push_back(static_cast<int>(p));
    else if (k == "--connections")
      o.connections = std::stoll(v);
    else if (k == "--channels")
      o.channels = std::max<std::int64_t>(1, std::stoll(v));
    else if (k == "--hot")
      o.hot = std::stoll(v);
    else if (k == "--rate")
      o.rate = std::stod(v);
    else if (k == "--duration")
      o.duration = std::stod(v);
    else if (k == "--drain")
      o.drain = std::stod(v);
    else if (k == "--settle")
      o.settle = std::stod(v);
    else if (k == "--gap")
      o.gap = std::stod(v);
    else if (k == "--connect-timeout")
      o.connect_timeout = std::stod(v);
    else if (k == "--max-time")
      o.max_time = std::stod(v);
    else if (k == "--reps")
      o.reps = std::stoi(v);
    else if (k == "--sources")
      o.sources = std::max(1, std::stoi(v));
    else if (k == "--connect-concurrency")
      o.connect_concurrency = std::max(1, std::stoi(v));
    else if (k == "--emit-conns")
      o.emit_conns = std::max(1, std::stoi(v));
    else if (k == "--batch")
      o.batch = std::max(1, std::stoi(v));
    else if (k == "--emit-rate")
      o.emit_rate = std::max(0.0, std::stod(v));
    else if (k == "--pipeline")
      o.pipeline = v == "1" || v == "on" || v == "true";
    else if (k == "--miss")
      o.miss = std::stoi(v);
    else if (k == "--pre")
      o.pre = std::stoi(v);
    else if (k == "--source-base")
      o.source_base = std::max(0, std::stoi(v));
    else if (k == "--ready-file")
      o.ready_file = v;
    else if (k == "--stop-file")
      o.stop_file = v;
    else if (k == "--latency-out")
      o.latency_out = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      usage();
      return 2;
    }
  }
  if (o.mode == "idle") {
    if (o.steps.empty()) o.steps = {o.connections};
    o.channels = 1;
  }
  if (o.mode == "hold") o.channels = 1;
  return LoadGen(std::move(o)).run();
}
