// Static file serving: the URL path is percent-decoded, split into segments, and any segment
// that is empty, `.`, `..`, or holds a NUL or backslash is refused; what the path then resolves
// to, symbolic links followed, must still be a regular file inside the root.
#include "http/static_files.hpp"

#include <filesystem>

#include "core/query.hpp"

namespace forrealtime::detail {

std::optional<std::string> static_path(std::string_view root, std::string_view url_path) {
  if (root.empty() || url_path.empty() || url_path[0] != '/') return std::nullopt;
  auto decoded = core::percent_decode(url_path);  // `+` is a plus sign in a path
  if (!decoded) return std::nullopt;
  std::string out(root);
  std::string_view rest(*decoded);
  rest.remove_prefix(1);
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (seg.empty() && rest.empty()) break;  // trailing slash
    if (seg.empty() || seg == "." || seg == ".." || seg.find('\0') != std::string_view::npos ||
        seg.find('\\') != std::string_view::npos)
      return std::nullopt;
    out.push_back('/');
    out.append(seg);
  }
  std::error_code ec;
  if (std::filesystem::is_directory(out, ec)) out += "/index.html";
  return out;
}

std::string_view content_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

std::optional<std::string> resolve_inside(std::string_view root, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto real_root = fs::canonical(fs::path(root), ec);
  if (ec) return std::nullopt;
  auto real = fs::canonical(fs::path(path), ec);
  if (ec || !fs::is_regular_file(real, ec) || ec) return std::nullopt;
  // Component by component, so /srv/www2 is not taken to be inside /srv/www.
  auto r = real_root.begin();
  auto p = real.begin();
  for (; r != real_root.end(); ++r, ++p)
    if (p == real.end() || *p != *r) return std::nullopt;
  return real.string();
}

}  // namespace forrealtime::detail
