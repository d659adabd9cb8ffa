#pragma once

/// How Qianfan replies become `util::Error`s (docs/QIANFAN-API.md §1, §5, §7).
///
/// A reply is an error when its status is not 2xx, or when a 2xx body carries a BCE error
/// (`{requestId, code, message}` with a non-empty `code`), a legacy error
/// (`{error_code, error_msg}` with a non-zero `error_code`), or an `X-Bce-Error-Code` header.
/// The official SDKs return 2xx error bodies as success; qfscale does not.
///
/// The error code says what to do next:
/// - `Transient` (retry with backoff): HTTP 5xx, 408 and 429; the throttling / overload codes
///   `RequestLimitExceeded`, `Throttling`, `TooManyRequests`, `InternalError`,
///   `ServiceUnavailable`; the legacy codes 18 (QPSLimitReached), 336100 (ServerHighLoad),
///   336501 (RPMLimitReached), 336502 (TPMLimitReached), 500000 (ConsoleInternalError).
///   Transport failures (connect errors, timeouts) arrive from the HTTP client already Transient.
/// - `Remote` (do not retry): everything else the server said, e.g. `AccessDenied`,
///   `SignatureDoesNotMatch`, `InvalidParameter`, a capacity refusal; and replies that cannot be
///   decoded (malformed JSON, wrong field types), since sending the same request again will not
///   change how the server answers it.
///
/// `remote_code` is the BCE code, or the legacy numeric code in decimal ("336100"); `request_id`
/// comes from the body's `requestId` (or `log_id`), else the `x-bce-request-id` header.
/// `retry_after` comes from the reply's headers (`retry_after_from_headers`).

#include <chrono>
#include <optional>
#include <string_view>

#include "qfscale/http/message.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::qianfan {

/// Well-known BCE codes (docs/QIANFAN-API.md §7 and the fake server's throttling convention).
inline constexpr std::string_view kAccessDenied = "AccessDenied";
inline constexpr std::string_view kInvalidAccessKeyId = "InvalidAccessKeyId";
inline constexpr std::string_view kSignatureDoesNotMatch = "SignatureDoesNotMatch";
inline constexpr std::string_view kRequestExpired = "RequestExpired";
inline constexpr std::string_view kRequestLimitExceeded = "RequestLimitExceeded";
inline constexpr std::string_view kInternalError = "InternalError";
/// ASSUMPTION: the documents do not name ScaleService's refusal code when the instance lacks
/// compute units; the fake server and the controller agree on this one.
inline constexpr std::string_view kInsufficientComputeUnits = "InsufficientComputeUnits";

/// True when ScaleService was refused because the instance lacks compute units: the controller
/// re-plans next tick instead of retrying.
[[nodiscard]] inline bool is_capacity_refusal(const util::Error& error) {
  return error.remote_code == kInsufficientComputeUnits;
}

/// Transient or Remote for a reply that is an error, from its HTTP status and remote code.
[[nodiscard]] util::ErrorCode classify(int http_status, std::string_view remote_code);

/// The longest wait a server may ask for and be believed; longer asks are treated as garbage.
inline constexpr std::chrono::milliseconds kMaxBelievableRetryAfter = std::chrono::hours{24};

/// How long the server asked the client to wait before retrying, from the reply headers (names
/// case-insensitive): `retry-after-ms` (integer milliseconds, the header the Qianfan JS SDK looks
/// up, docs/QIANFAN-API.md §5.1) first, else `Retry-After` (RFC 9110 §10.2.3) as delta-seconds or
/// as an IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`) taken relative to `now`; a date already past
/// means 0. Empty when neither header gives a usable value: malformed text, a sign, a fraction,
/// the obsolete RFC 850 / asctime date forms, or more than kMaxBelievableRetryAfter. An unusable
/// `retry-after-ms` falls back to `Retry-After`. Never fails: a bad hint is no hint.
[[nodiscard]] std::optional<std::chrono::milliseconds> retry_after_from_headers(
    const http::Headers& headers, util::SystemTime now);

/// The error a reply carries, or empty when the reply is a success envelope (2xx, no error
/// fields). Never fails: an undecodable non-2xx body is still an error with the HTTP status.
/// `action` names the call in the message ("DescribeService"); `now` is the client's wall clock
/// when the reply arrived, for a `Retry-After` given as a date.
[[nodiscard]] std::optional<util::Error> error_from_reply(const http::Response& response,
                                                          std::string_view action,
                                                          util::SystemTime now);

/// One sentence telling an operator what to do about `error`, e.g. for AccessDenied "check
/// that the access key has a Qianfan policy such as QianfanFullControlAccessPolicy". Empty when
/// there is nothing better than the message.
[[nodiscard]] std::string_view advice(const util::Error& error);

}  // namespace qfscale::qianfan
