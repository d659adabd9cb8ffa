#pragma once

// Private helpers shared by decision_json.cc, routes.cc and the controller's audit log.

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

/// Writes one ScaleCall's keys (instanceId, from, to, outcome, requestId, error) into the object
/// open in `w`: a decision's "calls" entries and the audit log's "scale" lines use the same keys.
void write_call_fields(JsonWriter& w, const model::ScaleCall& call);

}  // namespace qfscale::telemetry::detail
