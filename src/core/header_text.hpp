// What may go into an HTTP header line that we write (RFC 9110 section 5): a name that is a
// token, a value with no CR, LF, NUL or other control character but HTAB. Anything else could
// end the line early and smuggle a header or a whole response, so writers drop such fields.
#pragma once

#include <string_view>

namespace forrealtime::core {

inline bool is_header_name(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool token =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!token) return false;
  }
  return true;
}

inline bool is_header_value(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

}  // namespace forrealtime::core
