#pragma once

/// One decision record as JSON: served by /api/v1/decisions and written by the controller's
/// audit log, which shares these functions so both spell a decision and a ScaleCall the same way.

#include <string>

#include "qfscale/model/decision.h"
#include "qfscale/util/json_writer.h"

namespace qfscale::telemetry {

/// The JSON object for one decision, as served by /api/v1/decisions and written to the audit
/// log: `service`, `at` (RFC 3339 UTC), `inputs{qps (null when missing), replicaQps, current}`,
/// `steps[{stage, output, changed, reason, detail}]`, `recommended`, `reason`,
/// `allocation{desired (= Decision::granted), unmet}`, `calls[{instanceId, from, to, outcome,
/// requestId, error}]`, `outcome`, `errors[]` (what went wrong for the service this tick, one
/// sentence each). One line, no trailing newline; strings escaped, invalid UTF-8 replaced by
/// U+FFFD.
[[nodiscard]] std::string decision_to_json(const model::Decision& decision);

/// Writes the object `decision_to_json` returns into `w` (so arrays of decisions need no copy).
void write_decision(util::JsonWriter& w, const model::Decision& decision);

/// Writes one ScaleCall's keys (instanceId, from, to, outcome, requestId, error) into the object
/// open in `w`: a decision's "calls" entries and the audit log's "scale" lines use the same keys.
void write_call_fields(util::JsonWriter& w, const model::ScaleCall& call);

}  // namespace qfscale::telemetry
