// Parsing and formatting of stream ids. Parsing is strict because ids arrive from clients
// (`last_ack_*`, `after=`) and from the store: anything but two decimal u64 joined by '-' is
// rejected rather than guessed at.
#include "forrealtime/stream_id.hpp"

#include <charconv>

#include "core/numbers.hpp"

namespace forrealtime {

std::optional<StreamId> StreamId::parse(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = core::parse_decimal<std::uint64_t>(text.substr(0, dash));
  auto seq = core::parse_decimal<std::uint64_t>(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
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
