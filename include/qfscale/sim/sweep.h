#pragma once

/// Policy curves: every policy run at every value of one numeric field (`qfscale simulate
/// --sweep FIELD=A:B:STEP`, `qfscale tune`), giving per policy a curve of SLO attainment
/// against compute-unit-hours, and the cost of reaching an attainment read off that curve.
///
/// ## The sweep
///
/// `FIELD=A:B:STEP` gives the values A, A + STEP, … up to B (B included when it lies on the
/// grid, within a millionth of a step). Each value is rounded to the decimals the three numbers
/// were written with, so `0.30:0.95:0.05` gives exactly 0.3, 0.35, …, 0.95 (14 values), not
/// 0.35000000000000003. FIELD is any numeric policy field (policy/field.h). Each policy's
/// variant at a value is its YAML with that field set, loaded again by the policy loader; a
/// value the loader refuses is **skipped** and listed with the loader's message
/// (`Curve::skipped`), since one policy may accept a value another refuses.
///
/// ## A point
///
/// One `simulate` run of the variant over every service (timelines off). The point's
/// attainment is over every request of every service (late and requests summed), its cost
/// the sum of compute-unit-hours; the per-service figures are kept for `qfscale tune`, which
/// asks for the SLO on each trace.
///
/// Runs are independent: they go to `threads` workers, and each result lands in its own slot,
/// so curves do not depend on `threads` or on the order in which runs finish.
///
/// ## Cost at an attainment
///
/// The cheapest cost at which the curve reaches `target` percent: the least of (a) the cost of
/// every point at or above the target, and (b) where two adjacent points (in sweep order)
/// straddle the target, the cost at the crossing, interpolated linearly between them:
/// cost = c1 + (target - a1) / (a2 - a1) x (c2 - c1). Null when no point reaches the target.
/// Worked numbers, target 99: points (0.5: 99.5%, 10 CU-h) and (0.6: 98.5%, 8 CU-h) straddle
/// it, so (99 - 99.5) / (98.5 - 99.5) = 0.5 of the way, 10 + 0.5 x (8 - 10) = 9 CU-h, below
/// the 10 of the point that meets it. At 99.9 only the first point counts if nothing else
/// reaches it, and (99.9 - 99.5) / (98.5 - 99.5) < 0 means no crossing between these two.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/policy/field.h"
#include "qfscale/policy/loader.h"
#include "qfscale/policy/policy.h"
#include "qfscale/sim/simulator.h"
#include "qfscale/util/result.h"

