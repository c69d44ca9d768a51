// A JSON-lines formatter for spdlog: one object per line with time, level, logger and message,
// the message escaped properly (spdlog's pattern formatter cannot escape it) and made valid
// UTF-8, so that every line parses.
#include "cli/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json_text.hpp"
#include "core/names.hpp"

namespace forrealtime::cli {
namespace {

// A log line must parse as JSON whatever bytes a message holds: each byte that does not start a
// valid UTF-8 sequence becomes U+FFFD.
std::string valid_utf8(std::string_view s) {
  if (core::is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    if (i + n <= s.size() && core::is_valid_utf8(s.substr(i, n))) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    auto t = std::chrono::system_clock::to_time_t(msg.time);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[40];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count()));
    line += "{\"time\":\"";
    line += ts;
    line += "\",\"level\":";
    auto lv = spdlog::level::to_string_view(msg.level);
    core::write_json_string(std::string_view(lv.data(), lv.size()), line);
    line += ",\"msg\":";
    core::write_json_string(valid_utf8(std::string_view(msg.payload.data(), msg.payload.size())),
                            line);
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

bool setup_logging(const std::string& format, const std::string& level) {
  auto lv = spdlog::level::from_str(level);
  if (lv == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_color_mt("forrealtime");
  if (format == "json")
    logger->set_formatter(std::make_unique<JsonFormatter>());
  else if (format == "text")
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  else
    return false;
  logger->set_level(lv);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return true;
}

}  // namespace forrealtime::cli
