// A JSON-lines formatter for spdlog: one object per line with time, level, logger and message,
// the message escaped properly (spdlog's pattern formatter cannot escape it).
#include "cli/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json_text.hpp"

namespace forrealtime::cli {
namespace {

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
    core::write_json_string(std::string_view(msg.payload.data(), msg.payload.size()), line);
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
