// The authorization policy, as pure functions: channel patterns, the grants a credential
// carries, public channels, and the one decision every endpoint asks ("may this credential do
// this operation on all of these channels?"). No I/O, no clocks, no crypto: tokens are verified
// elsewhere (jwt.hpp) and arrive here as a Credential.
//
// Patterns: an exact channel name, or one with `*` standing for any run of characters (empty
// included), so `room:*` matches `room:1` and `room:` but not `room`. `{sub}` stands for the
// credential's subject, inserted as literal text: a subject holding `*` or `{sub}` matches only
// itself and never widens a grant. A pattern with `{sub}` grants nothing to a credential
// without a subject. There is no escape for a literal `*`.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace forrealtime::auth {

enum class Operation { subscribe, history, emit, admin };

std::string_view to_string(Operation op);

/** True when `channel` matches `pattern` for a credential whose subject is `sub` (empty: none). */
bool pattern_matches(std::string_view pattern, std::string_view channel, std::string_view sub);

/** Nothing when `pattern` is acceptable (1-256 bytes, no control characters); else why not. */
std::optional<std::string> check_pattern(std::string_view pattern);

/** Channel patterns per operation. */
struct Grants {
  std::vector<std::string> subscribe;
  /** Absent: the same as `subscribe`. Present and empty: no history at all. */
  std::optional<std::vector<std::string>> history;
  std::vector<std::string> emit;
  /** The operator endpoints (metrics, admin). */
  bool admin = false;

  /** The patterns that grant `op` (admin has none: see `admin`). */
  const std::vector<std::string>& for_operation(Operation op) const;
};

/** What a verified token or an upstream decision says about the caller. */
struct Credential {
  std::string sub;
  Grants grants;
  /** Seconds since the epoch after which the grant no longer holds (JWT `exp`); 0 for none. */
  long long expires_at = 0;
};

/** Reads the JWT claim `realtime`: `{"subscribe": [...], "history": [...], "emit": [...],
 *  "admin": bool}`; unknown keys are ignored. Nothing and `why` set when a key has the wrong
 *  type or a pattern is unacceptable. */
std::optional<Grants> grants_from_json(const boost::json::value& v, std::string* why);

enum class Decision {
  allow,
  unauthenticated,  // 401: no credential, and not everything asked for is public
  forbidden,        // 403: a credential that does not cover every channel asked for
};

/** Public channels: anyone may subscribe to them and read their history; not emit. */
struct Policy {
  std::vector<std::string> public_channels;
};

/** The decision for `op` on every one of `channels` (for admin, `channels` is ignored).
 *  `credential` is null when the request carried none. Every channel must be covered: by a
 *  public pattern (subscribe, history) or by the credential's grant for `op`. */
Decision decide(const Policy& policy, const Credential* credential, Operation op,
                std::span<const std::string> channels);

/** Which of `channels` is not covered (for the error message and the log); empty if all are. */
std::optional<std::string> first_denied(const Policy& policy, const Credential* credential,
                                        Operation op, std::span<const std::string> channels);

}  // namespace forrealtime::auth
