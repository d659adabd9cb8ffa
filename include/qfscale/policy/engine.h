#pragma once

/// The recommendation engine: for one service and one tick, turns observed QPS into a replica
/// count, step by step, recording each step's output and reason (docs/DESIGN.md data flow step 2).
///
/// Stages, in order (model::Stage): metric window -> raw desired -> tolerance -> panic ->
/// stabilization -> rate limit -> schedule -> scale to zero -> clamp -> freeze. Every result holds
/// exactly one Step per stage in that order, so traces line up across ticks.
///
/// Pure: no clock reads, no I/O, no logging. Time arrives in `EngineInput::now`; everything the
/// engine remembers between ticks is in `EngineState`, a plain value that goes in and comes back
/// out, and that the controller persists. Every history in it is pruned to the longest window that
/// needs it, so its size stays flat however long the engine runs.
///
/// Semantics decisions (details in the stage comments in src/policy/engine*.cc):
/// - Scale events for rate limits are inferred from changes in the observed current count between
///   ticks, not from our own recommendations: a recommendation the allocator cut, a ScaleService
///   that failed, or a change made by someone else are all accounted for as they really happened.
///   An inferred event is stamped at the previous observation's time, i.e. when the decision that
///   caused it was made (the HPA stamps its events at decision time too).
/// - Raw desired is at least 1: zero is never a demand computation, only a scale-to-zero decision
///   (or an explicit fallbackReplicas / schedule maxReplicas of 0).
/// - current = 0: tolerance does not apply (the ratio is undefined); panic compares with
///   max(current, 1) ready replicas (Knative); a Percent scale-up policy grows from max(base, 1).
/// - Panic is left once a full metricWindow has passed since the panic condition last held.
/// - A frozen tick (not Serving, or model updating) returns the state unchanged.
/// - Seeding the scale-down window: when it holds no recommendation (first sight, a lost state
///   file, a crash loop, a gap longer than the window with the controller down or the metrics
///   missing, a forward clock step) and the tick recommends less than the current count, the
///   current count is remembered as this tick's recommendation, so the scale-down waits one full
///   window. With a 300 s window, current 5 and demand for 2 from t0: 5 at t0, t0 + 60 and
///   t0 + 299 (the seed is in (t - 300, t]), 2 at t0 + 300. The HPA (recordInitialRecommendation)
///   seeds both directions; here a scale-up is never seeded (it recommends more than the current
///   count), so a fresh start under a burst scales up, panic included, on its first tick. A 0 s
///   window seeds nothing.
/// - Clock steps never shorten a window. Entries stamped after `now` (the clock stepped back, or
///   the state was saved by a clock that was ahead) are clamped to `now`: recommendations, scale
///   events, the last observation, panic and idle times count as fresh. State stamped 10 min
///   ahead with 8 recommended, current 8 and demand for 1: 8 is held until now + 300 s (it was
///   cut to 1 before). QPS samples from ahead are dropped: demand is measured again now. A
///   forward step past every window empties them, and the seed above holds the count.
/// - A second tick at the same `now` (a repeated `policy eval` step) re-evaluates the previous
///   one if that recorded a recommendation: the new recommendation (or seed) replaces it.
/// - SLO sizing (target.slo): raw desired is ceil(C / replica_qps), C the capacity that keeps
///   P(wait > slo.wait) <= 1 - slo.attainment at the level above (the metricWindow average, or a
///   rising forecast) and the burstiness of the samples over forecast.window (slo_sizing.h).
///   Samples are then kept for forecast.window even with the forecast off. Replicas run at their
///   full rated qps (utilization is not used): 100 qps, Poisson, replica_qps 10 -> C = 100.458
///   -> 11; at 99.5 qps -> C = 99.958 -> 10. With slo.followLevelShifts the level is the newest
///   sample instead when it exceeds the level by more than Phi^-1(attainment) x sqrt(V / span +
///   Var(level)) (slo_sizing.h; V / tick + V / metricWindow for tick means): 1000 qps for 285 s,
///   then 1100 at a 15 s tick sizes for 1100 at once (threshold 1080.3), 1020 stays noise
///   (threshold 1026.3).
/// - An active schedule's minReplicas/maxReplicas replace replicas.min/max (policy.h), so besides
///   raising the floor or lowering the ceiling it may relax a bound (night min 0, peak max 50).

#include <optional>
#include <vector>

#include "qfscale/model/decision.h"
#include "qfscale/model/reason.h"
#include "qfscale/model/service.h"
#include "qfscale/model/units.h"
#include "qfscale/policy/policy.h"
#include "qfscale/util/clock.h"

