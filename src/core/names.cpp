// Channel and event name rules (PROTOCOL.md section 1 and the two-level event schema).
#include "core/names.hpp"

#include <cstdint>

namespace forrealtime::core {
namespace {

// Code points that must not appear in a name: C0 and C1 controls and DEL.
bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    // U+0080..U+009F are encoded as C2 80..C2 9F.
    if (c == 0xc2 && i + 1 < s.size()) {
      auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9f) return true;
    }
  }
  return false;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::optional<std::string> check_channel(std::string_view name) {
  if (name.empty()) return "channel name is empty";
  if (name.size() > kMaxChannelBytes) return "channel name is longer than 256 bytes";
  if (!is_valid_utf8(name)) return "channel name is not valid UTF-8";
  if (has_control(name)) return "channel name contains a control character";
  return std::nullopt;
}

std::optional<std::string> check_event_name(std::string_view name) {
  if (name.empty()) return "event name is empty";
  if (name.size() > kMaxEventBytes) return "event name is longer than 256 bytes";
  if (!is_valid_utf8(name)) return "event name is not valid UTF-8";
  if (has_control(name)) return "event name contains a control character";
  if (name.find(' ') != std::string_view::npos) return "event name contains a space";
  auto dot = name.find('.');
  if (dot == std::string_view::npos)
    return "event name must be namespace.event (e.g. chat.message)";
  if (dot == 0) return "event name has an empty namespace";
  if (dot + 1 == name.size()) return "event name has an empty event after the namespace";
  return std::nullopt;
}

}  // namespace forrealtime::core
