#pragma once

/// The record of one decision for one service at one tick: inputs, every engine step, the
/// allocation and the actuation outcome. Metrics, /api/v1/decisions, the audit log and the
/// simulator all read this one type.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/model/ids.h"
#include "qfscale/model/reason.h"
#include "qfscale/model/units.h"
#include "qfscale/util/clock.h"

namespace qfscale::model {

/// Engine stages in the order they run.
enum class Stage {
  MetricWindow,
  RawDesired,
  Tolerance,
  Panic,
  Stabilization,
  RateLimit,
  Schedule,
  ScaleToZero,
  Clamp,
  Freeze,
};

inline constexpr std::array kAllStages = {
    Stage::MetricWindow, Stage::RawDesired, Stage::Tolerance,   Stage::Panic, Stage::Stabilization,
    Stage::RateLimit,    Stage::Schedule,   Stage::ScaleToZero, Stage::Clamp, Stage::Freeze,
};

/// snake_case, e.g. "raw_desired".
[[nodiscard]] std::string_view to_string(Stage stage);

/// One stage's output. `changed` is true when this stage moved the number; `reason` says why
/// (or why it held). `detail` carries the worked numbers for humans ("qps 12.0 / (4 x 5.0 x 0.7)").
struct Step {
  Stage stage = Stage::MetricWindow;
  Replicas output;
  bool changed = false;
  Reason reason = Reason::None;
  std::string detail;

  friend bool operator==(const Step&, const Step&) = default;
};

enum class ActuationOutcome {
  NotNeeded,  ///< granted equals current
  Applied,    ///< ScaleService succeeded
  DryRun,     ///< would have called ScaleService
  Failed,     ///< ScaleService failed after retries
  Refused,    ///< ScaleService refused for capacity; re-planned next tick
  Skipped,    ///< frozen or nothing to do this tick
};

[[nodiscard]] std::string_view to_string(ActuationOutcome outcome);

/// One ScaleService call (made, or in dry-run, only planned).
struct ScaleCall {
  InstanceId instance;
  Replicas from;
  Replicas to;
  ActuationOutcome outcome = ActuationOutcome::NotNeeded;
  std::string request_id;
  std::string error;  ///< empty on success

  friend bool operator==(const ScaleCall&, const ScaleCall&) = default;
};

struct Decision {
  ServiceId service;
  util::SystemTime at;
  // inputs
  std::optional<double> qps;  ///< empty when metrics were missing
  double replica_qps = 0;
  Replicas current;
  // engine
  std::vector<Step> steps;
  Replicas recommended;          ///< the engine's answer
  Reason reason = Reason::None;  ///< the deciding reason (last step that changed, or hold reason)
  // allocation
  /// What the capacity allocator granted of `recommended` (the count the service is scaled to;
  /// `current` when frozen or when nothing could be sent). Operator-facing names predate this
  /// field and keep their spelling: the decisions API and audit log write it as
  /// `allocation.desired`, the exporter as `qfscale_service_desired_replicas`.
  Replicas granted;
  Replicas unmet;  ///< recommended - granted when capacity ran out
  // actuation
  std::vector<ScaleCall> calls;
  ActuationOutcome outcome = ActuationOutcome::NotNeeded;
  /// What went wrong for this service this tick (its DescribeService, its metrics, a call), one
  /// sentence each with the cause; empty when nothing did. Never secrets.
  std::vector<std::string> errors;

  friend bool operator==(const Decision&, const Decision&) = default;
};

}  // namespace qfscale::model
