// Panic, stabilization and rate limits: the stages that remember the past.

#include <algorithm>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "policy/engine_detail.h"

namespace qfscale::policy::detail {
namespace {

using model::Reason;
using model::Stage;
using util::SystemTime;

constexpr std::int64_t kMaxReplicas = std::numeric_limits<int>::max();

int to_int(std::int64_t v) {
  return static_cast<int>(std::clamp<std::int64_t>(v, 0, kMaxReplicas));
}

/// Net replicas added within (now - period, now], as the HPA's getReplicasChangePerPeriod.
int change_in_period(const std::vector<ScaleEvent>& events, SystemTime now,
                     std::chrono::seconds period) {
  const SystemTime cutoff = now - period;
  std::int64_t sum = 0;
  for (auto it = events.rbegin(); it != events.rend() && it->at > cutoff; ++it) sum += it->change;
  return static_cast<int>(std::clamp<std::int64_t>(sum, -kMaxReplicas, kMaxReplicas));
}

}  // namespace

// HPA calculateScaleUpLimitWithScalingRules: per policy, the count at the period's start
// (current minus the net change inside the period) plus Replicas value, or times (1 + Percent/100)
// rounded up; Select Max takes the most permissive policy, Min the least; Disabled allows none.
// Deviation: Percent grows from max(base, 1), so a Percent-only policy can leave zero (Knative
// also takes at least one ready pod as the base of its max scale-up rate).
RateBound scale_up_bound(const ScalingRules& rules, int current,
                         const std::vector<ScaleEvent>& events, SystemTime now, bool explain) {
  if (rules.select == Select::Disabled) {
    return {.limit = current, .detail = explain ? "scale-up Disabled" : ""};
  }
  if (rules.policies.empty()) {
    return {.limit = std::nullopt, .detail = explain ? "no scale-up policies" : ""};
  }
  const bool take_max = rules.select == Select::Max;
  std::int64_t result = take_max ? std::numeric_limits<std::int64_t>::min()
                                 : std::numeric_limits<std::int64_t>::max();
  std::string detail = explain ? "up:" : "";
  for (const auto& p : rules.policies) {
    const int change = change_in_period(events, now, p.period);
    const std::int64_t base = std::max(0, current - change);
    std::int64_t proposed = 0;
    if (p.type == RateLimitType::Replicas) {
      proposed = base + p.value;
    } else {
      // ceil(b x (100 + v) / 100) in integers.
      const std::int64_t num = std::max<std::int64_t>(base, 1) * (100 + std::int64_t{p.value});
      proposed = (num + 99) / 100;
    }
    result = take_max ? std::max(result, proposed) : std::min(result, proposed);
    if (explain) {
      detail += fmt::format(" {} {}/{}s from {} ({:+} in period) -> {};", to_string(p.type),
                            p.value, p.period.count(), base, change, proposed);
    }
  }
  if (explain) detail += fmt::format(" select {} -> {}", to_string(rules.select), result);
  return {.limit = to_int(result), .detail = std::move(detail)};
}

// HPA calculateScaleDownLimitWithBehaviors: the mirror image; Percent rounds down (int
// truncation in the HPA), Select Max means the biggest drop, i.e. the lowest limit.
RateBound scale_down_bound(const ScalingRules& rules, int current,
                           const std::vector<ScaleEvent>& events, SystemTime now, bool explain) {
  if (rules.select == Select::Disabled) {
    return {.limit = current, .detail = explain ? "scale-down Disabled" : ""};
  }
  if (rules.policies.empty()) {
    return {.limit = std::nullopt, .detail = explain ? "no scale-down policies" : ""};
  }
  const bool take_max_change = rules.select == Select::Max;
  std::int64_t result = take_max_change ? std::numeric_limits<std::int64_t>::max()
                                        : std::numeric_limits<std::int64_t>::min();
  std::string detail = explain ? "down:" : "";
  for (const auto& p : rules.policies) {
    const int change = change_in_period(events, now, p.period);
    const std::int64_t base = std::max(0, current - change);
    std::int64_t proposed = 0;
    if (p.type == RateLimitType::Replicas) {
      proposed = base - p.value;
    } else {
      proposed = base * std::max<std::int64_t>(0, 100 - std::int64_t{p.value}) / 100;
    }
    proposed = std::max<std::int64_t>(proposed, 0);
    result = take_max_change ? std::min(result, proposed) : std::max(result, proposed);
    if (explain) {
      detail += fmt::format(" {} {}/{}s from {} ({:+} in period) -> {};", to_string(p.type),
                            p.value, p.period.count(), base, change, proposed);
    }
  }
  if (explain) detail += fmt::format(" select {} -> {}", to_string(rules.select), result);
  return {.limit = to_int(result), .detail = std::move(detail)};
}

// Stage 4, Knative KPA panic mode. The panic window (short) sees a burst before the stable
// window does. Condition: desiredPanicPodCount / max(current, 1) >= threshold, with
// desiredPanicPodCount = ceil(panic qps / per-replica). Entering or staying over the threshold
// stamps `panic_last_over`; panic ends once a full metricWindow has passed without the condition.
// While panicking the count is max(stable, panic recommendation), never below the highest count
// recommended in this panic nor below the current count: no scale-down during panic.
int panic_stage(Tick& t, int in) {
  EngineState& s = t.state;
  if (!t.spec.panic.enabled) {
    s.panic_last_over.reset();
    s.panic_max = model::Replicas{0};
    return t.skip(Stage::Panic, in, "panic disabled");
  }
  if (!t.metrics_ok()) return t.skip(Stage::Panic, in, "skipped: no metrics");
  const SystemTime now = t.input.now;
  const double exact = *t.panic_qps / t.per_replica;
  const int panic_desired = ceil_replicas(exact);
  const int ready = std::max(t.current, 1);
  const double ratio = static_cast<double>(panic_desired) / ready;
  const bool over = ratio >= t.spec.panic.threshold - kEpsilon;
  const auto detail = [&] {
    return fmt::format("panic desired ceil({:.6g} / {:.6g}) = {}; {} / max({}, 1) = {:.6g} {} {}",
                       *t.panic_qps, t.per_replica, panic_desired, panic_desired, t.current, ratio,
                       over ? ">=" : "<", t.spec.panic.threshold);
  };
  bool entered = false;
  if (over) {
    entered = !s.panicking();
    s.panic_last_over = now;
  } else if (s.panicking() && now - *s.panic_last_over >= t.spec.metric_window) {
    s.panic_last_over.reset();
    s.panic_max = model::Replicas{0};
    return t.step(Stage::Panic, in, in, Reason::None, [&] {
      return detail() +
             fmt::format("; calm for a full {}s window: panic over", t.spec.metric_window.count());
    });
  }
  if (!s.panicking()) return t.step(Stage::Panic, in, in, Reason::None, detail);

  const int wanted = std::max(in, panic_desired);
  const int high = s.panic_max.value;
  const int out = std::max({wanted, high, t.current});
  s.panic_max = model::Replicas{out};
  Reason reason = Reason::None;
  if (entered) {
    reason = Reason::PanicEntered;
  } else if (out > wanted) {
    reason = Reason::PanicHold;
  } else if (out > in) {
    reason = Reason::ScaleUp;
  }
  return t.step(Stage::Panic, in, out, reason, [&] {
    return detail() +
           fmt::format("; panicking: max(stable {}, panic {}, panic high {}, current {}) = {}", in,
                       panic_desired, high, t.current, out);
  });
}

// Stage 5, HPA stabilizeRecommendationWithBehaviors. The unstabilized recommendations of the last
// windows are kept; scale-up may go no higher than the LOWEST recommendation inside the up window,
// scale-down no lower than the HIGHEST inside the down window: out = clamp(current, upMin,
// downMax). A window of 0s holds only this tick's recommendation.
// Seed (HPA recordInitialRecommendation, for scale-down only): when the down window holds no
// earlier recommendation (first sight, lost state, a long gap) and this tick recommends less than
// the current count, the current count is remembered in its place, so the scale-down waits a full
// window. It replaces the tick's entry rather than joining it, so a re-evaluation at the same
// `now` finds one entry to replace; and as it only ever raises an entry, an up window's lowest
// value can only rise: a scale-up (panic included) is never delayed by a seed.
int stabilization_stage(Tick& t, int in) {
  if (!t.metrics_ok()) return t.skip(Stage::Stabilization, in, "skipped: no metrics");
  const SystemTime now = t.input.now;
  const auto& spec = t.spec;
  auto& recs = t.state.recommendations;
  if (t.reevaluation && !recs.empty() && recs.back().at == now) recs.pop_back();
  const SystemTime up_cutoff = now - spec.scale_up.stabilization_window;
  const SystemTime down_cutoff = now - spec.scale_down.stabilization_window;
  const bool seeded =
      spec.scale_down.stabilization_window.count() > 0 && in < t.current &&
      std::none_of(recs.begin(), recs.end(), [&](const auto& r) { return r.at > down_cutoff; });
  recs.push_back(
      TimedRecommendation{.at = now, .replicas = model::Replicas{seeded ? t.current : in}});
  int up = in;
  int down = in;
  for (const auto& r : recs) {
    if (r.at > up_cutoff) up = std::min(up, r.replicas.value);
    if (r.at > down_cutoff) down = std::max(down, r.replicas.value);
  }
  const int out = std::min(std::max(t.current, up), down);
  return t.step(Stage::Stabilization, in, out, out != in ? Reason::Stabilized : Reason::None, [&] {
    return fmt::format(
        "{}min over up window {}s = {}; max over down window {}s = {}; "
        "clamp(current {}, {}, {}) = {}",
        seeded ? fmt::format("nothing recommended in the last {}s: current {} seeds the down "
                             "window; ",
                             spec.scale_down.stabilization_window.count(), t.current)
               : std::string(),
        spec.scale_up.stabilization_window.count(), up,
        spec.scale_down.stabilization_window.count(), down, t.current, up, down, out);
  });
}

// Stage 6, HPA convertDesiredReplicasWithBehaviorRate. Only the direction of the change is
// limited, and a limit never pushes past the current count. A period shorter than the tick sees
// no events, so each decision is limited against the current count (Knative's max rates).
int rate_limit_stage(Tick& t, int in) {
  if (!t.metrics_ok()) return t.skip(Stage::RateLimit, in, "skipped: no metrics");
  const auto& events = t.state.scale_events;
  if (in > t.current) {
    auto bound = scale_up_bound(t.spec.scale_up, t.current, events, t.input.now, t.explain());
    if (!bound.limit) {
      return t.step(Stage::RateLimit, in, in, Reason::None, [&] { return bound.detail; });
    }
    const int limit = std::max(*bound.limit, t.current);
    const int out = std::min(in, limit);
    return t.step(Stage::RateLimit, in, out, out != in ? Reason::RateLimited : Reason::None, [&] {
      return fmt::format("{}; min({}, {}) = {}", bound.detail, in, limit, out);
    });
  }
  if (in < t.current) {
    auto bound = scale_down_bound(t.spec.scale_down, t.current, events, t.input.now, t.explain());
    if (!bound.limit) {
      return t.step(Stage::RateLimit, in, in, Reason::None, [&] { return bound.detail; });
    }
    const int limit = std::min(*bound.limit, t.current);
    const int out = std::max(in, limit);
    return t.step(Stage::RateLimit, in, out, out != in ? Reason::RateLimited : Reason::None, [&] {
      return fmt::format("{}; max({}, {}) = {}", bound.detail, in, limit, out);
    });
  }
  return t.skip(Stage::RateLimit, in, "no change");
}

}  // namespace qfscale::policy::detail
