// The non-template pieces of typed.hpp: reporting a stored payload that does not convert to the
// type a typed subscription declares (another peer wrote it; it is skipped, never fatal).
#include "forrealtime/typed.hpp"

#include <spdlog/spdlog.h>

namespace forrealtime::detail {

void log_undecodable(spdlog::logger* log, const Event& e, const std::string& why) {
  auto& l = log ? *log : *spdlog::default_logger();
  l.warn("typed subscription on '{}': event {} ({}) skipped, its data does not convert: {}{}",
         e.channel, e.id.to_string(), e.event, why.starts_with("/") ? "" : "data", why);
}

}  // namespace forrealtime::detail
