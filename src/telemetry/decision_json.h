#pragma once

// Private helpers shared by decision_json.cc and routes.cc.

#include <string>

#include "qfscale/model/decision.h"
#include "qfscale/util/clock.h"

#include "telemetry/json.h"

namespace qfscale::telemetry::detail {

/// "2023-11-14T22:13:20Z", or with milliseconds "2023-11-14T22:13:20.250Z" (UTC, RFC 3339).
/// Sub-millisecond parts are truncated towards the past.
[[nodiscard]] std::string rfc3339(util::SystemTime at);

/// Writes the object `decision_to_json` returns into `w` (so arrays of decisions need no copy).
void write_decision(JsonWriter& w, const model::Decision& decision);

}  // namespace qfscale::telemetry::detail
