#include <charconv>

#include "qfscale/model/decision.h"
#include "qfscale/model/reason.h"
#include "qfscale/model/service.h"
#include "qfscale/model/units.h"

namespace qfscale::model {

std::optional<ComputeUnits> units_per_replica(std::string_view resource_type) {
  const auto dash = resource_type.rfind('-');
  const auto digits =
      dash == std::string_view::npos ? resource_type : resource_type.substr(dash + 1);
  int units = 0;
  const auto* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, units);
  if (digits.empty() || ec != std::errc{} || ptr != end || units <= 0) return std::nullopt;
  return ComputeUnits{units};
}

std::string_view to_string(RunStatus status) {
  switch (status) {
    case RunStatus::New:
      return "New";
    case RunStatus::Deploying:
      return "Deploying";
    case RunStatus::Serving:
      return "Serving";
    case RunStatus::Failed:
      return "Failed";
    case RunStatus::Stopped:
      return "Stopped";
    case RunStatus::Done:
      return "Done";
    case RunStatus::Unknown:
      return "Unknown";
  }
  return "Unknown";
}

RunStatus parse_run_status(std::string_view text) {
  for (auto s : {RunStatus::New, RunStatus::Deploying, RunStatus::Serving, RunStatus::Failed,
                 RunStatus::Stopped, RunStatus::Done}) {
    if (to_string(s) == text) return s;
  }
  return RunStatus::Unknown;
}

std::string_view to_string(Reason reason) {
  switch (reason) {
    case Reason::None:
      return "none";
    case Reason::ScaleUp:
      return "scale_up";
    case Reason::ScaleDown:
      return "scale_down";
    case Reason::WithinTolerance:
      return "within_tolerance";
    case Reason::PanicEntered:
      return "panic_entered";
    case Reason::PanicHold:
      return "panic_hold";
    case Reason::Stabilized:
      return "stabilized";
    case Reason::RateLimited:
      return "rate_limited";
    case Reason::ScheduleFloor:
      return "schedule_floor";
    case Reason::ScheduleCeiling:
      return "schedule_ceiling";
    case Reason::ScaleToZero:
      return "scale_to_zero";
    case Reason::Activated:
      return "activated";
    case Reason::CappedMin:
      return "capped_min";
    case Reason::CappedMax:
      return "capped_max";
    case Reason::CappedCapacity:
      return "capped_capacity";
    case Reason::FrozenUpdating:
      return "frozen_updating";
    case Reason::FrozenNotServing:
      return "frozen_not_serving";
    case Reason::MetricsMissing:
      return "metrics_missing";
    case Reason::MetricsFallback:
      return "metrics_fallback";
    case Reason::ObserveFailed:
      return "observe_failed";
  }
  return "none";
}

std::optional<Reason> parse_reason(std::string_view text) {
  for (auto r : kAllReasons) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

std::string_view to_string(Stage stage) {
  switch (stage) {
    case Stage::MetricWindow:
      return "metric_window";
    case Stage::RawDesired:
      return "raw_desired";
    case Stage::Tolerance:
      return "tolerance";
    case Stage::Panic:
      return "panic";
    case Stage::Stabilization:
      return "stabilization";
    case Stage::RateLimit:
      return "rate_limit";
    case Stage::Schedule:
      return "schedule";
    case Stage::ScaleToZero:
      return "scale_to_zero";
    case Stage::Clamp:
      return "clamp";
    case Stage::Freeze:
      return "freeze";
  }
  return "metric_window";
}

std::string_view to_string(ActuationOutcome outcome) {
  switch (outcome) {
    case ActuationOutcome::NotNeeded:
      return "not_needed";
    case ActuationOutcome::Applied:
      return "applied";
    case ActuationOutcome::DryRun:
      return "dry_run";
    case ActuationOutcome::Failed:
      return "failed";
    case ActuationOutcome::Refused:
      return "refused";
    case ActuationOutcome::Skipped:
      return "skipped";
  }
  return "not_needed";
}

}  // namespace qfscale::model
