// The histogram (buckets, sum, count, quantiles, text) and the process metrics, without a server.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "metrics/histogram.hpp"
#include "metrics/process.hpp"

using namespace forrealtime::metrics;

TEST(Histogram, CountsIntoTheRightBucketsAndWritesCumulativeText) {
  Histogram<3> h({0.1, 1.0, 10.0});
  h.observe(0.05);  // le 0.1
  h.observe(0.1);   // le 0.1 (upper bounds are inclusive)
  h.observe(0.5);   // le 1
  h.observe(20.0);  // +Inf
  EXPECT_EQ(h.count(), 4u);
  EXPECT_NEAR(h.sum(), 20.65, 1e-6);
  std::string out;
  h.write(out, "x_seconds", "op=\"a\"");
  EXPECT_EQ(out,
            "x_seconds_bucket{op=\"a\",le=\"0.1\"} 2\n"
            "x_seconds_bucket{op=\"a\",le=\"1\"} 3\n"
            "x_seconds_bucket{op=\"a\",le=\"10\"} 3\n"
            "x_seconds_bucket{op=\"a\",le=\"+Inf\"} 4\n"
            "x_seconds_sum{op=\"a\"} 20.650000\n"
            "x_seconds_count{op=\"a\"} 4\n");
  std::string plain;
  h.write(plain, "y");
  EXPECT_NE(plain.find("y_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(plain.find("y_count 4\n"), std::string::npos);
}

TEST(Histogram, QuantilesInterpolateInsideTheBucket) {
  LatencyHistogram h(latency_buckets);
  EXPECT_EQ(h.quantile(0.99), 0.0);
  for (int i = 0; i < 100; ++i) h.observe(0.003);  // all in (0.0025, 0.005]
  double p50 = h.quantile(0.5);
  EXPECT_GT(p50, 0.0025);
  EXPECT_LE(p50, 0.005);
  h.observe(100.0);  // one over the last bound
  EXPECT_LE(h.quantile(0.5), 0.005);
  EXPECT_EQ(h.quantile(1.0), 10.0);
}

TEST(Histogram, ManyThreadsLoseNoObservation) {
  LatencyHistogram h(latency_buckets);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) h.observe(0.001 * (i % 7));
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(h.count(), 400000u);
}

TEST(ProcessMetrics, ReadTheRealProcess) {
  auto before = read_process_stats();
  ASSERT_TRUE(before.ok);
  EXPECT_GT(before.resident_bytes, 1e5);
  EXPECT_GE(before.virtual_bytes, before.resident_bytes);
  EXPECT_GT(before.max_fds, 0);
  EXPECT_GT(before.start_time_seconds, 1.6e9);
  int fds[10];
  for (int& fd : fds) fd = ::open("/dev/null", O_RDONLY);
  auto after = read_process_stats();
  EXPECT_EQ(after.open_fds, before.open_fds + 10);
  for (int fd : fds) ::close(fd);
  volatile double x = 0;
  for (int i = 0; i < 30000000; ++i) x = x + i * 0.5;
  EXPECT_GT(read_process_stats().cpu_seconds, before.cpu_seconds);
  std::string text;
  write_process_metrics(text, after);
  EXPECT_NE(text.find("# TYPE process_open_fds gauge\nprocess_open_fds "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
}
