// JSON in: parse, write as JSON.stringify would, parse again: the text must be a fixed point,
// and decoding a stored message must never crash.
#include <cstdint>
#include <cstdlib>

#include "core/events.hpp"
#include "core/json_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)forrealtime::core::decode_message(text);
  boost::system::error_code ec;
  auto v = forrealtime::core::parse_json(text, ec);
  if (ec) return 0;
  auto once = forrealtime::core::to_json(v);
  auto again = forrealtime::core::parse_json(once, ec);
  if (ec) std::abort();  // we wrote something we cannot read
  if (forrealtime::core::to_json(again) != once) std::abort();
  return 0;
}