namespace qfscale::policy {

/// What the controller observed for one service at one tick.
struct EngineInput {
  util::SystemTime now;
  std::optional<double> qps;  ///< empty when the metric source failed; negative/NaN count as empty
  double replica_qps = 0;     ///< resourceConfig.qps; <= 0 or NaN makes demand unknowable (missing)
  model::Replicas current;    ///< resourceConfig.replicasCount as observed now
  model::RunStatus run_status = model::RunStatus::Serving;
  bool model_updating = false;
  /// Fill every Step's `detail` (the worked numbers, for `policy eval`, the decisions API and the
  /// audit log). Formatting them is most of the cost of a decision, so a caller that will not
  /// show this tick's details can turn it off; every other field of the result is the same.
  bool explain = true;
  /// The seconds each QPS value averages over: a Prometheus rate's range, the Qianfan metric
  /// window, the simulator's --metric-span. target.slo reads the burstiness from the scatter of
  /// the values, which shrinks as they average over longer (slo_sizing.h, "The burstiness the
  /// engine can see"). 0: each value is the mean since the previous one (the tick).
  std::chrono::seconds sample_span{0};
  friend bool operator==(const EngineInput&, const EngineInput&) = default;
};

struct QpsSample {
  util::SystemTime at;
  double qps = 0;
  friend bool operator==(const QpsSample&, const QpsSample&) = default;
};

/// An unstabilized recommendation (the input of the stabilization stage), as the HPA keeps them.
struct TimedRecommendation {
  util::SystemTime at;
  model::Replicas replicas;
  friend bool operator==(const TimedRecommendation&, const TimedRecommendation&) = default;
};

/// A change of the observed replica count: `change` > 0 up, < 0 down.
struct ScaleEvent {
  util::SystemTime at;
  int change = 0;
  friend bool operator==(const ScaleEvent&, const ScaleEvent&) = default;
};

/// Everything the engine remembers about one service. Plain data, oldest entries first; the
/// controller serialises it field by field. Thread-safety: a value type; not synchronised.
struct EngineState {
  std::vector<QpsSample> samples;                    ///< within max(metricWindow, panic.window)
  std::vector<TimedRecommendation> recommendations;  ///< within the longest stabilization window
  std::vector<ScaleEvent> scale_events;              ///< within the longest rate-limit period
  std::optional<util::SystemTime> last_observed_at;  ///< time of the last non-frozen tick
  std::optional<model::Replicas> last_observed;      ///< current count seen then
  std::optional<util::SystemTime> panic_last_over;   ///< set while panicking: last over-threshold
  model::Replicas panic_max;                         ///< highest count recommended in this panic
  int metric_failures = 0;                           ///< consecutive ticks without usable QPS
  std::optional<util::SystemTime> idle_since;        ///< demand below activationQps since then

  [[nodiscard]] bool panicking() const { return panic_last_over.has_value(); }
  friend bool operator==(const EngineState&, const EngineState&) = default;
};

struct Recommendation {
  model::Replicas replicas;
  /// The floor in force: replicas.min, or the highest minReplicas of the active schedules,
  /// never above the ceiling in force (as the clamp stage applies it). The allocator reserves it
  /// first (capacity/request.h). Filled on frozen ticks too.
  model::Replicas floor;
  /// Not Serving, or a model update in progress (reason FrozenNotServing / FrozenUpdating): the
  /// count is held and the service is not scaled this tick.
  bool frozen = false;
  /// The deciding reason: that of the last step that acted. A step carries a reason other than
  /// None only when it changed the number or deliberately decided to keep it (WithinTolerance,
  /// PanicHold, MetricsMissing, Activated, staying at zero, Frozen*). None when no step acted.
  model::Reason reason = model::Reason::None;
  std::vector<model::Step> steps;  ///< one per model::Stage, in kAllStages order
  /// The demand figure raw desired is computed from: the metricWindow average, or the forecast
  /// when `forecast` sized for a rising trend (the metric-window step's detail shows both); with
  /// `target.slo`, the capacity that holds the SLO at that level (slo_sizing.h). Empty without a
  /// usable sample.
  std::optional<double> stable_qps;
  std::optional<double> panic_qps;  ///< panic.window average; empty as above or panic disabled
  bool panicking = false;
  friend bool operator==(const Recommendation&, const Recommendation&) = default;
};

struct EngineResult {
  Recommendation recommendation;
  EngineState state;
  friend bool operator==(const EngineResult&, const EngineResult&) = default;
};

/// One tick for one service. `state` is taken by value and the new state returned, so the
/// function is visibly pure (same policy, input and state -> same result) and a caller can keep
/// the old state; moving it in and out costs no copy:
///   `auto r = recommend(policy, input, std::move(state)); state = std::move(r.state);`
/// Ticks should come with non-decreasing `now`; a clock that steps back anyway has the state's
/// newer entries clamped to `now` first (see the semantics above), so no window gets shorter.
[[nodiscard]] EngineResult recommend(const Policy& policy, const EngineInput& input,
                                     EngineState state);

}  // namespace qfscale::policy
