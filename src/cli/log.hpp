// Logging setup for the program: text for people, JSON lines for log pipelines.
#pragma once

#include <string>

namespace forrealtime::cli {

/** Installs spdlog's default logger writing to stderr in `format` ("text" or "json") at
 *  `level` ("trace", "debug", "info", "warn", "error"). Returns false on an unknown value. */
bool setup_logging(const std::string& format, const std::string& level);

}  // namespace forrealtime::cli
