// Test-only token minting with libcrypto: keys generated in memory (RSA, EC P-256/P-384,
// Ed25519), exported as PEM or JWK, and compact JWS tokens signed with them or with an HMAC
// secret, including the malformed and malicious ones the tests throw at the gateway.
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace fr_test {

class TestKey {
 public:
  static TestKey rsa(int bits = 2048);
  static TestKey ec(int bits);  // 256 or 384
  static TestKey ed25519();

  /** `-----BEGIN PUBLIC KEY-----` of the public half. */
  std::string public_pem() const;
  /** The public half as a JWK object (JSON text), with `kid` when not empty. */
  std::string jwk(const std::string& kid = "") const;
  /** A JWS signature (raw, not encoded) over `input` for `alg` (RS*, ES*, EdDSA). */
  std::string sign(std::string_view alg, std::string_view input) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

/** `base64url(header).base64url(claims).base64url(sig)` where sig = HMAC(alg, secret). */
std::string mint_hmac(std::string_view alg, std::string_view secret, const std::string& claims,
                      const std::string& extra_header = "");
/** A token signed with `key` under `alg`; `kid` goes into the header when not empty. */
std::string mint(const TestKey& key, std::string_view alg, const std::string& claims,
                 const std::string& kid = "");
/** `{"alg":"none"}` and an empty signature. */
std::string mint_none(const std::string& claims);
/** Seconds since the epoch. */
long long now_secs();

}  // namespace fr_test
