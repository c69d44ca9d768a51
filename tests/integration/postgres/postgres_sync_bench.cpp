// Throughput and latency of postgresSync, commit to SSE delivery: a throwaway PostgreSQL, the
// real `forrealtime` program with a `postgres` config section, a writer that inserts N rows
// (one transaction each) at a fixed rate (0 = as fast as it can), and an SSE subscriber that
// timestamps each arrival. Latency is measured from just before the INSERT is sent (so it
// includes the INSERT's own round trip) to the moment its event is read from the SSE stream.
//
//   postgres_sync_bench [N=5000] [rate/s=1000] [durable|notify] [writers=1]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "pg_server.hpp"
#include "support/net.hpp"

using namespace std::chrono;
using fr_pg_test::Db;
using fr_pg_test::PgServer;

namespace {

std::int64_t now_ns() {
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::stoi(argv[1]) : 5000;
  double rate = argc > 2 ? std::stod(argv[2]) : 1000;
  std::string mode = argc > 3 ? argv[3] : "durable";
  int writers = argc > 4 ? std::stoi(argv[4]) : 1;

  PgServer pg;
  Db db(pg.url());
  db.exec("CREATE TABLE bench (id int PRIMARY KEY, body text)");
  std::string cfg = "/tmp/forrealtime-pg-bench-" + std::to_string(::getpid()) + ".json";
  std::ofstream(cfg) << R"({"log_level": "warn", "postgres": {"url": ")" << pg.url()
                     << R"(", "tables": ["bench"], "mode": ")" << mode << R"("}})";
  fr_test::GatewayProcess gw({"--config", cfg});
  // The plugin installs its triggers in the background: wait until they exist.
  for (int i = 0; i < 200; ++i) {
    if (db.exec("SELECT count(*) FROM pg_trigger WHERE tgname = 'forrealtime_bench_trigger'") ==
        "1")
      break;
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(300ms);  // LISTEN follows the install

  std::vector<std::int64_t> sent(n + 1, 0), arrived(n + 1, 0);
  std::atomic<int> received{0};
  std::thread reader([&] {
    fr_test::SseClient sse(gw.port(), "/api/realtime?channel=bench");
    sse.status();
    while (received < n) {
      auto e = sse.next_user(seconds(20));
      if (!e) break;
      auto t = now_ns();
      auto id = e->as_object().at("data").as_object().at("id").as_int64();
      if (id >= 1 && id <= n && arrived[id] == 0) arrived[id] = t;
      ++received;
    }
  });
  std::this_thread::sleep_for(300ms);  // the subscription is live

  auto start = now_ns();
  std::vector<std::thread> ws;
  for (int w = 0; w < writers; ++w) {
    ws.emplace_back([&, w] {
      Db conn(pg.url());
      for (int i = 1 + w; i <= n; i += writers) {
        if (rate > 0) {
          auto due = start + static_cast<std::int64_t>((i - 1) * 1e9 / rate);
          while (now_ns() < due) std::this_thread::sleep_for(microseconds(100));
        }
        sent[i] = now_ns();
        conn.exec("INSERT INTO bench VALUES (" + std::to_string(i) + ", 'payload of row " +
                  std::to_string(i) + "')");
      }
    });
  }
  for (auto& w : ws) w.join();
  auto written = now_ns();
  reader.join();

  std::vector<double> lat;
  std::int64_t last = 0;
  int missing = 0;
  for (int i = 1; i <= n; ++i) {
    if (!arrived[i]) {
      ++missing;
      continue;
    }
    lat.push_back((arrived[i] - sent[i]) / 1e6);
    last = std::max(last, arrived[i]);
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0
                       : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))];
  };
  double secs = (last - start) / 1e9;
  std::printf("mode=%s rows=%d target_rate=%.0f/s writers=%d\n", mode.c_str(), n, rate, writers);
  std::printf(
      "written in %.2f s (%.0f commits/s); delivered %d (missing %d) in %.2f s = %.0f "
      "changes/s end to end\n",
      (written - start) / 1e9, n / ((written - start) / 1e9), received.load(), missing, secs,
      lat.size() / secs);
  std::printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(0.5),
              pct(0.9), pct(0.99), pct(0.999), lat.empty() ? 0.0 : lat.back());
  ::unlink(cfg.c_str());
  return missing == 0 ? 0 : 1;
}
