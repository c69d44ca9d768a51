// The one parser for numbers that arrive in requests (query parameters, stream ids, headers):
// decimal digits only, no sign, no space, no prefix, and a value that fits. It never throws and
// never wraps, so a caller answers 400 instead of crashing on `limit=99999999999999999999`.
#pragma once

#include <charconv>
#include <concepts>
#include <limits>
#include <optional>
#include <string_view>

namespace forrealtime::core {

/** `s` as a decimal number no greater than `max`; nothing for anything else (empty, a sign or
 *  any non-digit, out of range). Leading zeros are allowed. */
template <std::unsigned_integral T>
std::optional<T> parse_decimal(std::string_view s, T max = std::numeric_limits<T>::max()) {
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  T out{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc{} || p != s.data() + s.size() || out > max) return std::nullopt;
  return out;
}

}  // namespace forrealtime::core
