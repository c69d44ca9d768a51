// Cross-origin rules, pure: which `Access-Control-Allow-*` headers a response carries, and
// whether a state-changing request (an emit) from a browser page of another origin may go on.
// Browsers always send `Origin` on a cross-origin POST, also for a form or a `text/plain` body
// that needs no preflight, so refusing unknown origins closes that door; tools like curl send no
// `Origin` and are not concerned.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forrealtime::auth {

struct CorsHeaders {
  std::string allow_origin;  // empty: no Access-Control-Allow-Origin header
  bool allow_credentials = false;
  bool vary_origin = false;
};

/** With `origins` configured (`--cors-origin`): a request `Origin` found in the list is echoed
 *  with credentials allowed and `Vary: Origin`; otherwise `*` when the list holds `*`
 *  (without credentials, as browsers require), otherwise nothing. */
CorsHeaders cors_headers(const std::vector<std::string>& origins,
                         std::optional<std::string_view> origin);

/** True when a request with this `Origin` may change state: no Origin header, the gateway's
 *  own origin (`http://` or `https://` + `host`), an origin in `origins`, or any when `origins`
 *  holds `*`. */
bool origin_allowed(const std::vector<std::string>& origins, std::optional<std::string_view> origin,
                    std::optional<std::string_view> host);

/** The CORS headers of a response: with `origins` configured, cors_headers(); otherwise the
 *  fixed `allow_origin` (empty for none), as before CORS origins existed. */
std::vector<std::pair<std::string, std::string>> cors_response_headers(
    const std::vector<std::string>& origins, const std::string& allow_origin,
    std::optional<std::string_view> origin);

}  // namespace forrealtime::auth
