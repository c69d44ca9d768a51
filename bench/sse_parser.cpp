// HTTP/1.1 response framing and the SSE event stream parser of the load generator; see
// sse_parser.hpp. Header lines are kept only until they are parsed; body bytes are passed
// through, so memory per idle connection stays at a few empty strings.
#include "sse_parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace forrealtime_bench {
namespace {

constexpr std::size_t max_line = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

void HttpResponseParser::reset() {
  state_ = State::status_line;
  line_.clear();
  status_ = 0;
  chunked_ = false;
  keep_alive_ = true;
  no_body_ = false;
  content_length_ = -1;
  remaining_ = 0;
}

void HttpResponseParser::finish_head() {
  bool bodyless = no_body_ || (status_ >= 100 && status_ < 200) || status_ == 204 || status_ == 304;
  if (bodyless) {
    state_ = State::done;
  } else if (chunked_) {
    state_ = State::chunk_size;
  } else if (content_length_ >= 0) {
    remaining_ = static_cast<std::uint64_t>(content_length_);
    state_ = remaining_ == 0 ? State::done : State::body;
  } else {
    state_ = State::body;  // until the connection closes
  }
}

bool HttpResponseParser::on_line(std::string_view line) {
  switch (state_) {
    case State::status_line: {
      // "HTTP/1.1 200 OK"
      if (line.size() < 12 || line.substr(0, 5) != "HTTP/") return false;
      if (line.substr(0, 8) == "HTTP/1.0") keep_alive_ = false;
      auto sp = line.find(' ');
      if (sp == std::string_view::npos || sp + 4 > line.size()) return false;
      auto code = line.substr(sp + 1, 3);
      auto r = std::from_chars(code.data(), code.data() + 3, status_);
      if (r.ec != std::errc() || r.ptr != code.data() + 3) return false;
      state_ = State::headers;
      return true;
    }
    case State::headers: {
      if (line.empty()) {
        finish_head();
        return true;
      }
      auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return false;
      auto name = line.substr(0, colon);
      auto value = trim(line.substr(colon + 1));
      if (iequals(name, "transfer-encoding")) {
        chunked_ = contains_token(value, "chunked");
      } else if (iequals(name, "content-length")) {
        std::int64_t n = -1;
        auto r = std::from_chars(value.data(), value.data() + value.size(), n);
        if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n < 0) return false;
        content_length_ = n;
      } else if (iequals(name, "connection")) {
        if (contains_token(value, "close")) keep_alive_ = false;
        if (contains_token(value, "keep-alive")) keep_alive_ = true;
      }
      return true;
    }
    case State::chunk_size: {
      auto semi = line.find(';');
      auto hex = trim(line.substr(0, semi));
      std::uint64_t n = 0;
      auto r = std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
      if (hex.empty() || r.ec != std::errc() || r.ptr != hex.data() + hex.size()) return false;
      if (n == 0) {
        state_ = State::trailers;
      } else {
        remaining_ = n;
        state_ = State::chunk_data;
      }
      return true;
    }
    case State::chunk_data_end:
      if (!line.empty()) return false;
      state_ = State::chunk_size;
      return true;
    case State::trailers:
      if (line.empty()) state_ = State::done;
      return true;
    default:
      return false;
  }
}

std::size_t HttpResponseParser::feed(std::string_view in, std::string& body) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    switch (state_) {
      case State::done:
      case State::error:
        return pos;
      case State::body:
        if (content_length_ < 0) {
          body.append(in.substr(pos));
          return in.size();
        }
        [[fallthrough]];
      case State::chunk_data: {
        auto n = std::min<std::uint64_t>(remaining_, in.size() - pos);
        body.append(in.substr(pos, n));
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::body ? State::done : State::chunk_data_end;
        break;
      }
      default: {
        // A line-oriented state: status line, headers, chunk size, chunk end, trailers.
        auto nl = in.find('\n', pos);
        if (nl == std::string_view::npos) {
          line_.append(in.substr(pos));
          if (line_.size() > max_line) state_ = State::error;
          return in.size();
        }
        std::string_view line;
        if (line_.empty()) {
          line = in.substr(pos, nl - pos);
        } else {
          line_.append(in.substr(pos, nl - pos));
          line = line_;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl + 1;
        bool ok = on_line(line);
        line_.clear();
        if (!ok) {
          state_ = State::error;
          return pos;
        }
      }
    }
  }
  return pos;
}

void HttpResponseParser::on_eof() {
  if (state_ == State::body && content_length_ < 0)
    state_ = State::done;
  else if (state_ != State::done)
    state_ = State::error;
}

void SseParser::on_line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    if (has_data_) {
      out.push_back(std::move(cur_));
    }
    // id persists across events per the spec, but we report it per event only when sent.
    cur_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) cur_.data.push_back('\n');
    cur_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    cur_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      cur_.id.assign(value);
      cur_.has_id = true;
    }
  } else if (field == "retry") {
    std::int64_t n = 0;
    auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    if (!value.empty() && r.ec == std::errc() && r.ptr == value.data() + value.size())
      retry_ms_ = n;
  }
}

void SseParser::feed(std::string_view in, std::vector<SseEvent>& out) {
  if (!bom_checked_ && !in.empty()) {
    // A UTF-8 BOM may open the stream (a BOM split across reads is not handled).
    bom_checked_ = true;
    if (in.substr(0, 3) == "\xEF\xBB\xBF") in.remove_prefix(3);
  }
  std::size_t pos = 0;
  if (after_cr_ && !in.empty() && in.front() == '\n') pos = 1;  // CR|LF split across reads
  after_cr_ = false;
  while (pos < in.size()) {
    auto end = in.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) {
      line_.append(in.substr(pos));
      if (line_.size() > max_line) line_.clear();  // a runaway line: drop it
      return;
    }
    std::string_view line;
    if (line_.empty()) {
      line = in.substr(pos, end - pos);
    } else {
      line_.append(in.substr(pos, end - pos));
      line = line_;
    }
    on_line(line, out);
    line_.clear();
    if (in[end] == '\r') {
      if (end + 1 < in.size()) {
        pos = in[end + 1] == '\n' ? end + 2 : end + 1;
      } else {
        after_cr_ = true;
        pos = end + 1;
      }
    } else {
      pos = end + 1;
    }
  }
}

bool SseClientStream::feed(std::string_view in, std::vector<SseEvent>& out) {
  while (!in.empty()) {
    body_.clear();
    auto used = http_.feed(in, body_);
    if (!body_.empty()) sse_.feed(body_, out);
    if (http_.failed()) return false;
    if (body_.capacity() > 4096) std::string().swap(body_);  // idle connections stay small
    if (used >= in.size()) break;
    // The response ended (e.g. a short error body) and bytes follow: nothing valid follows.
    if (http_.complete()) break;
    in.remove_prefix(used);
  }
  return !http_.failed();
}

}  // namespace forrealtime_bench
