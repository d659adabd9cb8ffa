#include "qfscale/policy/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "qfscale/policy/slo_sizing.h"

#include "policy/engine_detail.h"

namespace qfscale::policy {
namespace detail {

int ceil_replicas(double x) {
  if (!(x > 0)) return 0;
  constexpr double kCap = 1e9;
  return static_cast<int>(std::ceil(std::min(x, kCap) - kEpsilon));
}

int Tick::append(model::Stage stage, int in, int out, model::Reason reason, std::string detail) {
  rec.steps.push_back(model::Step{.stage = stage,
                                  .output = model::Replicas{out},
                                  .changed = out != in,
                                  .reason = reason,
                                  .detail = std::move(detail)});
  return out;
}

int Tick::skip(model::Stage stage, int in, std::string_view why) {
  return append(stage, in, in, model::Reason::None, explain() ? std::string(why) : std::string());
}

}  // namespace detail

namespace {

using detail::Tick;
using model::Reason;
using model::Stage;
using util::SystemTime;

bool usable(double x) { return std::isfinite(x) && x >= 0; }

template <class T>
void drop_after(std::vector<T>& v, SystemTime now) {
  v.erase(std::remove_if(v.begin(), v.end(), [now](const T& e) { return e.at > now; }), v.end());
}

template <class T>
void clamp_to(std::vector<T>& v, SystemTime now) {
  for (auto& e : v) e.at = std::min(e.at, now);
}

template <class T>
void drop_at_or_before(std::vector<T>& v, SystemTime cutoff) {
  // Oldest first: drop the prefix with at <= cutoff.
  auto it = std::find_if(v.begin(), v.end(), [cutoff](const T& e) { return e.at > cutoff; });
  v.erase(v.begin(), it);
}

std::chrono::seconds longest_period(const PolicySpec& spec) {
  std::chrono::seconds out{0};
  for (const auto* rules : {&spec.scale_up, &spec.scale_down}) {
    for (const auto& p : rules->policies) out = std::max(out, p.period);
  }
  return out;
}

/// A state from a later `now` (the clock stepped back, or the state was saved by a clock that was
/// ahead) is brought back to `now` without shortening any window: what the windows and periods
/// remember (recommendations, scale events, the last observation, panic, idle) is clamped to
/// `now`, so it counts as fresh and lasts a full window from here. Only QPS samples from the
/// future are dropped: a measurement cannot be moved in time, and demand is measured again now.
void clamp_future(EngineState& s, SystemTime now) {
  drop_after(s.samples, now);
  clamp_to(s.recommendations, now);
  clamp_to(s.scale_events, now);
  if (s.last_observed_at && *s.last_observed_at > now) s.last_observed_at = now;
  if (s.panic_last_over && *s.panic_last_over > now) s.panic_last_over = now;
  if (s.idle_since && *s.idle_since > now) s.idle_since = now;
}

/// Scale events are inferred from the observed count: whoever changed it (our actuator, an
/// operator, a deploy), the change really happened and counts against the rate limits; a
/// recommendation the allocator cut or a failed ScaleService does not. The event is stamped at
/// the previous observation, the time of the decision that most likely caused it (the HPA stamps
/// at decision time). With a 15 s tick and a 15 s period this lets 1 -> 5 -> 10 -> 20 proceed
/// one step per tick, as in the Kubernetes docs.
void observe_current(EngineState& s, SystemTime now, int current) {
  if (s.last_observed && s.last_observed_at && s.last_observed->value != current) {
    s.scale_events.push_back(
        ScaleEvent{.at = *s.last_observed_at, .change = current - s.last_observed->value});
  }
  s.last_observed = model::Replicas{current};
  s.last_observed_at = now;
}

/// Bounds every history to the longest window that reads it, so memory stays flat.
void prune(EngineState& s, const PolicySpec& spec, SystemTime now) {
  auto sample_span = std::max(spec.metric_window, spec.panic.window);
  if (spec.forecast.enabled || spec.target.slo) {
    sample_span = std::max(sample_span, spec.forecast.window);
  }
  drop_at_or_before(s.samples, now - sample_span);
  const auto rec_span =
      std::max(spec.scale_up.stabilization_window, spec.scale_down.stabilization_window);
  drop_at_or_before(s.recommendations, now - rec_span);
  drop_at_or_before(s.scale_events, now - longest_period(spec));
}

struct WindowAverage {
  double qps = 0;
  int samples = 0;
};

/// Plain mean of the samples with at > now - window (the sample at `now` included). Ticks are
/// regular in practice, so a mean equals the time-weighted average Knative's buckets give.
WindowAverage average(const std::vector<QpsSample>& samples, SystemTime now,
                      std::chrono::seconds window) {
  const SystemTime cutoff = now - window;
  double sum = 0;
  int n = 0;
  for (auto it = samples.rbegin(); it != samples.rend() && it->at > cutoff; ++it) {
    sum += it->qps;
    ++n;
  }
  return {.qps = n > 0 ? sum / n : 0, .samples = n};
}

/// The rising trend's value at now + horizon, or empty unless the line rises clearly above the
/// noise: a slope under two standard errors is as likely to be chance as trend, and extrapolating
/// chance `horizon` ahead only buys idle replicas.
std::optional<double> rising_trend(const std::optional<LineFit>& fit, const Forecast& forecast) {
  if (!fit || !(fit->slope > 2 * fit->slope_standard_error)) return std::nullopt;
  return fit->at(static_cast<double>(forecast.horizon.count()));
}

/// Stage 1: records the sample and averages the windows. Never averages in a missing sample:
/// without a usable QPS (or a usable per-replica QPS) the tick has no demand figure at all.
int metric_window_stage(Tick& t) {
  const auto& in = t.input;
  const bool qps_ok = in.qps && usable(*in.qps);
  if (qps_ok) {
    if (!t.state.samples.empty() && t.state.samples.back().at == in.now) {
      t.state.samples.back().qps = *in.qps;
    } else {
      t.state.samples.push_back(QpsSample{.at = in.now, .qps = *in.qps});
    }
  }
  const bool rate_ok = std::isfinite(in.replica_qps) && in.replica_qps > 0;
  if (!qps_ok || !rate_ok) {
    t.state.metric_failures = std::min(t.state.metric_failures + 1, 1'000'000);
    return t.step(Stage::MetricWindow, t.current, t.current, Reason::MetricsMissing, [&] {
      return fmt::format("{}; consecutive failures {}",
                         !qps_ok ? "no usable qps sample"
                                 : fmt::format("replica qps {} is not > 0", in.replica_qps),
                         t.state.metric_failures);
    });
  }
  t.state.metric_failures = 0;
  const auto& slo = t.spec.target.slo;
  t.per_replica = in.replica_qps * (slo ? 1.0 : t.spec.target.utilization);
  const auto stable = average(t.state.samples, in.now, t.spec.metric_window);
  double level = stable.qps;
  std::optional<LineFit> fit;
  if (t.spec.forecast.enabled || slo) {
    fit = fit_line(t.state.samples, in.now, t.spec.forecast.window, in.sample_span);
  }
  // A rising trend is sized for now + horizon; only upwards (see policy.h Forecast).
  std::optional<double> forecast;
  if (t.spec.forecast.enabled) {
    forecast = rising_trend(fit, t.spec.forecast);
    if (forecast && *forecast > level) level = *forecast;
  }
  // target.slo: the capacity that keeps the queueing wait within the SLO at this level, given
  // the burstiness the samples show about their trend line (slo_sizing.h has the argument and
  // worked numbers); the raw desired stage divides it by the replicas' full rated qps.
  double variance = 0;
  const double span = sample_seconds(fit, in.sample_span);
  std::optional<LevelShift> shift;
  if (slo) {
    variance = per_second_variance(fit, level);
    if (slo->follow_level_shifts && fit) {
      const double share = level_variance_share(t.state.samples, in.now, t.spec.metric_window,
                                                in.sample_span.count() > 0 ? span : 0.0);
      shift = level_shift(t.state.samples.back().qps, level, variance, span, share, t.slo_z);
      if (shift->shifted) {
        level = shift->latest;
        variance = per_second_variance(fit, level);
      }
    }
    t.stable_qps = slo_capacity(level, variance, *slo);
  } else {
    t.stable_qps = level;
  }
  std::optional<WindowAverage> panic;
  if (t.spec.panic.enabled) {
    panic = average(t.state.samples, in.now, t.spec.panic.window);
    t.panic_qps = panic->qps;
  }
  return t.step(Stage::MetricWindow, t.current, t.current, Reason::None, [&] {
    std::string detail = fmt::format("stable {:.6g} qps over {}s ({} samples)", stable.qps,
                                     t.spec.metric_window.count(), stable.samples);
    if (t.spec.forecast.enabled) {
      detail += forecast
                    ? fmt::format("; trend over {}s at +{}s {:.6g} qps{}",
                                  t.spec.forecast.window.count(), t.spec.forecast.horizon.count(),
                                  *forecast, *forecast > stable.qps ? ", sized for it" : "")
                    : std::string("; no clear rising trend");
    }
    if (shift) {
      detail +=
          fmt::format("; latest {:.6g} qps {} {:.6g} + {:.4g} x {:.6g} = {:.6g}{}", shift->latest,
                      shift->shifted ? ">" : "<=", shift->level, shift->z, shift->noise,
                      shift->threshold, shift->shifted ? ": a level shift, sized for it" : "");
    }
    if (slo) {
      detail += fmt::format("; slo {:.6g}% within {}s: variance {:.6g}/s{} -> capacity {:.6g} qps",
                            slo->attainment * 100, slo->wait.count(), variance,
                            fit ? fmt::format(" from {:.6g}s means", span) : std::string(),
                            *t.stable_qps);
    }
    if (panic) {
      detail += fmt::format("; panic {:.6g} qps over {}s ({} samples)", panic->qps,
                            t.spec.panic.window.count(), panic->samples);
    }
    return detail;
  });
}

/// Stage 2: raw desired = ceil(qps / (replica_qps x utilization)), at least 1 (zero is only ever
/// a scale-to-zero decision). Without metrics: onMetricsFailure — Hold keeps the current count;
/// Fallback holds too until `after` consecutive failures, then goes to fallbackReplicas.
int raw_desired_stage(Tick& t) {
  const auto& spec = t.spec;
  if (!t.metrics_ok()) {
    const auto& f = spec.on_metrics_failure;
    const int failures = t.state.metric_failures;
    if (f.action == MetricsFailureAction::Fallback && failures >= f.after) {
      return t.step(Stage::RawDesired, t.current, f.fallback_replicas.value,
                    Reason::MetricsFallback, [&] {
                      return fmt::format("{} consecutive failures >= after {}: fallbackReplicas {}",
                                         failures, f.after, f.fallback_replicas.value);
                    });
    }
    return t.step(Stage::RawDesired, t.current, t.current, Reason::MetricsMissing, [&] {
      return f.action == MetricsFailureAction::Hold
                 ? fmt::format("hold current {}", t.current)
                 : fmt::format("hold current {} ({} consecutive failures < after {})", t.current,
                               failures, f.after);
    });
  }
  const double exact = *t.stable_qps / t.per_replica;
  const int raw = std::max(1, detail::ceil_replicas(exact));
  const Reason reason = raw > t.current   ? Reason::ScaleUp
                        : raw < t.current ? Reason::ScaleDown
                                          : Reason::None;
  return t.step(Stage::RawDesired, t.current, raw, reason, [&] {
    return fmt::format("max(1, ceil({:.6g} / ({:.6g} x {:.6g}))) = max(1, ceil({:.6g})) = {}",
                       *t.stable_qps, t.input.replica_qps, t.per_replica / t.input.replica_qps,
                       exact, raw);
  });
}

/// Stage 3 (HPA): keep the current count while |qps / (current x per-replica) - 1| <= tolerance.
/// At current = 0 the ratio is undefined (any demand is infinitely over), so it does not apply.
int tolerance_stage(Tick& t, int in) {
  if (!t.metrics_ok()) return t.skip(Stage::Tolerance, in, "skipped: no metrics");
  if (t.current == 0) return t.skip(Stage::Tolerance, in, "current 0: tolerance does not apply");
  const double ratio = *t.stable_qps / (t.current * t.per_replica);
  // KEP-4951: demand above capacity is judged by the scale-up tolerance, below by the scale-down
  // one (at ratio 1 both hold). Up 0, down 0.2, current 10 x 5: 50.01 qps (1.0002) scales up,
  // 40.5 (0.81) and 40 (0.8) hold, 39.5 (0.79) scales down.
  const bool up = ratio >= 1;
  const auto& own = up ? t.spec.scale_up.tolerance : t.spec.scale_down.tolerance;
  const double tolerance = own.value_or(t.spec.target.tolerance);
  const bool inside = std::abs(ratio - 1) <= tolerance + detail::kEpsilon;
  const auto detail = [&] {
    return fmt::format(
        "ratio {:.6g} / ({} x {:.6g}) = {:.6g}; |ratio - 1| {} {} (scale-{} "
        "tolerance, from {})",
        *t.stable_qps, t.current, t.per_replica, ratio, inside ? "<=" : ">", tolerance,
        up ? "up" : "down",
        own ? (up ? "scaleUp.tolerance" : "scaleDown.tolerance") : "target.tolerance");
  };
  if (inside && in != t.current) {
    return t.step(Stage::Tolerance, in, t.current, Reason::WithinTolerance, detail);
  }
  return t.step(Stage::Tolerance, in, in, Reason::None, detail);
}

Reason frozen_reason(const EngineInput& in) {
  if (in.run_status != model::RunStatus::Serving) return Reason::FrozenNotServing;
  if (in.model_updating) return Reason::FrozenUpdating;
  return Reason::None;
}

}  // namespace

EngineResult recommend(const Policy& policy, const EngineInput& input, EngineState state) {
  const PolicySpec& spec = policy.spec();
  Recommendation rec;
  rec.steps.reserve(model::kAllStages.size());
  Tick t{.spec = spec,
         .slo_z = policy.slo_z(),
         .input = input,
         .state = state,
         .rec = rec,
         .current = input.current.value};

  // Frozen (not Serving, or a model update in progress): keep the current count, and leave the
  // state exactly as it was, so nothing seen while frozen (deploy churn, odd traffic) leaks into
  // stabilization, rate-limit or panic history.
  if (const Reason frozen = frozen_reason(input); frozen != Reason::None) {
    for (auto stage : model::kAllStages) {
      if (stage == Stage::Freeze) continue;
      t.skip(stage, t.current, "skipped: frozen");
    }
    t.step(Stage::Freeze, t.current, t.current, frozen, [&] {
      return frozen == Reason::FrozenUpdating
                 ? std::string("model update in progress")
                 : fmt::format("runStatus {} is not Serving", model::to_string(input.run_status));
    });
    rec.replicas = input.current;
    rec.reason = frozen;
    rec.frozen = true;
    detail::find_active_schedules(t);
    rec.floor = model::Replicas{detail::floor_in_force(t)};
    rec.panicking = state.panicking();
    return {std::move(rec), std::move(state)};
  }

  // A second tick at the same `now` after one that recorded a recommendation re-evaluates that
  // tick (a repeated step in `policy eval`): its recommendation replaces the earlier one.
  t.reevaluation = state.last_observed_at == input.now && state.metric_failures == 0;
  clamp_future(state, input.now);
  observe_current(state, input.now, t.current);
  prune(state, spec, input.now);

  metric_window_stage(t);
  int n = raw_desired_stage(t);
  n = tolerance_stage(t, n);
  n = detail::panic_stage(t, n);
  n = detail::stabilization_stage(t, n);
  n = detail::rate_limit_stage(t, n);
  n = detail::schedule_stage(t, n);
  n = detail::scale_to_zero_stage(t, n);
  n = detail::clamp_stage(t, n);
  n = t.skip(Stage::Freeze, n, "serving");

  rec.replicas = model::Replicas{n};
  for (auto it = rec.steps.rbegin(); it != rec.steps.rend(); ++it) {
    if (it->reason != Reason::None) {
      rec.reason = it->reason;
      break;
    }
  }
  rec.stable_qps = t.stable_qps;
  rec.panic_qps = t.panic_qps;
  rec.panicking = state.panicking();
  return {std::move(rec), std::move(state)};
}

}  // namespace qfscale::policy
