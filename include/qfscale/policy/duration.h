#pragma once

/// Durations as written in policy files: one or more `<digits><unit>` parts with unit `h`, `m` or
/// `s`, e.g. `90s`, `5m`, `1h30m`, `0s`. Whole seconds only; no sign, no fractions, no bare
/// numbers (a bare `60` is ambiguous between seconds and minutes, so it is refused).

#include <chrono>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace qfscale::policy {

/// Longest accepted duration: 100 days, far above any window a policy needs and far below
/// overflow when the engine adds it to a time point.
inline constexpr std::chrono::seconds kMaxDuration{100LL * 24 * 3600};

/// Parses a duration. The error is a sentence fragment saying what is allowed, e.g.
/// "has no unit, must be a duration such as 90s, 5m or 1h30m".
[[nodiscard]] tl::expected<std::chrono::seconds, std::string> parse_duration(std::string_view text);

/// The canonical spelling: `0s`, `45s`, `1m30s`, `1h30m`, `10h`. `parse_duration` reads it back.
[[nodiscard]] std::string format_duration(std::chrono::seconds d);

}  // namespace qfscale::policy
