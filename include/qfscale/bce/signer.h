#pragma once

/// BCE auth v1 (`bce-auth-v1`, AK/SK, HMAC-SHA256): signing for our client and verification for
/// the fake server. See docs/QIANFAN-API.md §2. Secrets never appear in any string this module
/// returns except the Authorization header itself (which holds a signature, not the key).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "qfscale/util/result.h"

namespace qfscale::bce {

using SysSeconds = std::chrono::sys_seconds;
using KeyValues = std::vector<std::pair<std::string, std::string>>;

/// Thread-safety: a value type. Formatting it (fmt) never prints the secret key.
struct Credentials {
  std::string access_key;
  std::string secret_key;
  /// From QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY; InvalidInput naming the missing variable.
  [[nodiscard]] static Result<Credentials> from_environment();
};

/// The parts of a request that are signed. `path`, `query` and `headers` are raw (not encoded)
/// values: a server percent-decodes the request target first, so `/example/%E6%B5%8B` arrives
/// here as `/example/测`. Thread-safety: a value type.
struct CanonicalInput {
  std::string method;  ///< any case; upper-cased when signing
  std::string path;    ///< decoded path, e.g. "/v2/service"; empty is signed as "/"
  KeyValues query;     ///< decoded keys and values
  KeyValues headers;   ///< every header the request carries (names any case)
};

/// RFC 3986 UriEncode: unreserved kept, every other byte %XX upper-case; '/' kept if asked.
[[nodiscard]] std::string uri_encode(std::string_view text, bool keep_slash = false);
/// "2025-01-02T03:04:05Z" (UTC, no fraction). Years 0000-9999.
[[nodiscard]] std::string format_timestamp(SysSeconds t);
/// Strict inverse of format_timestamp: exactly `YYYY-MM-DDThh:mm:ssZ`, a real calendar date,
/// no leap second. InvalidInput otherwise (the message does not echo the text).
[[nodiscard]] Result<SysSeconds> parse_timestamp(std::string_view text);

/// Thread-safety: a value type.
struct SigningOptions {
  SysSeconds timestamp;
  int expiration_seconds = 1800;
  /// Lower-case header names to sign; empty = host, content-md5, content-length, content-type
  /// and every x-bce-* header present.
  std::vector<std::string> headers_to_sign;
};

/// Thread-safety: a value type. Holds no secret (the signing key is never returned).
struct Signature {
  std::string authorization;   ///< the full Authorization header value
  std::string signed_headers;  ///< "content-length;content-type;host;x-bce-date"
  std::string canonical_request;
  std::string signature;  ///< hex
};

/// Computes the signature. Headers in `headers_to_sign` that are absent or empty are skipped;
/// `signed_headers` lists, sorted, the names that were actually signed. The caller must also send
/// `x-bce-date: format_timestamp(options.timestamp)` and include it in `request.headers`.
/// Thread-safe (no shared mutable state).
[[nodiscard]] Signature sign(const Credentials& credentials, const CanonicalInput& request,
                             const SigningOptions& options);

/// Parsed `bce-auth-v1/{ak}/{timestamp}/{expiration}/{signedHeaders}/{signature}`.
/// Thread-safety: a value type.
struct AuthorizationHeader {
  std::string access_key;
  SysSeconds timestamp;
  int expiration_seconds = 0;
  std::vector<std::string> signed_headers;  ///< as listed (any order, any case)
  std::string signature;
};
/// Strict: exactly six '/'-separated fields; a non-empty access key; the timestamp as
/// parse_timestamp; the expiration a plain decimal int (>= 0) without sign or leading zeros
/// (so the prefix re-formats byte for byte); signed headers separated by ';' with no empty item
/// (the whole list may be empty); the signature 64 lower-case hex digits. InvalidInput otherwise,
/// with a message that never echoes the value.
[[nodiscard]] Result<AuthorizationHeader> parse_authorization(std::string_view value);

enum class VerifyFailure { Malformed, UnknownAccessKey, SignatureMismatch, Expired };

/// Thread-safety: a value type.
struct VerifyError {
  VerifyFailure failure = VerifyFailure::Malformed;
  std::string message;  ///< safe to return to the client
};

/// Thread-safety: a value type.
struct VerifyOptions {
  SysSeconds now;
  /// How far in the future a timestamp may be (client clocks run fast).
  std::chrono::seconds allowed_future_skew{300};
};

/// Finds the secret for an access key; empty when unknown.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key)>;

/// Verifies a received request per docs/QIANFAN-API.md §2.3: signed-header names in any order,
/// host signed with or without the port, default header set when the list is empty, expiry
/// and future-skew checks against `options.now`, constant-time comparison.
/// Checks run in this order, and the first failure is returned: Malformed (parse_authorization),
/// UnknownAccessKey (`lookup` returned nothing), Expired (`now > timestamp + expiration`, or
/// `timestamp > now + allowed_future_skew`), SignatureMismatch. Expiry comes before the HMAC so
/// a client with a wrong clock hears about the clock. Messages never echo request data.
/// Returns the access key on success. Thread-safe if `lookup` is.
[[nodiscard]] tl::expected<std::string, VerifyError> verify(const CanonicalInput& request,
                                                            std::string_view authorization,
                                                            const SecretLookup& lookup,
                                                            const VerifyOptions& options);

}  // namespace qfscale::bce

/// Prints the access key and a placeholder, never the secret key.
template <>
struct fmt::formatter<qfscale::bce::Credentials> : fmt::formatter<std::string_view> {
  auto format(const qfscale::bce::Credentials& c, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(
        fmt::format("Credentials{{access_key={}, secret_key=<redacted>}}", c.access_key), ctx);
  }
};
