// HTTP/1.x framing of hand-written SSE responses; see sse_framing.hpp.
#include "http/sse_framing.hpp"

#include "core/header_text.hpp"
#include "http/status.hpp"

namespace forrealtime::detail {

std::string SseFraming::response(const Response& r) const {
  std::string out;
  out.reserve(r.body.size() + 256);
  append_status(out, r.status);
  if (!r.content_type.empty() && core::is_header_value(r.content_type))
    out.append("Content-Type: ").append(r.content_type).append("\r\n");
  append_headers(out, r.headers);
  out.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
  out.append("Connection: close\r\n\r\n");
  out.append(r.body);
  return out;
}

void SseFraming::open(const Response& head) {
  chunked_ = version_ >= 11;
  head_.reserve(256);
  append_status(head_, head.status);
  head_.append("Content-Type: text/event-stream\r\n");
  append_headers(head_, head.headers);
  if (chunked_) head_.append("Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n");
  head_.append("\r\n");
}

std::vector<boost::asio::const_buffer>& SseFraming::frame(
    std::span<const boost::asio::const_buffer> frames) {
  bufs_.clear();
  if (!head_.empty()) bufs_.emplace_back(head_.data(), head_.size());
  std::size_t total = 0;
  for (auto& b : frames) total += b.size();
  if (chunked_) {
    // The chunk-size line, lower-case hex as "%zx\r\n" writes it (snprintf was a fifth of a
    // fan-out delivery's instructions).
    static constexpr char digits[] = "0123456789abcdef";
    char* end = chunk_ + sizeof chunk_;
    char* p = end;
    *--p = '\n';
    *--p = '\r';
    do {
      *--p = digits[total & 0xf];
      total >>= 4;
    } while (total);
    bufs_.emplace_back(p, static_cast<std::size_t>(end - p));
  }
  bufs_.insert(bufs_.end(), frames.begin(), frames.end());
  if (chunked_) bufs_.emplace_back("\r\n", 2);
  return bufs_;
}

void SseFraming::consume(std::size_t n) {
  std::size_t i = 0;
  while (i < bufs_.size() && n >= bufs_[i].size()) n -= bufs_[i++].size();
  bufs_.erase(bufs_.begin(), bufs_.begin() + static_cast<std::ptrdiff_t>(i));
  if (n && !bufs_.empty()) bufs_[0] += n;
}

void SseFraming::head_sent() {
  if (head_.empty()) return;
  head_.clear();
  head_.shrink_to_fit();
}

void SseFraming::append_status(std::string& out, unsigned status) const {
  out.append(version_ >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  out.append(std::to_string(status)).push_back(' ');
  out.append(reason_phrase(status)).append("\r\n");
}

void SseFraming::append_headers(std::string& out,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  for (auto& [k, v] : headers)
    if (core::is_header_name(k) && core::is_header_value(v))
      out.append(k).append(": ").append(v).append("\r\n");
}

}  // namespace forrealtime::detail
