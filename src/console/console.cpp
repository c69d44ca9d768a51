// Looking up the console's embedded files by request path.
#include "console/console.hpp"

namespace forrealtime::console {

const Asset* find_asset(std::string_view path) {
  if (path == "/" || path == "/console" || path == "/console/") path = "/console/index.html";
  for (const auto& a : all_assets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace forrealtime::console
