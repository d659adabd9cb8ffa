// Schedules, scale to zero and min/max: the stages that bound the count.

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "qfscale/policy/schedule.h"

#include "policy/engine_detail.h"

namespace qfscale::policy::detail {
namespace {

using model::Reason;
using model::Stage;

}  // namespace

int find_active_schedules(Tick& t) {
  const auto now = std::chrono::floor<std::chrono::seconds>(t.input.now);
  int active = 0;
  for (const auto& s : t.spec.schedules) {
    if (!schedule_active(s, now)) continue;
    ++active;
    if (s.min_replicas) {
      t.schedule_floor = std::max(t.schedule_floor.value_or(0), s.min_replicas->value);
    }
    if (s.max_replicas) {
      t.schedule_ceiling = std::min(t.schedule_ceiling.value_or(std::numeric_limits<int>::max()),
                                    s.max_replicas->value);
    }
  }
  return active;
}

int floor_in_force(const Tick& t) {
  const int hi = t.schedule_ceiling.value_or(t.spec.replicas.max.value);
  return std::min(t.schedule_floor.value_or(t.spec.replicas.min.value), hi);
}

// Stage 7: while a schedule is active its minReplicas / maxReplicas replace replicas.min / .max
// (policy.h; validate() checks the pair in force stays ordered). So a schedule can raise the floor
// (ScheduleFloor) or lower the ceiling (ScheduleCeiling) here, and also relax a bound, e.g. a
// night-time min 0 or a peak-time max above replicas.max, which the clamp stage then honours.
// With several active, the highest min and the lowest max win. Schedules apply whatever the
// metrics say (they are about time, not demand), so also when metrics are missing.
int schedule_stage(Tick& t, int in) {
  const int active = find_active_schedules(t);
  if (active == 0) {
    return t.skip(Stage::Schedule, in,
                  t.spec.schedules.empty() ? "no schedules" : "no active schedule");
  }
  const auto detail = [&] {
    return fmt::format("{} active; floor {}; ceiling {}", active,
                       t.schedule_floor ? fmt::format("{}", *t.schedule_floor) : "-",
                       t.schedule_ceiling ? fmt::format("{}", *t.schedule_ceiling) : "-");
  };
  int out = in;
  Reason reason = Reason::None;
  if (t.schedule_floor && out < *t.schedule_floor) {
    out = *t.schedule_floor;
    reason = Reason::ScheduleFloor;
  }
  if (t.schedule_ceiling && out > *t.schedule_ceiling) {
    out = *t.schedule_ceiling;
    reason = Reason::ScheduleCeiling;
  }
  return t.step(Stage::Schedule, in, out, reason, detail);
}

// Stage 8: scale to zero, allowed only when enabled and the effective minimum is 0 (replicas.min
// 0, or an active schedule's min 0). Demand here is the larger of the stable and panic
// averages, so a burst after a quiet spell wakes the service within the short panic window.
// - Serving (current > 0): once demand has stayed below activationQps for idleFor -> 0.
// - At zero (current = 0): stay at 0 until demand reaches activationQps (Activated).
int scale_to_zero_stage(Tick& t, int in) {
  const auto& stz = t.spec.scale_to_zero;
  EngineState& s = t.state;
  if (!t.metrics_ok()) {
    // Blind: we cannot vouch the service stayed idle, so the idle clock restarts.
    s.idle_since.reset();
    return t.skip(Stage::ScaleToZero, in, "skipped: no metrics");
  }
  if (!stz.enabled) {
    s.idle_since.reset();
    return t.skip(Stage::ScaleToZero, in, "scale to zero disabled");
  }
  const double demand = std::max(*t.stable_qps, t.panic_qps.value_or(0));
  const auto now = t.input.now;
  const bool idle = demand < stz.activation_qps;
  if (idle) {
    if (!s.idle_since) s.idle_since = now;
  } else {
    s.idle_since.reset();
  }
  const int floor = t.schedule_floor.value_or(t.spec.replicas.min.value);
  if (floor > 0) {
    return t.step(Stage::ScaleToZero, in, in, Reason::None,
                  [&] { return fmt::format("effective min {} > 0", floor); });
  }

  const auto compare = [&] {
    return fmt::format("demand {:.6g} {} activation {:.6g}", demand,
                       idle ? "<" : ">=", stz.activation_qps);
  };
  if (t.current == 0) {
    if (idle) {
      return t.step(Stage::ScaleToZero, in, 0, Reason::ScaleToZero,
                    [&] { return fmt::format("at zero; {}: stay at zero", compare()); });
    }
    const int out = std::max(in, 1);
    return t.step(Stage::ScaleToZero, in, out, Reason::Activated,
                  [&] { return fmt::format("at zero; {}: activate", compare()); });
  }
  if (idle && s.panicking()) {
    return t.step(Stage::ScaleToZero, in, in, Reason::None,
                  [&] { return fmt::format("{}, but panicking: no scale to zero", compare()); });
  }
  if (idle) {
    const auto idle_for = std::chrono::duration_cast<std::chrono::seconds>(now - *s.idle_since);
    if (idle_for >= stz.idle_for) {
      return t.step(Stage::ScaleToZero, in, 0, Reason::ScaleToZero, [&] {
        return fmt::format("{} for {}s >= idleFor {}s", compare(), idle_for.count(),
                           stz.idle_for.count());
      });
    }
    return t.step(Stage::ScaleToZero, in, in, Reason::None, [&] {
      return fmt::format("{} for {}s < idleFor {}s", compare(), idle_for.count(),
                         stz.idle_for.count());
    });
  }
  return t.step(Stage::ScaleToZero, in, in, Reason::None, compare);
}

// Stage 9: the bounds in force: replicas.min and replicas.max, each replaced by an active
// schedule's. Should they cross (two schedules), the ceiling wins: max is the bound that protects
// cost and capacity.
int clamp_stage(Tick& t, int in) {
  const int hi = t.schedule_ceiling.value_or(t.spec.replicas.max.value);
  const int lo = floor_in_force(t);
  t.rec.floor = model::Replicas{lo};
  const auto detail = [&] { return fmt::format("bounds [{}, {}]", lo, hi); };
  if (in < lo) return t.step(Stage::Clamp, in, lo, Reason::CappedMin, detail);
  if (in > hi) return t.step(Stage::Clamp, in, hi, Reason::CappedMax, detail);
  return t.step(Stage::Clamp, in, in, Reason::None, detail);
}

}  // namespace qfscale::policy::detail
