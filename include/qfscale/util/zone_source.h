#pragma once

/// The one type through which time-zone data reaches the policy loader, the controller config
/// and the simulator: the loaders do no I/O themselves, the caller supplies zones.
/// `util::system_zone_source` (file.h) reads the system's zoneinfo; tests pass lambdas.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace qfscale::util {

/// Returns the TZif bytes of a zone such as "Asia/Shanghai", or nullopt when there is no such
/// zone. "UTC" never reaches it.
using ZoneSource = std::function<std::optional<std::string>(std::string_view zone_name)>;

}  // namespace qfscale::util
