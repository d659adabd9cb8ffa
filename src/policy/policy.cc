#include "qfscale/policy/policy.h"

#include <algorithm>
#include <cmath>

#include "qfscale/policy/duration.h"
#include "qfscale/policy/slo_sizing.h"

namespace qfscale::policy {

std::chrono::seconds ZoneRules::offset_at(SysSeconds t) const {
  // The last transition at or before t decides; before the first one, the initial offset.
  auto it = std::upper_bound(transitions.begin(), transitions.end(), t,
                             [](SysSeconds at, const Transition& tr) { return at < tr.at; });
  return it == transitions.begin() ? initial_offset : std::prev(it)->offset;
}

std::string_view to_string(RateLimitType type) {
  switch (type) {
    case RateLimitType::Percent:
      return "Percent";
    case RateLimitType::Replicas:
      return "Replicas";
  }
  return "Percent";
}

std::string_view to_string(Select select) {
  switch (select) {
    case Select::Max:
      return "Max";
    case Select::Min:
      return "Min";
    case Select::Disabled:
      return "Disabled";
  }
  return "Max";
}

namespace {

class Validator {
 public:
  explicit Validator(util::Diagnostics& out) : out_(out) {}

  void add(std::string path, std::string message) {
    out_.push_back(util::Diagnostic{.path = std::move(path), .message = std::move(message)});
  }

  /// Knative wording: "1.5 is out of range, must be in (0, 1]".
  template <class T>
  void range(const std::string& path, T value, T low, T high, bool low_open = false,
             bool high_open = false) {
    const bool above_low = low_open ? value > low : value >= low;
    const bool below_high = high_open ? value < high : value <= high;
    if (!(above_low && below_high)) {
      add(path, fmt::format("{} is out of range, must be in {}{}, {}{}", value,
                            low_open ? "(" : "[", low, high, high_open ? ")" : "]"));
    }
  }

  void count(const std::string& path, int value, int low, int high) {
    range(path, value, low, high);
  }

  void duration(const std::string& path, Seconds value, Seconds low, Seconds high) {
    if (value < low || value > high) {
      add(path, fmt::format("{} is out of range, must be in [{}, {}]", format_duration(value),
                            format_duration(low), format_duration(high)));
    }
  }

 private:
  util::Diagnostics& out_;
};

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; };
  return std::all_of(name.begin(), name.end(), ok) && name.front() != '-' && name.back() != '-';
}

std::string_view direction_word(bool up) { return up ? "up" : "down"; }

void validate_rules(Validator& v, const ScalingRules& rules, const std::string& path, bool up) {
  if (rules.tolerance) v.range(path + ".tolerance", *rules.tolerance, 0.0, 1.0, false, true);
  v.duration(path + ".stabilizationWindow", rules.stabilization_window, Seconds{0},
             kMaxStabilizationWindow);
  if (rules.policies.empty() && rules.select != Select::Disabled) {
    // The HPA discards rules without policies as invalid; "no policies" is not "no limit" here
    // either, so a policy says explicitly whether a direction is limited or disabled.
    v.add(path + ".policies",
          fmt::format("is empty, must list at least one policy (or set select: Disabled to never "
                      "scale {})",
                      direction_word(up)));
  }
  for (std::size_t i = 0; i < rules.policies.size(); ++i) {
    const auto& p = rules.policies[i];
    const auto item = fmt::format("{}.policies[{}]", path, i);
    if (p.type == RateLimitType::Percent) {
      // Scaling down by more than 100% would remove more replicas than exist.
      v.count(item + ".value", p.value, 1, up ? kMaxScaleUpPercent : 100);
    } else {
      v.count(item + ".value", p.value, 1, kMaxReplicas);
    }
    v.duration(item + ".period", p.period, Seconds{1}, kMaxRateLimitPeriod);
  }
}

/// False when a cron expression can never fire because the day of month does not exist in any
/// selected month (e.g. "0 0 30 2 *") and the day of week does not widen it.
bool cron_can_fire(const CronSpec& c) {
  if (c.minutes.none() || c.hours.none() || c.days_of_month.none() || c.months.none() ||
      c.days_of_week.none()) {
    return false;
  }
  if (!c.day_of_month_restricted || c.day_of_week_restricted) return true;
  constexpr int kDaysInMonth[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (std::size_t m = 1; m <= 12; ++m) {
    if (!c.months[m]) continue;
    for (std::size_t d = 1; d <= static_cast<std::size_t>(kDaysInMonth[m]); ++d) {
      if (c.days_of_month[d]) return true;
    }
  }
  return false;
}

}  // namespace

