#pragma once

/// Private to the engine: the per-tick working set shared by the stage functions, and the
/// stages themselves. Each stage takes its input count, appends exactly one Step and returns its
/// output count. Split by concern: engine.cc (orchestration, freeze, metrics, raw desired,
/// tolerance), engine_dynamics.cc (panic, stabilization, rate limits), engine_bounds.cc
/// (schedules, scale to zero, clamp).

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "qfscale/policy/engine.h"

namespace qfscale::policy::detail {

/// Slack for comparisons that are exact in decimal but not in binary floating point, e.g.
/// 22 / (4 x 5) = 1.1 but 22.0 / 20.0 - 1 = 0.10000000000000009 in doubles.
inline constexpr double kEpsilon = 1e-9;

/// ceil(x) for a non-negative replica count, tolerant of x = 3.0000000000000004; capped so that
/// absurd inputs cannot overflow an int.
[[nodiscard]] int ceil_replicas(double x);

/// The state of one tick while the stages run.
struct Tick {
  const PolicySpec& spec;
  double slo_z = 0;  ///< Policy::slo_z()
  const EngineInput& input;
  EngineState& state;
  Recommendation& rec;
  int current = 0;
  double per_replica = 0;  ///< replica_qps x utilization: the QPS one replica should serve
  std::optional<double> stable_qps;
  std::optional<double> panic_qps;
  std::optional<int> schedule_floor;  ///< highest minReplicas of the active schedules: replaces min
  std::optional<int>
      schedule_ceiling;  ///< lowest maxReplicas of the active schedules: replaces max
  /// The previous tick had the same `now` and recorded a recommendation: this tick replaces it.
  bool reevaluation = false;

  [[nodiscard]] bool metrics_ok() const { return stable_qps.has_value(); }
  /// Whether Steps carry their `detail` (EngineInput::explain).
  [[nodiscard]] bool explain() const { return input.explain; }
  /// Appends a Step; `changed` is `output != input`. `detail` is called for the Step's detail
  /// text only when the tick explains itself, so the formatting costs nothing otherwise.
  template <std::invocable Detail>
  int step(model::Stage stage, int in, int out, model::Reason reason, Detail&& detail) {
    return append(stage, in, out, reason,
                  explain() ? std::string(std::forward<Detail>(detail)()) : std::string());
  }
  /// Appends an unchanged Step saying why the stage did nothing.
  int skip(model::Stage stage, int in, std::string_view why);

 private:
  int append(model::Stage stage, int in, int out, model::Reason reason, std::string detail);
};

// engine_dynamics.cc
[[nodiscard]] int panic_stage(Tick& tick, int in);
[[nodiscard]] int stabilization_stage(Tick& tick, int in);
[[nodiscard]] int rate_limit_stage(Tick& tick, int in);

/// HPA rate-limit bounds for one direction, from the scale events within each policy's period.
/// Empty means unlimited (no policies). Exposed for the stage and its detail text, which is
/// left empty unless `explain`.
struct RateBound {
  std::optional<int> limit;
  std::string detail;
};
[[nodiscard]] RateBound scale_up_bound(const ScalingRules& rules, int current,
                                       const std::vector<ScaleEvent>& events, util::SystemTime now,
                                       bool explain = true);
[[nodiscard]] RateBound scale_down_bound(const ScalingRules& rules, int current,
                                         const std::vector<ScaleEvent>& events,
                                         util::SystemTime now, bool explain = true);

// engine_bounds.cc
/// Sets the tick's schedule floor and ceiling from the schedules active at `now`; returns how
/// many are active.
int find_active_schedules(Tick& tick);
/// replicas.min, or the schedule floor, capped by the ceiling in force.
[[nodiscard]] int floor_in_force(const Tick& tick);
[[nodiscard]] int schedule_stage(Tick& tick, int in);
[[nodiscard]] int scale_to_zero_stage(Tick& tick, int in);
[[nodiscard]] int clamp_stage(Tick& tick, int in);

}  // namespace qfscale::policy::detail
