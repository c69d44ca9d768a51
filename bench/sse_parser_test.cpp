// Unit tests of the load generator's HTTP response and SSE parsers: literal bytes in,
// events out, fed whole and split at every possible byte boundary.
#include "sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using forrealtime_bench::HttpResponseParser;
using forrealtime_bench::SseClientStream;
using forrealtime_bench::SseEvent;
using forrealtime_bench::SseParser;

namespace {

std::vector<SseEvent> feed_sse(const std::string& bytes) {
  SseParser p;
  std::vector<SseEvent> out;
  p.feed(bytes, out);
  return out;
}

// Feeds `bytes` in pieces of `step` bytes.
std::vector<SseEvent> feed_stream(const std::string& bytes, std::size_t step, bool* ok = nullptr,
                                  int* status = nullptr) {
  SseClientStream s;
  std::vector<SseEvent> out;
  bool good = true;
  for (std::size_t i = 0; i < bytes.size(); i += step)
    good = s.feed(std::string_view(bytes).substr(i, step), out) && good;
  if (ok) *ok = good;
  if (status) *status = s.http().status();
  return out;
}

std::vector<std::string> datas(const std::vector<SseEvent>& ev) {
  std::vector<std::string> r;
  for (auto& e : ev) r.push_back(e.data);
  return r;
}

const std::string head_plain =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
const std::string head_chunked =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string chunk(const std::string& s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx\r\n", s.size());
  return buf + s + "\r\n";
}

}  // namespace

