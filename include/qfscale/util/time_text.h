#pragma once

/// Wall times typed on the command line (`--start`, `--timestamp`) and written in JSON (the
/// decisions API, the audit log, the state file): one format everywhere.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/util/clock.h"

namespace qfscale::util {

/// What every time flag's help and error say it accepts.
inline constexpr std::string_view kTimeFormats =
    "RFC 3339 like 2025-01-02T03:04:05Z (or with an offset, 2025-01-02T11:04:05+08:00) or Unix "
    "seconds like 1735787045";

/// Unix seconds from `text`: a non-negative whole number of Unix seconds, or RFC 3339 with whole
/// seconds, `T` (or `t` or a space) between date and time, and `Z` or `±HH:MM`.
/// "1735787045", "2025-01-02T03:04:05Z" and "2025-01-02T11:04:05+08:00" all give 1735787045;
/// "2025-02-30T00:00:00Z", "-5", "1.5" and "2025-01-02" give nullopt.
[[nodiscard]] std::optional<std::int64_t> parse_wall_time(std::string_view text);

/// "2023-11-14T22:13:20Z", or with milliseconds "2023-11-14T22:13:20.250Z" (UTC, RFC 3339).
/// Sub-millisecond parts are truncated towards the past: 1 ms before the epoch is
/// "1969-12-31T23:59:59.999Z".
[[nodiscard]] std::string format_rfc3339(SystemTime at);

}  // namespace qfscale::util
