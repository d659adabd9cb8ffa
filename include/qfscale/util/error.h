#pragma once

/// Error vocabulary shared by every module. Codes say what the caller should do next:
/// fix the input, retry, give up on a remote refusal, or report a bug.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace qfscale::util {

enum class ErrorCode {
  InvalidInput,  ///< config, policy, request to our server: the `error="spec"` label
  Transient,     ///< network, timeout, 5xx, throttling: retry with backoff and jitter
  Remote,        ///< a definite refusal from a remote API (e.g. AccessDenied): no retry
  Internal,      ///< a bug
};

std::string_view to_string(ErrorCode code);

/// A failure with a chain of context, innermost first in `context` order of addition.
/// `remote_code`, `request_id` and `http_status` are filled when a remote API answered;
/// `retry_after` when its reply also said how long to wait before trying again.
/// Thread-safety: a value type; not synchronised.
struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::vector<std::string> context;
  std::string remote_code;  ///< e.g. "AccessDenied", "RequestLimitExceeded"
  std::string request_id;
  int http_status = 0;
  /// The server asked not to retry sooner than this (Retry-After); empty when it did not say.
  std::optional<std::chrono::milliseconds> retry_after;

  /// Adds what was being done when the error happened, like Go's `%w`.
  [[nodiscard]] Error with_context(std::string what) &&;
  [[nodiscard]] Error with_context(std::string what) const&;
  [[nodiscard]] bool retryable() const { return code == ErrorCode::Transient; }
  /// "outer: inner: message" — safe to log (never contains credentials by construction).
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const Error&, const Error&) = default;
};

[[nodiscard]] Error make_error(ErrorCode code, std::string message);

}  // namespace qfscale::util

template <>
struct fmt::formatter<qfscale::util::Error> : fmt::formatter<std::string_view> {
  auto format(const qfscale::util::Error& e, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(e.to_string(), ctx);
  }
};
