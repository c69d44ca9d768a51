// Where a request carries its token, and keeping tokens out of logs. Pure functions of the
// request's pieces: the `Authorization` header, the `Cookie` header and the query string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace forrealtime::auth {

/** The token of a request: `Authorization: Bearer <token>` first, then the cookie named
 *  `cookie_name` (when not empty), then the `token` query parameter. Nothing when none is
 *  present. An Authorization header with another scheme is ignored here. */
std::optional<std::string> find_token(std::optional<std::string_view> authorization,
                                      std::optional<std::string_view> cookie,
                                      std::string_view query, std::string_view cookie_name);

/** The value of cookie `name` in a `Cookie` header (`a=1; b=2`), or nothing. */
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);

/** `target` with the value of every `token` query parameter (however percent-encoded its name)
 *  replaced by `REDACTED`, for log lines. A piece whose name does not decode is redacted too. */
std::string redact_target(std::string_view target);

}  // namespace forrealtime::auth
