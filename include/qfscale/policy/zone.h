#pragma once

/// Time zones for schedules: parsing of TZif files (RFC 8536, versions 1 to 4) into `ZoneRules`.
/// The bytes come from outside the module (see `util::system_zone_source`), so this stays pure.

#include <string>
#include <string_view>

#include "qfscale/policy/policy.h"
#include "qfscale/util/result.h"

namespace qfscale::policy {

/// Zone rules for UTC (offset 0, no transitions); needs no tz database.
[[nodiscard]] ZoneRules utc_zone();

/// Parses TZif bytes for zone `name`. Uses the 64-bit section of version 2+ files and the 32-bit
/// section of version 1 files. When the file's footer (a POSIX TZ string) has daylight-saving
/// rules, transitions are extended from the last listed one through `kZoneRulesLastYear`, so
/// "slim" tz files behave like "fat" ones. Fails with InvalidInput on malformed bytes.
[[nodiscard]] Result<ZoneRules> parse_tzif(std::string_view name, std::string_view bytes);

/// Last year for which transitions are generated from a TZif footer rule.
inline constexpr int kZoneRulesLastYear = 2100;

}  // namespace qfscale::policy
