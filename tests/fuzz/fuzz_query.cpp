// The subscribe query: any bytes give a request or an error, never a crash, and an accepted
// request always satisfies PROTOCOL.md section 1.
#include <cstdint>
#include <cstdlib>
#include <set>

#include "core/names.hpp"
#include "core/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view q(reinterpret_cast<const char*>(data), size);
  auto r = forrealtime::core::parse_subscribe(q, 8);
  if (auto* ok = std::get_if<forrealtime::core::SubscribeRequest>(&r)) {
    if (ok->channels.empty() || ok->channels.size() > 8) std::abort();
    if (ok->last_acks.size() != ok->channels.size()) std::abort();
    std::set<std::string> seen;
    for (auto& c : ok->channels) {
      if (forrealtime::core::check_channel(c)) std::abort();
      if (!seen.insert(c).second) std::abort();
    }
  }
  return 0;
}
