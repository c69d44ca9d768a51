// Parsing and formatting of stream ids. Parsing is strict because ids arrive from clients
// (`last_ack_*`, `after=`) and from the store: anything but two decimal u64 joined by '-' is
// rejected rather than guessed at.
#include "forrealtime/stream_id.hpp"

#include <charconv>

namespace forrealtime {
namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::optional<StreamId> StreamId::parse(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  StreamId id;
  if (!parse_u64(text.substr(0, dash), id.ms) || !parse_u64(text.substr(dash + 1), id.seq))
    return std::nullopt;
  return id;
}

void StreamId::append_to(std::string& out) const {
  char buf[44];
  auto r = std::to_chars(buf, buf + 20, ms);
  *r.ptr++ = '-';
  r = std::to_chars(r.ptr, buf + sizeof buf, seq);
  out.append(buf, r.ptr);
}

std::string StreamId::to_string() const {
  std::string s;
  append_to(s);
  return s;
}

}  // namespace forrealtime
