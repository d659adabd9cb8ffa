#pragma once

/// Durations as written in policy files, the controller config and most flags: qfscale's one
/// duration grammar (util/duration.h) in whole seconds, e.g. `90s`, `5m`, `1h30m`, `0s`.

#include <chrono>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "qfscale/util/duration.h"

namespace qfscale::policy {

inline constexpr std::chrono::seconds kMaxDuration = util::kMaxDuration;

/// Parses a duration. The error is a sentence fragment saying what is allowed, e.g.
/// "has no unit, must be a duration such as 90s, 5m or 1h30m".
[[nodiscard]] tl::expected<std::chrono::seconds, std::string> parse_duration(std::string_view text);

/// The canonical spelling: `0s`, `45s`, `1m30s`, `1h30m`, `10h`. `parse_duration` reads it back.
[[nodiscard]] std::string format_duration(std::chrono::seconds d);

}  // namespace qfscale::policy
