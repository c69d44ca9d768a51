// Token minting for tests; see jwt_mint.hpp.
#include "support/jwt_mint.hpp"

#include <chrono>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/jwt.hpp"

namespace fr_test {
namespace {

using forrealtime::auth::base64url_encode;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* p) {
  if (!p) throw std::runtime_error("key generation failed");
  return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);
}

std::string bn_param(EVP_PKEY* p, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(p, name, &bn)) throw std::runtime_error("no key parameter");
  std::string out(pad ? pad : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

const EVP_MD* md_for(std::string_view alg) {
  auto bits = alg.substr(2);
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  return EVP_sha512();
}

std::string signing_input(const std::string& header, const std::string& claims) {
  return base64url_encode(header) + "." + base64url_encode(claims);
}

}  // namespace

TestKey TestKey::rsa(int bits) {
  TestKey k;
  k.key_ = own(EVP_RSA_gen(static_cast<unsigned>(bits)));
  return k;
}

TestKey TestKey::ec(int bits) {
  TestKey k;
  k.key_ = own(EVP_EC_gen(bits == 256 ? "P-256" : "P-384"));
  return k;
}

TestKey TestKey::ed25519() {
  TestKey k;
  k.key_ = own(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return k;
}

std::string TestKey::public_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

std::string TestKey::jwk(const std::string& kid) const {
  std::string out = "{";
  if (!kid.empty()) out += "\"kid\":\"" + kid + "\",";
  auto* p = key_.get();
  switch (EVP_PKEY_get_base_id(p)) {
    case EVP_PKEY_RSA:
      out += "\"kty\":\"RSA\",\"n\":\"" + base64url_encode(bn_param(p, OSSL_PKEY_PARAM_RSA_N)) +
             "\",\"e\":\"" + base64url_encode(bn_param(p, OSSL_PKEY_PARAM_RSA_E)) + "\"";
      break;
    case EVP_PKEY_EC: {
      int size = EVP_PKEY_get_bits(p) == 256 ? 32 : 48;
      out += std::string("\"kty\":\"EC\",\"crv\":\"") + (size == 32 ? "P-256" : "P-384") +
             "\",\"x\":\"" + base64url_encode(bn_param(p, OSSL_PKEY_PARAM_EC_PUB_X, size)) +
             "\",\"y\":\"" + base64url_encode(bn_param(p, OSSL_PKEY_PARAM_EC_PUB_Y, size)) + "\"";
      break;
    }
    default: {
      unsigned char raw[32];
      std::size_t len = sizeof raw;
      EVP_PKEY_get_raw_public_key(p, raw, &len);
      out += "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" +
             base64url_encode(std::string_view(reinterpret_cast<char*>(raw), len)) + "\"";
    }
  }
  return out + "}";
}

std::string TestKey::sign(std::string_view alg, std::string_view input) const {
  bool ed = alg == "EdDSA";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, ed ? nullptr : md_for(alg), nullptr, key_.get());
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("signing failed");
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (alg.starts_with("ES")) {  // DER -> r || s
    int size = alg == "ES256" ? 32 : 48;
    auto* der = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
    std::string raw(2 * size, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), size);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + size, size);
    ECDSA_SIG_free(es);
    return raw;
  }
  return sig;
}

std::string mint_hmac(std::string_view alg, std::string_view secret, const std::string& claims,
                      const std::string& extra_header) {
  auto input = signing_input(
      "{\"alg\":\"" + std::string(alg) + "\",\"typ\":\"JWT\"" + extra_header + "}", claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md_for(alg), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

std::string mint(const TestKey& key, std::string_view alg, const std::string& claims,
                 const std::string& kid) {
  std::string header = "{\"alg\":\"" + std::string(alg) + "\",\"typ\":\"JWT\"";
  if (!kid.empty()) header += ",\"kid\":\"" + kid + "\"";
  auto input = signing_input(header + "}", claims);
  return input + "." + base64url_encode(key.sign(alg, input));
}

std::string mint_none(const std::string& claims) {
  return signing_input(R"({"alg":"none","typ":"JWT"})", claims) + ".";
}

long long now_secs() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace fr_test
