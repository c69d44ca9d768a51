// Static files for the gateway (the demo page): safe path mapping, the check that what a path
// resolves to (after symbolic links) is still inside the root, and content types.
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

/** The real path of `path` (symbolic links followed) when it is a regular file that resolves
 *  inside `root` (itself resolved); nothing otherwise. A link inside the root to a file inside
 *  it is served; one that leads out of it is not. */
std::optional<std::string> resolve_inside(std::string_view root, const std::string& path);

}  // namespace forrealtime::detail