util::Diagnostics validate(const PolicySpec& spec) {
  util::Diagnostics out;
  Validator v(out);

  if (!valid_name(spec.name)) {
    v.add("metadata.name",
          fmt::format("'{}' is not a valid name, must be 1-63 lowercase letters, digits or '-', "
                      "starting and ending with a letter or digit",
                      spec.name));
  }
  v.range("spec.target.utilization", spec.target.utilization, 0.0, 1.0, /*low_open=*/true);
  if (const auto& slo = spec.target.slo) {
    v.duration("spec.target.slo.wait", slo->wait, Seconds{1}, kMaxSloWait);
    if (!(slo->attainment >= kMinSloAttainment && slo->attainment <= kMaxSloAttainment)) {
      v.add("spec.target.slo.attainment",
            fmt::format("{}% is out of range, must be in [{}%, {}%]", slo->attainment * 100,
                        kMinSloAttainment * 100, kMaxSloAttainment * 100));
    }
  }
  v.range("spec.target.tolerance", spec.target.tolerance, 0.0, 1.0, false, /*high_open=*/true);

  v.count("spec.replicas.min", spec.replicas.min.value, 0, kMaxReplicas);
  v.count("spec.replicas.max", spec.replicas.max.value, 1, kMaxReplicas);
  if (spec.replicas.min > spec.replicas.max) {
    v.add("spec.replicas.min",
          fmt::format("{} is greater than spec.replicas.max ({}), must be <= max",
                      spec.replicas.min, spec.replicas.max));
  }

  v.duration("spec.metricWindow", spec.metric_window, Seconds{1}, kMaxMetricWindow);

  // Panic values are checked even when disabled (a bad value is a bad value); only the relation
  // to metricWindow is skipped, so disabling panic never trips over the default 6s window.
  v.duration("spec.panic.window", spec.panic.window, Seconds{1}, kMaxMetricWindow);
  const bool metric_window_ok =
      spec.metric_window >= Seconds{1} && spec.metric_window <= kMaxMetricWindow;
  if (spec.panic.enabled && metric_window_ok && spec.panic.window > spec.metric_window) {
    v.add("spec.panic.window",
          fmt::format("{} is longer than spec.metricWindow ({}), must be in [1s, metricWindow]",
                      format_duration(spec.panic.window), format_duration(spec.metric_window)));
  }
  // Knative's panic-threshold-percentage is validated to [110, 1000].
  v.range("spec.panic.threshold", spec.panic.threshold, 1.1, 10.0);

  v.duration("spec.forecast.horizon", spec.forecast.horizon, Seconds{0}, kMaxMetricWindow);
  // A trend needs three samples newer than now - window: 60 s holds four at the default 15 s
  // tick (30 s would hold only two, and the forecast would silently never act).
  v.duration("spec.forecast.window", spec.forecast.window, Seconds{60}, kMaxMetricWindow);

  validate_rules(v, spec.scale_up, "spec.scaleUp", true);
  validate_rules(v, spec.scale_down, "spec.scaleDown", false);

  v.duration("spec.scaleToZero.idleFor", spec.scale_to_zero.idle_for, Seconds{0}, kMaxIdleFor);
  if (!(spec.scale_to_zero.activation_qps >= 0 &&
        std::isfinite(spec.scale_to_zero.activation_qps))) {
    v.add("spec.scaleToZero.activationQps",
          fmt::format("{} is out of range, must be a finite number >= 0",
                      spec.scale_to_zero.activation_qps));
  }
  if (spec.scale_to_zero.enabled && spec.replicas.min.value != 0) {
    v.add("spec.scaleToZero.enabled",
          fmt::format("true needs spec.replicas.min = 0, got {}", spec.replicas.min.value));
  }

  for (std::size_t i = 0; i < spec.schedules.size(); ++i) {
    const auto& s = spec.schedules[i];
    const auto path = fmt::format("spec.schedules[{}]", i);
    if (!cron_can_fire(s.cron)) {
      v.add(path + ".cron", fmt::format("\"{}\" never fires", s.cron.text));
    }
    v.duration(path + ".duration", s.duration, Seconds{1}, kMaxScheduleDuration);
    if (s.zone.name.empty()) v.add(path + ".timezone", "is empty, must name a time zone");
    if (!s.min_replicas && !s.max_replicas) {
      v.add(path, "sets neither minReplicas nor maxReplicas, must set at least one");
    }
    if (s.min_replicas) v.count(path + ".minReplicas", s.min_replicas->value, 0, kMaxReplicas);
    if (s.max_replicas) v.count(path + ".maxReplicas", s.max_replicas->value, 1, kMaxReplicas);
    // While active the schedule replaces min and/or max; the pair in force must stay ordered.
    const auto min = s.min_replicas.value_or(spec.replicas.min);
    const auto max = s.max_replicas.value_or(spec.replicas.max);
    if (min > max) {
      v.add(
          path + (s.min_replicas ? ".minReplicas" : ".maxReplicas"),
          fmt::format("min {} is greater than max {} while the schedule is active, must be <= max",
                      min, max));
    }
  }

  v.count("spec.onMetricsFailure.after", spec.on_metrics_failure.after, 1, kMaxMetricsFailureAfter);
  if (spec.on_metrics_failure.action == MetricsFailureAction::Fallback) {
    const auto r = spec.on_metrics_failure.fallback_replicas;
    if (r < spec.replicas.min || r > spec.replicas.max) {
      v.add("spec.onMetricsFailure.fallbackReplicas",
            fmt::format("{} is out of range, must be in [replicas.min, replicas.max] = [{}, {}]", r,
                        spec.replicas.min, spec.replicas.max));
    }
  }
  return out;
}

Result<Policy> Policy::create(PolicySpec spec) {
  auto diagnostics = validate(spec);
  if (!diagnostics.empty()) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("policy {} is invalid:\n{}", spec.name, util::to_string(diagnostics)));
  }
  const double slo_z = spec.target.slo ? normal_quantile(spec.target.slo->attainment) : 0;
  return Policy(std::make_shared<const PolicySpec>(std::move(spec)), slo_z);
}

}  // namespace qfscale::policy
