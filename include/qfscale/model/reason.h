#pragma once

/// Why a step changed (or held) a replica count. One spelling, shared by metric labels, the
/// decisions API and the audit log; the set is closed so label cardinality stays bounded.

#include <array>
#include <optional>
#include <string_view>

namespace qfscale::model {

enum class Reason {
  None,              ///< the step left the number as it was, for no particular reason
  ScaleUp,           ///< demand above capacity: raw desired > current
  ScaleDown,         ///< demand below capacity: raw desired < current
  WithinTolerance,   ///< change suppressed: utilization inside the tolerance band
  PanicEntered,      ///< burst detected; panic mode holds the count from falling
  PanicHold,         ///< in panic mode, a scale-down was refused
  Stabilized,        ///< stabilization window chose a different recommendation
  RateLimited,       ///< scale-up/down rate policy capped the change
  ScheduleFloor,     ///< an active schedule raised the floor
  ScheduleCeiling,   ///< an active schedule lowered the ceiling
  ScaleToZero,       ///< idle long enough, went to zero
  Activated,         ///< woke from zero on activation QPS
  CappedMin,         ///< clamped up to replicas.min
  CappedMax,         ///< clamped down to replicas.max
  CappedCapacity,    ///< the allocator could not give all that was desired
  FrozenUpdating,    ///< isModelUpdating: no scaling
  FrozenNotServing,  ///< runStatus is not Serving: no scaling
  MetricsMissing,    ///< no usable QPS sample: held per onMetricsFailure
  MetricsFallback,   ///< no usable QPS for `after` ticks: went to fallbackReplicas
  /// The controller could not observe what it needs to act safely this tick (DescribeService or
  /// DescribeComputeUnit failed, or the resource type names no unit count): no scaling.
  ObserveFailed,
};

inline constexpr std::array kAllReasons = {
    Reason::None,
    Reason::ScaleUp,
    Reason::ScaleDown,
    Reason::WithinTolerance,
    Reason::PanicEntered,
    Reason::PanicHold,
    Reason::Stabilized,
    Reason::RateLimited,
    Reason::ScheduleFloor,
    Reason::ScheduleCeiling,
    Reason::ScaleToZero,
    Reason::Activated,
    Reason::CappedMin,
    Reason::CappedMax,
    Reason::CappedCapacity,
    Reason::FrozenUpdating,
    Reason::FrozenNotServing,
    Reason::MetricsMissing,
    Reason::MetricsFallback,
    Reason::ObserveFailed,
};

/// snake_case label value, e.g. "rate_limited", "frozen_updating".
[[nodiscard]] std::string_view to_string(Reason reason);
[[nodiscard]] std::optional<Reason> parse_reason(std::string_view text);

}  // namespace qfscale::model
