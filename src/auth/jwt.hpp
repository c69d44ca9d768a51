// JSON Web Tokens (RFC 7519, compact JWS of RFC 7515) verified with OpenSSL's libcrypto: the
// keys a gateway trusts, the parse of a token's three parts, and the checks that turn a token
// into a Credential (policy.hpp). No I/O but reading key files in KeySet's loaders.
//
// The algorithm is fixed by the key, never by the token alone: an HMAC secret verifies only
// HS256/384/512, an RSA key only RS256/384/512, a P-256 key only ES256, a P-384 key only
// ES384, an Ed25519 key only EdDSA. `alg: none` and any other name are refused; an HS256 token
// is never checked against a public key's bytes (the algorithm-confusion attack). A JWKS key's
// own `alg`, when present, narrows this further.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "auth/policy.hpp"

namespace forrealtime::auth {

/** base64url without padding (RFC 7515 section 2); nothing on any other character, on a length
 *  that cannot occur, or on non-zero padding bits (so each value has one encoding). */
std::optional<std::string> base64url_decode(std::string_view in);
std::string base64url_encode(std::string_view in);

/** A token split and decoded, not yet verified. */
struct JwtParts {
  boost::json::object header;
  boost::json::object claims;
  std::string alg;
  std::string kid;
  std::string_view signing_input;  // `header.payload`, into the token
  std::string signature;           // decoded
};

/** Splits `header.payload.signature`, decodes each part, parses header and claims (JSON
 *  objects). Refuses tokens over 16 KiB, a header without a string `alg`, and a `crit` header.
 *  Never throws; `why` says what is wrong. */
std::optional<JwtParts> parse_jwt(std::string_view token, std::string* why);

/** The keys a gateway trusts. Thread-safe to read once built. */
class KeySet {
 public:
  KeySet();
  ~KeySet();
  KeySet(KeySet&&) noexcept;
  KeySet& operator=(KeySet&&) noexcept;

  /** An HMAC secret (HS256/384/512): the bytes as given, at least 32 of them. */
  bool add_secret(std::string secret, std::string* why);
  /** Every public key (`-----BEGIN PUBLIC KEY-----`) of a PEM text: RSA (2048 bits or more),
   *  EC P-256 / P-384, or Ed25519. */
  bool add_pem(std::string_view pem, std::string* why);
  /** The keys of a JWK Set `{"keys": [...]}`: kty RSA, EC (P-256, P-384), OKP (Ed25519) and oct;
   *  keys with `use` other than `sig` are skipped. Fails on a set with no usable key. */
  bool add_jwks(std::string_view json, std::string* why);

  /** Adds every key of `other` (shared, not copied). */
  void add_all(const KeySet& other);
  /** True when a key carries this `kid`. */
  bool has_kid(std::string_view kid) const;

  /** Reads a file for the loaders above (a secret file loses one trailing newline). */
  static std::optional<std::string> read_file(const std::string& path, std::string* why);

  std::size_t size() const;
  bool empty() const { return size() == 0; }

  /** One trusted key (defined in keys.cpp). */
  struct Key;
  const std::vector<std::shared_ptr<const Key>>& keys() const { return keys_; }

 private:
  std::vector<std::shared_ptr<const Key>> keys_;
};

struct VerifyOptions {
  /** When set, `aud` (a string or an array of strings) must contain it. */
  std::string audience;
  /** When set, `iss` must equal it. */
  std::string issuer;
  /** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. */
  long long leeway_secs = 30;
};

/** Verifies `token` at `now` (seconds since the epoch): signature with a key of `keys` whose type
 *  fixes the algorithm, then `exp`, `nbf`, `iat`, `aud`, `iss`, then the grants of the claim
 *  `realtime`. A Credential, or why the token is refused (never the token itself). */
std::variant<Credential, std::string> verify_jwt(const KeySet& keys, std::string_view token,
                                                 const VerifyOptions& options, long long now);

}  // namespace forrealtime::auth
