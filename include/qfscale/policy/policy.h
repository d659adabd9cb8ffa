#pragma once

/// A scaling policy: how one service scales. Field names follow the Kubernetes HPA `behavior` API
/// where the idea is the same. `PolicySpec` is the plain data (defaults filled in); `Policy` is
/// the validated, immutable form that only `Policy::create` (used by the loader) can make.

#include <bitset>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/model/units.h"
#include "qfscale/util/diagnostic.h"
#include "qfscale/util/result.h"

namespace qfscale::policy {

using Seconds = std::chrono::seconds;
using SysSeconds = std::chrono::sys_seconds;

/// Limits that `validate` enforces (documented in policies/README.md).
inline constexpr int kMaxReplicas = 10000;               ///< replicas.max, schedule overrides
inline constexpr int kMaxScaleUpPercent = 100000;        ///< scaleUp Percent policy value
inline constexpr int kMaxMetricsFailureAfter = 1000;     ///< onMetricsFailure.after (ticks)
inline constexpr Seconds kMaxMetricWindow{3600};         ///< metricWindow, panic.window, forecast.*
inline constexpr Seconds kMaxStabilizationWindow{3600};  ///< as the HPA
inline constexpr Seconds kMaxRateLimitPeriod{1800};      ///< as the HPA's periodSeconds
inline constexpr Seconds kMaxIdleFor{24 * 3600};         ///< scaleToZero.idleFor
inline constexpr Seconds kMaxScheduleDuration{31 * 24 * 3600};
inline constexpr Seconds kMaxSloWait{3600};          ///< target.slo.wait
inline constexpr double kMinSloAttainment = 0.5;     ///< target.slo.attainment, as a fraction
inline constexpr double kMaxSloAttainment = 0.9999;  ///< ln(1 / (1 - a)) stays finite

/// Size for a service level instead of a utilization (target.slo): at least `attainment` of the
/// requests wait no longer than `wait` in the queue in front of the ready replicas. The engine
/// derives the headroom from the burstiness it observes (engine.h, "SLO sizing").
struct SloTarget {
  Seconds wait{5};           ///< the longest acceptable queueing wait, [1s, 1h]
  double attainment = 0.99;  ///< share of requests within `wait`, [0.5, 0.9999]
  /// Size for the latest tick's demand when it is further above the level than noise explains
  /// at the SLO's odds: a level shift is met one metricWindow sooner (slo_sizing.h).
  bool follow_level_shifts = false;
  friend bool operator==(const SloTarget&, const SloTarget&) = default;
};

struct Target {
  double utilization = 0.7;  ///< of resourceConfig.qps per replica, in (0, 1]; unused with slo
  /// Set: size for this service level (replicas run at their full resourceConfig.qps plus the
  /// headroom the SLO needs); `utilization` is then not used. The loader refuses both in a file.
  std::optional<SloTarget> slo;
  /// No change while |ratio - 1| <= tolerance, in [0, 1); scaleUp/scaleDown.tolerance override
  /// it for their direction.
  double tolerance = 0.1;
  friend bool operator==(const Target&, const Target&) = default;
};

struct ReplicaBounds {
  model::Replicas min{1};
  model::Replicas max{20};
  friend bool operator==(const ReplicaBounds&, const ReplicaBounds&) = default;
};

/// Knative-style burst mode.
struct Panic {
  bool enabled = true;
  Seconds window{6};
  double threshold = 2.0;  ///< panic-window demand / current capacity that enters panic
  friend bool operator==(const Panic&, const Panic&) = default;
};

/// Sizes for the demand expected when a replica started now would be ready: the trend of the
/// samples over `window` (a least-squares line) extended `horizon` past now. Only a rising trend
/// is used; a falling one is left to the stabilization window and rate limits, so a forecast never
/// scales down ahead of demand.
struct Forecast {
  bool enabled = false;
  Seconds horizon{90};  ///< the replicas' startup delay: how far ahead a scale-up must look
  Seconds window{300};  ///< samples the trend is fitted to
  friend bool operator==(const Forecast&, const Forecast&) = default;
};

enum class RateLimitType { Percent, Replicas };
enum class Select { Max, Min, Disabled };

/// The words the policy file uses ("Percent", "Max", ...); `to_yaml` and the engine's step
/// details print the same ones, so what a trace shows can be pasted back into a policy.
[[nodiscard]] std::string_view to_string(RateLimitType type);
[[nodiscard]] std::string_view to_string(Select select);

struct RateLimit {
  RateLimitType type = RateLimitType::Percent;
  int value = 100;
  Seconds period{15};
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

/// HPA `HPAScalingRules`.
struct ScalingRules {
  Seconds stabilization_window{0};
  Select select = Select::Max;
  std::vector<RateLimit> policies;
  /// This direction's tolerance (KEP-4951), in [0, 1); unset = target.tolerance. Scale-up uses
  /// scaleUp's when ratio > 1, scale-down scaleDown's when ratio < 1.
  std::optional<double> tolerance;
  friend bool operator==(const ScalingRules&, const ScalingRules&) = default;
};

struct ScaleToZero {
  bool enabled = false;
  Seconds idle_for{600};
  double activation_qps = 0.5;
  friend bool operator==(const ScaleToZero&, const ScaleToZero&) = default;
};

/// A parsed 5-field cron expression (minute hour day-of-month month day-of-week), in local time.
/// Bit i set = value i allowed. Day-of-week 0 = Sunday (7 is folded to 0 by the parser).
/// As in Vixie cron, when both day fields are restricted a day matches if either does.
struct CronSpec {
  std::string text;
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  ///< bits 1..31
  std::bitset<13> months;         ///< bits 1..12
  std::bitset<7> days_of_week;
  bool day_of_month_restricted = false;
  bool day_of_week_restricted = false;
  friend bool operator==(const CronSpec&, const CronSpec&) = default;
};

/// UTC offsets of a time zone, loaded once from the system tz database by the loader so that
/// the engine stays pure. `transitions` is sorted; before the first one `initial_offset` holds.
struct ZoneRules {
  std::string name;  ///< "Asia/Shanghai", "UTC"
  std::chrono::seconds initial_offset{0};
  struct Transition {
    SysSeconds at;
    std::chrono::seconds offset;
    friend bool operator==(const Transition&, const Transition&) = default;
  };
  std::vector<Transition> transitions;
  [[nodiscard]] std::chrono::seconds offset_at(SysSeconds t) const;
  friend bool operator==(const ZoneRules&, const ZoneRules&) = default;
};

/// While active (from a cron fire time for `duration`), min/max replicas are overridden.
struct Schedule {
  CronSpec cron;
  Seconds duration{3600};
  ZoneRules zone;
  std::optional<model::Replicas> min_replicas;
  std::optional<model::Replicas> max_replicas;
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

enum class MetricsFailureAction { Hold, Fallback };

struct OnMetricsFailure {
  int after = 3;  ///< consecutive failed ticks before the action applies
  MetricsFailureAction action = MetricsFailureAction::Hold;
  model::Replicas fallback_replicas{0};
  friend bool operator==(const OnMetricsFailure&, const OnMetricsFailure&) = default;
};

/// Every field with its default. The loader fills this from YAML, then validates.
struct PolicySpec {
  std::string name = "unnamed";
  Target target;
  ReplicaBounds replicas;
  Seconds metric_window{60};
  Panic panic;
  Forecast forecast;
  ScalingRules scale_up{.stabilization_window = Seconds{0},
                        .select = Select::Max,
                        .policies = {{RateLimitType::Percent, 100, Seconds{15}},
                                     {RateLimitType::Replicas, 4, Seconds{15}}}};
  ScalingRules scale_down{.stabilization_window = Seconds{300},
                          .select = Select::Max,
                          .policies = {{RateLimitType::Percent, 100, Seconds{15}}}};
  ScaleToZero scale_to_zero;
  std::vector<Schedule> schedules;
  OnMetricsFailure on_metrics_failure;
  friend bool operator==(const PolicySpec&, const PolicySpec&) = default;
};

/// Checks every rule of a spec (ranges, min <= max, scale-to-zero needs min 0, …) and returns
/// all problems with field paths (no line numbers; the loader adds those).
[[nodiscard]] util::Diagnostics validate(const PolicySpec& spec);

/// Immutable, validated policy. Thread-safety: immutable, safe to share.
class Policy {
 public:
  /// Fails with InvalidInput listing every diagnostic from `validate`.
  [[nodiscard]] static Result<Policy> create(PolicySpec spec);
  [[nodiscard]] const PolicySpec& spec() const { return *spec_; }
  [[nodiscard]] const std::string& name() const { return spec_->name; }
  /// Phi^-1(target.slo.attainment) (2.326 at 99%; 0 without target.slo): solved once here, so a
  /// tick never solves for it.
  [[nodiscard]] double slo_z() const { return slo_z_; }

 private:
  Policy(std::shared_ptr<const PolicySpec> spec, double slo_z)
      : spec_(std::move(spec)), slo_z_(slo_z) {}
  std::shared_ptr<const PolicySpec> spec_;
  double slo_z_ = 0;
};

}  // namespace qfscale::policy
