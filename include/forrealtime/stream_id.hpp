// Redis stream ids (`<ms>-<seq>`, both unsigned 64-bit) as a value type: parse, format, compare.
// Every part of forrealtime orders events by these ids; they are compared numerically, never as
// strings ("9-0" < "10-0").
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace forrealtime {

struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  friend constexpr auto operator<=>(const StreamId&, const StreamId&) = default;

  constexpr bool is_zero() const { return ms == 0 && seq == 0; }
  static constexpr StreamId max() {
    return {std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::uint64_t>::max()};
  }
  /** The smallest id greater than this one (`max()` stays `max()`). */
  constexpr StreamId next() const {
    if (seq != std::numeric_limits<std::uint64_t>::max()) return {ms, seq + 1};
    if (ms != std::numeric_limits<std::uint64_t>::max()) return {ms + 1, 0};
    return *this;
  }

  /** `<ms>-<seq>`, e.g. `1700000000000-3`. */
  std::string to_string() const;
  /** Appends `<ms>-<seq>` to `out` without a temporary. */
  void append_to(std::string& out) const;

  /** Strict parse of `<ms>-<seq>` (decimal, no sign, no spaces, no overflow). */
  static std::optional<StreamId> parse(std::string_view text);
};

}  // namespace forrealtime
