#include "support/test_tls.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "support/temp_dir.h"

namespace qfscale::test {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

tl::unexpected<Error> openssl_fail(const std::string& what) {
  char buf[256] = "unknown error";
  if (const unsigned long e = ERR_get_error(); e != 0) {  // NOLINT(google-runtime-int)
    ERR_error_string_n(e, buf, sizeof buf);
  }
  ERR_clear_error();
  return fail(ErrorCode::Internal, "test PKI: " + what + ": " + buf);
}

Result<PkeyPtr> make_key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return openssl_fail("generate EC key");
  return key;
}

Status add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return openssl_fail(std::string("extension ") + value);
  const int rc = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (rc != 1) return openssl_fail(std::string("add extension ") + value);
  return {};
}

struct Issuer {
  X509* cert = nullptr;  ///< nullptr: self-signed
  EVP_PKEY* key = nullptr;
};

/// A certificate for `key` named `common_name`, with `sans` (e.g. "DNS:localhost,IP:127.0.0.1")
/// for a leaf or CA extensions when `sans` is empty.
Result<X509Ptr> make_cert(EVP_PKEY* key, const std::string& common_name, const std::string& sans,
                          Issuer issuer, long serial) {  // NOLINT(google-runtime-int)
  X509Ptr cert(X509_new());
  if (!cert) return openssl_fail("X509_new");
  if (X509_set_version(cert.get(), 2) != 1) return openssl_fail("set version");
  if (ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) != 1) {
    return openssl_fail("set serial");
  }
  // Start an hour back so clock skew between "now" here and in the verifier cannot matter.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600) == nullptr) {
    return openssl_fail("set validity");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return openssl_fail("set public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("qfscale tests"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return openssl_fail("set subject");
  }
  X509* issuer_cert = issuer.cert != nullptr ? issuer.cert : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert)) != 1) {
    return openssl_fail("set issuer");
  }

  const bool is_ca = sans.empty();
  std::vector<std::pair<int, std::string>> exts;
  if (is_ca) {
    exts = {{NID_basic_constraints, "critical,CA:TRUE"},
            {NID_key_usage, "critical,keyCertSign,cRLSign"},
            {NID_subject_key_identifier, "hash"}};
  } else {
    exts = {{NID_basic_constraints, "critical,CA:FALSE"},
            {NID_key_usage, "critical,digitalSignature"},
            {NID_ext_key_usage, "serverAuth"},
            {NID_subject_key_identifier, "hash"},
            {NID_authority_key_identifier, "keyid:always"},
            {NID_subject_alt_name, sans}};
  }
  for (const auto& [nid, value] : exts) {
    if (auto st = add_ext(cert.get(), issuer_cert, nid, value.c_str()); !st) {
      return tl::unexpected(st.error());
    }
  }
  EVP_PKEY* signer = issuer.key != nullptr ? issuer.key : key;
  if (X509_sign(cert.get(), signer, EVP_sha256()) == 0) return openssl_fail("sign");
  return cert;
}

Status write_cert(const std::string& path, X509* cert) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return openssl_fail("write " + path);
  return {};
}

Status write_key(const std::string& path, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_fail("write " + path);
  }
  return {};
}

}  // namespace

Result<TestPki> generate_test_pki(const std::string& dir) {
  TestPki pki;
  pki.dir = dir;
  pki.ca_file = dir + "/ca.pem";
  pki.server_cert_file = dir + "/server.pem";
  pki.server_key_file = dir + "/server-key.pem";
  pki.localhost_only_cert_file = dir + "/localhost-only.pem";
  pki.localhost_only_key_file = dir + "/localhost-only-key.pem";
  pki.untrusted_ca_file = dir + "/untrusted-ca.pem";

  auto ca_key = make_key();
  if (!ca_key) return tl::unexpected(ca_key.error());
  auto ca = make_cert(ca_key->get(), "qfscale test CA", "", {}, 1);
  if (!ca) return tl::unexpected(ca.error());

  auto server_key = make_key();
  if (!server_key) return tl::unexpected(server_key.error());
  auto server = make_cert(server_key->get(), "127.0.0.1", "DNS:localhost,IP:127.0.0.1",
                          {ca->get(), ca_key->get()}, 2);
  if (!server) return tl::unexpected(server.error());

  auto local_key = make_key();
  if (!local_key) return tl::unexpected(local_key.error());
  auto local =
      make_cert(local_key->get(), "localhost", "DNS:localhost", {ca->get(), ca_key->get()}, 3);
  if (!local) return tl::unexpected(local.error());

  auto other_key = make_key();
  if (!other_key) return tl::unexpected(other_key.error());
  auto other = make_cert(other_key->get(), "qfscale untrusted test CA", "", {}, 4);
  if (!other) return tl::unexpected(other.error());

  for (auto st :
       {write_cert(pki.ca_file, ca->get()), write_cert(pki.server_cert_file, server->get()),
        write_key(pki.server_key_file, server_key->get()),
        write_cert(pki.localhost_only_cert_file, local->get()),
        write_key(pki.localhost_only_key_file, local_key->get()),
        write_cert(pki.untrusted_ca_file, other->get())}) {
    if (!st) return tl::unexpected(st.error());
  }
  return pki;
}

const TestPki& test_pki() {
  // Function-local statics: `dir` is constructed first, so it is removed last, at exit.
  static const TempDir dir("qfscale-pki-");
  static const TestPki pki = [] {
    auto generated = generate_test_pki(dir.path().string());
    if (!generated) {
      std::fprintf(stderr, "%s\n", generated.error().to_string().c_str());
      std::abort();
    }
    return *generated;
  }();
  return pki;
}

}  // namespace qfscale::test
