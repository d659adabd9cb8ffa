#include "qfscale/http/ca_bundle.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace qfscale::http {

Result<int> count_ca_certificates(std::string_view pem_text) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  if (pem_text.find(kBegin) == std::string_view::npos) {
    return fail(ErrorCode::InvalidInput,
                "holds no PEM certificate (expected \"-----BEGIN CERTIFICATE-----\" blocks)");
  }
  if (pem_text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail(ErrorCode::InvalidInput, "is too large for a CA bundle");
  }
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem_text.data(), static_cast<int>(pem_text.size())), &BIO_free);
  if (!bio) return fail(ErrorCode::Internal, "cannot allocate an OpenSSL BIO");
  ERR_clear_error();
  int count = 0;
  for (;;) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    X509_free(cert);
    ++count;
  }
  // The loop ends at the end of the text (PEM_R_NO_START_LINE) or at a block that does not parse.
  const unsigned long last = ERR_peek_last_error();  // NOLINT(google-runtime-int): OpenSSL's type
  const bool clean_end = last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM &&
                                       ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
  std::string reason;
  if (!clean_end) {
    const char* text = ERR_reason_error_string(last);
    reason = text != nullptr ? text : "unknown OpenSSL error";
  }
  ERR_clear_error();
  if (!clean_end) {
    return fail(ErrorCode::InvalidInput, "has a certificate that does not parse (certificate " +
                                             std::to_string(count + 1) + ": " + reason + ")");
  }
  if (count == 0) return fail(ErrorCode::InvalidInput, "holds no PEM certificate");
  return count;
}

}  // namespace qfscale::http
