// Static file paths: whatever the URL, the file is under the root and no segment climbs out.
#include <cstdint>
#include <cstdlib>

#include "http/static_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view url(reinterpret_cast<const char*>(data), size);
  auto p = forrealtime::detail::static_path("/nonexistent-root", url);
  if (!p) return 0;
  if (p->rfind("/nonexistent-root", 0) != 0) std::abort();
  if (p->find("/../") != std::string::npos || p->ends_with("/..")) std::abort();
  if (p->find('\0') != std::string::npos) std::abort();
  return 0;
}
