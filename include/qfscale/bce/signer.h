#pragma once

/// BCE auth v1 (`bce-auth-v1`, AK/SK, HMAC-SHA256): signing for our client and verification for
/// the fake server. See QIANFAN-API.md §2. Secrets never appear in any string this module returns
/// except the Authorization header itself (which holds a signature, not the key).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qfscale/util/result.h"

namespace qfscale::bce {

using SysSeconds = std::chrono::sys_seconds;
using KeyValues = std::vector<std::pair<std::string, std::string>>;

/// Thread-safety: a value type. Formatting it never prints the secret key.
struct Credentials {
  std::string access_key;
  std::string secret_key;
  /// From QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY; InvalidInput naming the missing variable.
  [[nodiscard]] static Result<Credentials> from_environment();
};

/// The parts of a request that are signed. `query` and `headers` are raw (not encoded) values.
struct CanonicalInput {
  std::string method;  ///< any case; upper-cased when signing
  std::string path;    ///< raw path, e.g. "/v2/service"
  KeyValues query;     ///< decoded keys and values
  KeyValues headers;   ///< every header the request carries (names any case)
};

/// RFC 3986 UriEncode: unreserved kept, every other byte %XX upper-case; '/' kept if asked.
[[nodiscard]] std::string uri_encode(std::string_view text, bool keep_slash = false);
/// "2025-01-02T03:04:05Z"
[[nodiscard]] std::string format_timestamp(SysSeconds t);
[[nodiscard]] Result<SysSeconds> parse_timestamp(std::string_view text);

struct SigningOptions {
  SysSeconds timestamp;
  int expiration_seconds = 1800;
  /// Lower-case header names to sign; empty = host, content-md5, content-length, content-type
  /// and every x-bce-* header present.
  std::vector<std::string> headers_to_sign;
};

struct Signature {
  std::string authorization;   ///< the full Authorization header value
  std::string signed_headers;  ///< "content-length;content-type;host;x-bce-date"
  std::string canonical_request;
  std::string signature;  ///< hex
};

/// Computes the signature. Headers in `headers_to_sign` that are absent or empty are skipped.
[[nodiscard]] Signature sign(const Credentials& credentials, const CanonicalInput& request,
                             const SigningOptions& options);

/// Parsed `bce-auth-v1/{ak}/{timestamp}/{expiration}/{signedHeaders}/{signature}`.
struct AuthorizationHeader {
  std::string access_key;
  SysSeconds timestamp;
  int expiration_seconds = 0;
  std::vector<std::string> signed_headers;  ///< as listed (any order, any case)
  std::string signature;
};
[[nodiscard]] Result<AuthorizationHeader> parse_authorization(std::string_view value);

enum class VerifyFailure { Malformed, UnknownAccessKey, SignatureMismatch, Expired };

struct VerifyError {
  VerifyFailure failure = VerifyFailure::Malformed;
  std::string message;  ///< safe to return to the client
};

struct VerifyOptions {
  SysSeconds now;
  /// How far in the future a timestamp may be (client clocks run fast).
  std::chrono::seconds allowed_future_skew{300};
};

/// Finds the secret for an access key; empty when unknown.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key)>;

/// Verifies a received request per QIANFAN-API.md §2.3: signed-header names in any order,
/// host signed with or without the port, default header set when the list is empty, expiry
/// and future-skew checks against `options.now`, constant-time comparison.
/// Returns the access key on success.
[[nodiscard]] tl::expected<std::string, VerifyError> verify(const CanonicalInput& request,
                                                            std::string_view authorization,
                                                            const SecretLookup& lookup,
                                                            const VerifyOptions& options);

}  // namespace qfscale::bce
