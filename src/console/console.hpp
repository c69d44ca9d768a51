// The live console's files, compiled in (see CMakeLists.txt and embed.cmake): the gateway serves
// them at `/` (index.html) and `/console/*` when no static directory is given.
#pragma once

#include <span>
#include <string_view>

namespace forrealtime::console {

struct Asset {
  std::string_view path;          // "/console/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
  std::string_view etag;  // a quoted strong ETag from the file's SHA-256
};

/** Every embedded file. */
std::span<const Asset> all_assets();

/** The file for a request path: "/" and "/console/" are index.html; null when there is none. */
const Asset* find_asset(std::string_view path);

/** The Cache-Control of an asset: revalidate every time (the ETag makes that a 304), since the
 *  file names carry no version. */
inline constexpr std::string_view cache_control = "no-cache";

}  // namespace forrealtime::console
