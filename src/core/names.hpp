// Validation of the names clients and emitters send us: channel names and event names.
// Both come from untrusted input; the functions never throw and say what is wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace forrealtime::core {

constexpr std::size_t kMaxChannelBytes = 256;
constexpr std::size_t kMaxEventBytes = 256;

/** Nothing when `name` is a valid channel (1-256 bytes of UTF-8, no control characters);
 *  otherwise why not. */
std::optional<std::string> check_channel(std::string_view name);

/** Nothing when `name` is a valid event name `namespace.event` (both parts non-empty, at most
 *  256 bytes of UTF-8, no control characters or spaces); otherwise why not. */
std::optional<std::string> check_event_name(std::string_view name);

/** True when `s` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
bool is_valid_utf8(std::string_view s);

}  // namespace forrealtime::core
