// Reading /proc/self for the process_* metrics (see process.hpp).
#include "metrics/process.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace forrealtime::metrics {

ProcessStats read_process_stats() {
  ProcessStats p;
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return p;
  // Fields after the command name, which is in parentheses and may contain spaces.
  auto close = line.rfind(')');
  if (close == std::string::npos) return p;
  std::istringstream rest(line.substr(close + 2));
  std::string f[24];
  for (auto& x : f) rest >> x;
  // rest starts at field 3 (state): utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
  long ticks = ::sysconf(_SC_CLK_TCK);
  long page = ::sysconf(_SC_PAGESIZE);
  double utime = std::strtod(f[11].c_str(), nullptr), stime = std::strtod(f[12].c_str(), nullptr);
  p.cpu_seconds = (utime + stime) / static_cast<double>(ticks);
  double start_ticks = std::strtod(f[19].c_str(), nullptr);
  p.virtual_bytes = std::strtod(f[20].c_str(), nullptr);
  p.resident_bytes = std::strtod(f[21].c_str(), nullptr) * static_cast<double>(page);
  // Boot time, to turn the start time (ticks since boot) into seconds since the epoch.
  std::ifstream procstat("/proc/stat");
  for (std::string l; std::getline(procstat, l);)
    if (l.starts_with("btime ")) {
      p.start_time_seconds =
          std::strtod(l.c_str() + 6, nullptr) + start_ticks / static_cast<double>(ticks);
      break;
    }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    int n = 0;
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    p.open_fds = n - 1;  // the directory's own descriptor
  }
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = static_cast<double>(rl.rlim_cur);
  p.ok = true;
  return p;
}

void write_process_metrics(std::string& out, const ProcessStats& p) {
  if (!p.ok) return;
  auto metric = [&](const char* name, const char* type, const char* help, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out.append(name).append(" ").append(type).append("\n").append(name).append(" ");
    out.append(buf).append("\n");
  };
  metric("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
         p.cpu_seconds);
  metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         p.resident_bytes);
  metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", p.virtual_bytes);
  metric("process_open_fds", "gauge", "Number of open file descriptors.", p.open_fds);
  metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", p.max_fds);
  metric("process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.", p.start_time_seconds);
}

}  // namespace forrealtime::metrics
