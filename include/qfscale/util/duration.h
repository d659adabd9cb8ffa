#pragma once

/// The one duration grammar of qfscale, for files (policies, the controller config, the fake's
/// scenario) and command-line flags alike: one or more `<digits><unit>` parts, e.g. `90s`, `5m`,
/// `1h30m`, `1m30s`, `0s`; units `h`, `m`, `s`, and `ms` where sub-second values make sense
/// (`500ms`, `1s500ms`). No sign, no fractions, no bare numbers (a bare `60` is ambiguous
/// between seconds and minutes, so it is refused). At most 100 days.

#include <chrono>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace qfscale::util {

/// Longest accepted duration: 100 days, far above any window a policy needs and far below
/// overflow when the engine adds it to a time point.
inline constexpr std::chrono::seconds kMaxDuration{100LL * 24 * 3600};

/// Whole seconds (`ms` is an unknown unit), or milliseconds (`ms` allowed).
enum class DurationPrecision { Seconds, Milliseconds };

/// Parses a duration. The error is a sentence fragment saying what is allowed, e.g.
/// "has no unit, must be a duration such as 90s, 5m or 1h30m". "1m30s" -> 90000 ms;
/// "1s500ms" -> 1500 ms with Milliseconds, an unknown unit 'ms' with Seconds.
[[nodiscard]] tl::expected<std::chrono::milliseconds, std::string> parse_duration(
    std::string_view text, DurationPrecision precision);

}  // namespace qfscale::util
