// One trusted key of a KeySet, shared by the loaders (keys.cpp) and the verifier (jwt.cpp).
// Private to src/auth: it names OpenSSL types.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "auth/jwt.hpp"

namespace forrealtime::auth {

struct KeySet::Key {
  enum class Kind { hmac, rsa, ec, ed25519 };
  Kind kind = Kind::hmac;
  std::string kid;     // empty: matches any token's kid
  std::string alg;     // a JWK's own alg; empty: every algorithm of the kind
  std::string secret;  // hmac
  std::shared_ptr<EVP_PKEY> pkey;
  int ec_bits = 0;  // 256 or 384 for EC keys

  /** True when this key may verify a token of algorithm `name`. */
  bool allows(std::string_view name) const {
    if (!alg.empty() && alg != name) return false;
    switch (kind) {
      case Kind::hmac:
        return name == "HS256" || name == "HS384" || name == "HS512";
      case Kind::rsa:
        return name == "RS256" || name == "RS384" || name == "RS512";
      case Kind::ec:
        return (ec_bits == 256 && name == "ES256") || (ec_bits == 384 && name == "ES384");
      case Kind::ed25519:
        return name == "EdDSA";
    }
    return false;
  }
};

}  // namespace forrealtime::auth