namespace qfscale::sim {

/// At most this many values per sweep: 1,000 runs per policy is already hours on a week.
inline constexpr std::size_t kMaxSweepValues = 1000;

struct SweepRange {
  policy::NumericField field;
  double from = 0;
  double to = 0;
  double step = 0;
  int decimals = 0;  ///< the most decimals among the three numbers as written
  friend bool operator==(const SweepRange&, const SweepRange&) = default;
};

/// Parses `FIELD=A:B:STEP`. Errors (InvalidInput) are worded for the flag: "'x' must be
/// FIELD=FROM:TO:STEP, e.g. target.utilization=0.30:0.95:0.05", "STEP 0 must be > 0",
/// "TO 0.2 is below FROM 0.3", "gives 5001 values, at most 1000", and the field's own error
/// with "did you mean" (policy::numeric_field).
[[nodiscard]] Result<SweepRange> parse_sweep(std::string_view text);

/// The values of a range, in increasing order (see the header).
[[nodiscard]] std::vector<double> sweep_values(const SweepRange& range);

/// One service's figures at a point.
struct ServicePoint {
  double slo_attainment_pct = 100;
  double compute_unit_hours = 0;
  friend bool operator==(const ServicePoint&, const ServicePoint&) = default;
};

struct CurvePoint {
  double value = 0;
  double slo_attainment_pct = 100;  ///< over every request of every service
  double compute_unit_hours = 0;    ///< summed over services
  std::vector<ServicePoint> services;
  friend bool operator==(const CurvePoint&, const CurvePoint&) = default;
};

/// A value the policy refused: "spec.target.utilization: 1.05 is out of range, must be in
/// (0, 1]".
struct SkippedPoint {
  double value = 0;
  std::string reason;
  friend bool operator==(const SkippedPoint&, const SkippedPoint&) = default;
};

struct Curve {
  std::string policy;
  std::string field;               ///< the path without "spec."
  std::vector<CurvePoint> points;  ///< in sweep order, refused values left out
  std::vector<SkippedPoint> skipped;
  /// The variants that ran, one per point, for `qfscale tune --write`.
  std::vector<policy::Policy> variants;
};

struct SweepOptions {
  SimOptions sim;  ///< `timeline` is forced off, `progress` unused
  unsigned threads = 1;
  /// Called after each finished run with (runs done, runs in all, policy, value), never
  /// concurrently; from worker threads. Must not throw.
  std::function<void(std::size_t done, std::size_t total, const std::string& policy, double value)>
      progress;
};

/// Runs every policy at every value over `services`. Fails with the first failing run's error
/// (in policy then value order); refused values are skipped, not errors (the header). `zones`
/// is the loader's, for policies with schedules; it is called from the calling thread only.
/// Thread-safety: a pure function; spawns and joins its own threads.
[[nodiscard]] Result<std::vector<Curve>> sweep(std::span<const policy::Policy> policies,
                                               std::span<const ServiceSpec> services,
                                               const SweepRange& range,
                                               const util::ZoneSource& zones,
                                               const SweepOptions& options);

/// The worst service's attainment at a point (the point's own when it has no services).
[[nodiscard]] double worst_attainment(const CurvePoint& point);

/// `qfscale tune`'s choice: the cheapest point whose every service reaches `target_pct`;
/// equal costs go to the larger margin (worst attainment - target), then the earlier value.
/// nullopt when no point does. Worked numbers, target 99 over two services: points
/// (0.5: 99.6% and 99.2%, 10 CU-h), (0.6: 99.9% and 98.9%, 9 CU-h), (0.7: 99.1% and 99.0%,
/// 9.5 CU-h): 0.6 fails on its second service, so 0.7 wins at 9.5 CU-h, margin 0.0 points.
[[nodiscard]] std::optional<std::size_t> cheapest_meeting(std::span<const CurvePoint> points,
                                                          double target_pct);

/// The cost at which `points` reach `target_pct` (the header); nullopt when none does.
[[nodiscard]] std::optional<double> cost_at_attainment(std::span<const CurvePoint> points,
                                                       double target_pct);

/// The attainments `cost_at_attainment` is reported at in summary.json, and their keys.
inline constexpr double kReportedAttainments[] = {99.0, 99.9};
inline constexpr std::string_view kReportedAttainmentKeys[] = {"99", "99.9"};

/// One entry of summary.json's `cost_at_attainment`: a name (a policy's, or "oracle") and the
/// cost at each of `kReportedAttainments` (nullopt: not reached, `null`).
struct AttainmentCosts {
  std::string name;
  std::vector<std::optional<double>> costs;
};

/// Per curve, its costs at `kReportedAttainments`.
[[nodiscard]] std::vector<AttainmentCosts> attainment_costs(std::span<const Curve> curves);

/// summary.json's `curves` and `cost_at_attainment` members, for `summary_json`'s `more`:
/// "  \"curves\": [{policy, field, points: [{value, slo_attainment_pct, compute_unit_hours}],
/// skipped: [{value, reason}]}, ...],\n  \"cost_at_attainment\": {NAME: {\"99\": CU-h,
/// \"99.9\": CU-h}, ...}". `extra_costs` are appended to cost_at_attainment after the policies'
/// entries: where the oracle's figures go ("oracle" is a name `compare` reserves).
[[nodiscard]] std::string sweep_json_members(std::span<const Curve> curves,
                                             std::span<const AttainmentCosts> extra_costs = {});

}  // namespace qfscale::sim
