// Loading the keys a gateway trusts: an HMAC secret, PEM public keys, a JWK Set. Each key's
// type fixes which algorithms it verifies (key.hpp); a key we cannot use safely (RSA under 2048
// bits, an unknown curve) stops the load with a message, so a bad file fails at start.
#include <fstream>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <boost/json/parse.hpp>

#include "auth/key.hpp"

namespace forrealtime::auth {
namespace {

using Key = KeySet::Key;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* p) {
  return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);
}

bool set_why(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return false;
}

// Classifies a public key; false (and why) for one we do not accept.
bool classify(Key& k, std::string* why) {
  auto* p = k.pkey.get();
  switch (EVP_PKEY_get_base_id(p)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(p) < 2048) return set_why(why, "RSA keys must have at least 2048 bits");
      k.kind = Key::Kind::rsa;
      return true;
    case EVP_PKEY_EC: {
      char group[64] = {0};
      std::size_t len = 0;
      if (!EVP_PKEY_get_group_name(p, group, sizeof group, &len))
        return set_why(why, "an EC key without a named curve");
      std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256")
        k.ec_bits = 256;
      else if (g == "secp384r1" || g == "P-384")
        k.ec_bits = 384;
      else
        return set_why(why, "EC curve " + std::string(g) + " is not supported (P-256, P-384)");
      k.kind = Key::Kind::ec;
      return true;
    }
    case EVP_PKEY_ED25519:
      k.kind = Key::Kind::ed25519;
      return true;
    default:
      return set_why(why, "unsupported key type (RSA, EC P-256/P-384 or Ed25519)");
  }
}

std::optional<std::string> b64_member(const boost::json::object& o, const char* name) {
  auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return base64url_decode(std::string_view(v->get_string().data(), v->get_string().size()));
}

std::string str_member(const boost::json::object& o, const char* name) {
  auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return {};
  return std::string(v->get_string().data(), v->get_string().size());
}

std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) > 0)
    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey ? own(pkey) : nullptr;
}

std::shared_ptr<EVP_PKEY> rsa_from_jwk(const std::string& n, const std::string& e) {
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                         static_cast<int>(n.size()), nullptr);
  BIGNUM* be = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                         static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::shared_ptr<EVP_PKEY> out;
  if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
    out = from_params("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn);
  BN_free(be);
  return out;
}

std::shared_ptr<EVP_PKEY> ec_from_jwk(const char* group, const std::string& x,
                                      const std::string& y) {
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::shared_ptr<EVP_PKEY> out;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
    out = from_params("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return out;
}

}  // namespace

KeySet::KeySet() = default;
KeySet::~KeySet() = default;
KeySet::KeySet(KeySet&&) noexcept = default;
KeySet& KeySet::operator=(KeySet&&) noexcept = default;

std::size_t KeySet::size() const {
  return keys_.size();
}

bool KeySet::add_secret(std::string secret, std::string* why) {
  if (secret.size() < 32)
    return set_why(why, "an HMAC secret must have at least 32 bytes (it has " +
                            std::to_string(secret.size()) + ")");
  auto k = std::make_shared<Key>();
  k->kind = Key::Kind::hmac;
  k->secret = std::move(secret);
  keys_.push_back(std::move(k));
  return true;
}

bool KeySet::add_pem(std::string_view pem, std::string* why) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return set_why(why, "out of memory");
  std::size_t added = 0;
  bool ok = true;
  while (EVP_PKEY* p = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr)) {
    auto k = std::make_shared<Key>();
    k->pkey = own(p);
    if (!classify(*k, why)) {
      ok = false;
      break;
    }
    keys_.push_back(std::move(k));
    ++added;
  }
  BIO_free(bio);
  if (!ok) return false;
  if (added == 0) return set_why(why, "no PEM public key (-----BEGIN PUBLIC KEY-----) found");
  return true;
}

bool KeySet::add_jwks(std::string_view json, std::string* why) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) return set_why(why, "a JWK Set must be a JSON object");
  auto* keys = doc.get_object().if_contains("keys");
  if (!keys || !keys->is_array()) return set_why(why, "a JWK Set needs a `keys` array");
  std::size_t added = 0;
  for (auto& jv : keys->get_array()) {
    if (!jv.is_object()) return set_why(why, "a JWK must be an object");
    auto& o = jv.get_object();
    auto use = str_member(o, "use");
    if (!use.empty() && use != "sig") continue;
    auto k = std::make_shared<Key>();
    k->kid = str_member(o, "kid");
    k->alg = str_member(o, "alg");
    auto kty = str_member(o, "kty");
    std::string where = "JWK " + (k->kid.empty() ? std::to_string(added) : k->kid) + ": ";
    if (kty == "oct") {
      auto secret = b64_member(o, "k");
      if (!secret) return set_why(why, where + "oct key without a valid `k`");
      if (secret->size() < 32) return set_why(why, where + "an HMAC key needs 32 bytes or more");
      k->kind = Key::Kind::hmac;
      k->secret = std::move(*secret);
    } else {
      if (kty == "RSA") {
        auto n = b64_member(o, "n"), e = b64_member(o, "e");
        if (!n || !e) return set_why(why, where + "RSA key without valid `n` and `e`");
        k->pkey = rsa_from_jwk(*n, *e);
      } else if (kty == "EC") {
        auto crv = str_member(o, "crv");
        auto x = b64_member(o, "x"), y = b64_member(o, "y");
        std::size_t size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 0;
        if (!size) return set_why(why, where + "EC curve must be P-256 or P-384");
        if (!x || !y || x->size() != size || y->size() != size)
          return set_why(why, where + "EC key without valid `x` and `y`");
        k->pkey = ec_from_jwk(crv == "P-256" ? "prime256v1" : "secp384r1", *x, *y);
      } else if (kty == "OKP") {
        auto x = b64_member(o, "x");
        if (str_member(o, "crv") != "Ed25519")
          return set_why(why, where + "OKP curve must be Ed25519");
        if (!x || x->size() != 32) return set_why(why, where + "Ed25519 key without a valid `x`");
        auto* p = EVP_PKEY_new_raw_public_key(
            EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), 32);
        if (p) k->pkey = own(p);
      } else {
        continue;  // a key type we do not use (a future one): not ours to verify with
      }
      if (!k->pkey) return set_why(why, where + "not a valid " + kty + " public key");
      std::string inner;
      if (!classify(*k, &inner)) return set_why(why, where + inner);
    }
    keys_.push_back(std::move(k));
    ++added;
  }
  if (added == 0) return set_why(why, "the JWK Set has no signing key we can use");
  return true;
}

void KeySet::add_all(const KeySet& other) {
  keys_.insert(keys_.end(), other.keys_.begin(), other.keys_.end());
}

bool KeySet::has_kid(std::string_view kid) const {
  for (auto& k : keys_)
    if (k->kid == kid) return true;
  return false;
}

std::optional<std::string> KeySet::read_file(const std::string& path, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    set_why(why, "cannot read " + path);
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = ss.str();
  if (text.ends_with("\r\n"))
    text.resize(text.size() - 2);
  else if (text.ends_with('\n'))
    text.pop_back();
  return text;
}

}  // namespace forrealtime::auth
