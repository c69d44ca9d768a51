// The process's own numbers for /metrics, read from /proc/self on each scrape (Linux): open
// file descriptors and their limit, resident and virtual memory, CPU seconds, start time. The
// names are the ones Prometheus client libraries use (process_*), so stock dashboards work.
#pragma once

#include <string>

namespace forrealtime::metrics {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // since the epoch
  bool ok = false;                // false where /proc is not readable
};

ProcessStats read_process_stats();

/** Appends the process_* lines (HELP, TYPE, value). */
void write_process_metrics(std::string& out, const ProcessStats& p);

}  // namespace forrealtime::metrics
