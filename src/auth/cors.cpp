// Cross-origin rules; see cors.hpp.
#include "auth/cors.hpp"

#include <algorithm>

namespace forrealtime::auth {
namespace {

bool listed(const std::vector<std::string>& origins, std::string_view o) {
  return std::find(origins.begin(), origins.end(), o) != origins.end();
}

}  // namespace

CorsHeaders cors_headers(const std::vector<std::string>& origins,
                         std::optional<std::string_view> origin) {
  CorsHeaders h;
  h.vary_origin = true;  // the answer depends on Origin whenever a list is configured
  if (origin && !origin->empty() && *origin != "*" && listed(origins, *origin)) {
    h.allow_origin = std::string(*origin);
    h.allow_credentials = true;
  } else if (listed(origins, "*")) {
    h.allow_origin = "*";
  }
  return h;
}

bool origin_allowed(const std::vector<std::string>& origins, std::optional<std::string_view> origin,
                    std::optional<std::string_view> host) {
  if (!origin) return true;
  if (listed(origins, "*") || (*origin != "*" && listed(origins, *origin))) return true;
  if (host && !host->empty()) {
    for (std::string_view scheme : {"http://", "https://"})
      if (origin->size() == scheme.size() + host->size() && origin->starts_with(scheme) &&
          origin->substr(scheme.size()) == *host)
        return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> cors_response_headers(
    const std::vector<std::string>& origins, const std::string& allow_origin,
    std::optional<std::string_view> origin) {
  std::vector<std::pair<std::string, std::string>> out;
  if (origins.empty()) {
    if (!allow_origin.empty()) out.emplace_back("Access-Control-Allow-Origin", allow_origin);
    return out;
  }
  auto h = cors_headers(origins, origin);
  if (!h.allow_origin.empty()) out.emplace_back("Access-Control-Allow-Origin", h.allow_origin);
  if (h.allow_credentials) out.emplace_back("Access-Control-Allow-Credentials", "true");
  if (h.vary_origin) out.emplace_back("Vary", "Origin");
  return out;
}

}  // namespace forrealtime::auth
