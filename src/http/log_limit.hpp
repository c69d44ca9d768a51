// Logging what clients cause without letting them fill the disk: request targets and other
// client bytes are cut to an excerpt with control and non-ASCII bytes escaped, and lines about
// refused requests pass a per-second budget; the first line after a busy second says how many
// were left out.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace forrealtime::gateway {

/** At most `max` bytes of `s`, with bytes outside printable ASCII written as `\xNN` and a
 *  note of the full length when it was cut. */
std::string log_excerpt(std::string_view s, std::size_t max = 200);

/** A budget of lines per second, shared by every worker thread. */
class LogLimiter {
 public:
  explicit LogLimiter(std::uint32_t per_second = 20) : per_second_(per_second) {}
  /** True when a line may be written now; then `suppressed` is the number of lines refused
   *  since the last one allowed (for the line to mention). */
  bool allow(std::uint64_t& suppressed);

 private:
  std::uint32_t per_second_;
  std::atomic<std::int64_t> second_{0};
  std::atomic<std::uint32_t> used_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace forrealtime::gateway
