#pragma once

// Private: the text handling shared by the Prometheus instant source (prometheus_source.cc) and
// the range reader (prometheus_range.cc): URL encoding, timestamps, sample values, excerpts.

#include <optional>
#include <string>
#include <string_view>

#include "qfscale/util/clock.h"

namespace qfscale::demand::detail {

/// The start of a body for a message: at most 120 bytes, control characters as spaces.
[[nodiscard]] std::string snippet(std::string_view body);

/// Prometheus writes sample values with Go's FormatFloat: "1.5", "NaN", "+Inf", "-Inf";
/// other implementations may use exponents. Returns nullopt when the text is not a number.
[[nodiscard]] std::optional<double> parse_sample_value(std::string_view text);

/// RFC 3986 percent-encoding; unreserved characters kept.
[[nodiscard]] std::string percent_encode(std::string_view text);

/// Unix seconds with millisecond precision and no trailing zeros: "1700000000.25".
[[nodiscard]] std::string format_unix_seconds(util::SystemTime t);

}  // namespace qfscale::demand::detail
