#pragma once

/// Parsing of 5-field cron expressions (minute hour day-of-month month day-of-week) into
/// `CronSpec`. Accepts numbers, `*`, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b-c`,
/// month names JAN-DEC and day names SUN-SAT (any case), 7 as Sunday, and the macros
/// `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`.
/// Pure; no I/O.

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "qfscale/policy/policy.h"

namespace qfscale::policy {

/// Parses `text`. On failure returns every problem found, one message per bad field, each
/// naming the field, e.g. "hour: 25 is out of range, must be in 0-23".
[[nodiscard]] tl::expected<CronSpec, std::vector<std::string>> parse_cron(std::string_view text);

}  // namespace qfscale::policy
