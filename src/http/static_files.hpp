// Static files for the gateway (the demo page): safe path mapping and content types.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace forrealtime::detail {

/** The file under `root` for a URL path, or nothing when the path tries to leave `root` or is
 *  malformed. Directories map to their index.html. */
std::optional<std::string> static_path(std::string_view root, std::string_view url_path);

/** A Content-Type for a file name. */
std::string_view content_type_for(std::string_view path);

/** Reads a regular file whole; nothing when it is missing or not a regular file. */
std::optional<std::string> read_file(const std::string& path);

}  // namespace forrealtime::detail