TEST(SseParser, SingleEvent) {
  auto ev = feed_sse("data: {\"a\":1}\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "{\"a\":1}");
  EXPECT_FALSE(ev[0].has_id);
}

TEST(SseParser, MultiLineDataJoinedWithNewline) {
  auto ev = feed_sse("data: line1\ndata: line2\ndata:line3\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "line1\nline2\nline3");
}

TEST(SseParser, CrLfAndCrAndLfLineEnds) {
  EXPECT_EQ(datas(feed_sse("data: a\r\n\r\ndata: b\r\rdata: c\n\n")),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SseParser, CrLfSplitAcrossReadsIsOneLineEnd) {
  SseParser p;
  std::vector<SseEvent> out;
  p.feed("data: a\r", out);
  p.feed("\ndata: b\r", out);
  p.feed("\n\r", out);
  p.feed("\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a\nb");
}

TEST(SseParser, CommentsIdEventRetry) {
  SseParser p;
  std::vector<SseEvent> out;
  p.feed(": keep-alive\n\nretry: 3000\nid: 17-0\nevent: tick\ndata: x\n\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].event, "tick");
  EXPECT_EQ(out[0].id, "17-0");
  EXPECT_TRUE(out[0].has_id);
  EXPECT_EQ(p.comments(), 1u);
  EXPECT_EQ(p.retry_ms(), 3000);
}

TEST(SseParser, EventWithoutDataIsNotDispatched) {
  EXPECT_TRUE(feed_sse("event: x\n\n\n\n").empty());
  // A field with no colon is a field with an empty value: "data" alone is an empty data line.
  auto ev = feed_sse("data\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "");
}

TEST(SseParser, OnlyOneLeadingSpaceIsStripped) {
  auto ev = feed_sse("data:  two\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, " two");
}

TEST(SseParser, BomAtStart) {
  auto ev = feed_sse(
      "\xEF\xBB\xBF"
      "data: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "x");
}

TEST(SseParser, IncompleteEventIsHeldBack) {
  SseParser p;
  std::vector<SseEvent> out;
  p.feed("data: par", out);
  EXPECT_TRUE(out.empty());
  p.feed("tial\n", out);
  EXPECT_TRUE(out.empty());
  p.feed("\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "partial");
}

TEST(SseClientStream, PlainBodySplitAtEveryByte) {
  std::string body =
      "data: {\"type\":\"connected\",\"channel\":\"c\"}\n\n"
      "data: one\r\ndata: two\r\n\r\n"
      ": ping\n\n"
      "data: three\n\n";
  std::string bytes = head_plain + body;
  for (std::size_t step = 1; step <= bytes.size(); ++step) {
    bool ok = false;
    int status = 0;
    auto ev = feed_stream(bytes, step, &ok, &status);
    ASSERT_TRUE(ok) << step;
    EXPECT_EQ(status, 200);
    EXPECT_EQ(datas(ev), (std::vector<std::string>{"{\"type\":\"connected\",\"channel\":\"c\"}",
                                                   "one\ntwo", "three"}))
        << "step " << step;
  }
}

TEST(SseClientStream, ChunkedBodyWithChunksSplittingLines) {
  // Chunk boundaries fall inside "data:" lines and inside a CRLF.
  std::string bytes = head_chunked + chunk("data: hel") + chunk("lo\r") + chunk("\n\r\ndata: a\n") +
                      chunk("data: b\n\n") + "0\r\n\r\n";
  for (std::size_t step = 1; step <= bytes.size(); ++step) {
    bool ok = false;
    auto ev = feed_stream(bytes, step, &ok);
    ASSERT_TRUE(ok) << step;
    EXPECT_EQ(datas(ev), (std::vector<std::string>{"hello", "a\nb"})) << "step " << step;
  }
}

TEST(SseClientStream, ChunkExtensionsAndUppercaseHex) {
  std::string payload(26, 'x');
  std::string bytes = head_chunked + "1A;ext=1\r\n" + payload + "\r\n" + chunk("\n\n");
  // The payload has no "data:" prefix: it is a field named xxxx, ignored; feed a real one.
  bytes += chunk("data: ok\n\n");
  bool ok = false;
  auto ev = feed_stream(bytes, 5, &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(datas(ev), (std::vector<std::string>{"ok"}));
}

TEST(SseClientStream, NonSuccessStatusIsReported) {
  std::string bytes = "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nbad channel";
  bool ok = false;
  int status = 0;
  auto ev = feed_stream(bytes, 3, &ok, &status);
  EXPECT_TRUE(ok);
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(ev.empty());
}

TEST(SseClientStream, GarbageIsAnError) {
  bool ok = true;
  feed_stream("SSH-2.0-OpenSSH\r\n\r\n", 4, &ok);
  EXPECT_FALSE(ok);
  ok = true;
  feed_stream(head_chunked + "zz\r\n", 1, &ok);
  EXPECT_FALSE(ok);
}

TEST(HttpResponseParser, KeepAliveResponsesBackToBack) {
  std::string r1 = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"ids\":1}";
  std::string r2 = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  std::string all = r1 + r2;
  HttpResponseParser p;
  std::string body;
  auto used = p.feed(all, body);
  EXPECT_EQ(used, r1.size());
  EXPECT_TRUE(p.complete());
  EXPECT_TRUE(p.keep_alive());
  EXPECT_EQ(body, "{\"ids\":1}");
  p.reset();
  body.clear();
  used = p.feed(std::string_view(all).substr(r1.size()), body);
  EXPECT_EQ(used, r2.size());
  EXPECT_TRUE(p.complete());
  EXPECT_EQ(body, "abc");
}

TEST(HttpResponseParser, BodyUntilCloseAndConnectionClose) {
  HttpResponseParser p;
  std::string body;
  p.feed("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nabc", body);
  EXPECT_FALSE(p.keep_alive());
  EXPECT_FALSE(p.complete());
  p.on_eof();
  EXPECT_TRUE(p.complete());
  EXPECT_EQ(body, "abc");
}

TEST(HttpResponseParser, NoContentAndTruncatedChunked) {
  HttpResponseParser p;
  std::string body;
  p.feed("HTTP/1.1 204 No Content\r\n\r\n", body);
  EXPECT_TRUE(p.complete());
  HttpResponseParser q;
  q.feed(head_chunked + "5\r\nab", body);
  q.on_eof();
  EXPECT_TRUE(q.failed());
}
