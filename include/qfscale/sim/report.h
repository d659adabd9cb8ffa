#pragma once

/// Policy comparisons and their reports (`qfscale simulate`): runs several policies over the
/// same services, computes the oracle for each service, aggregates per policy, and renders the
/// result as `summary.json`, `timeline.csv`, a self-contained `report.html` (inline SVG, no
/// script, no network) and a terminal table. Everything here is pure: strings in memory out,
/// no file or terminal I/O (the CLI writes the files).
///
/// ## Aggregates over services (one row per policy)
///
/// - requests_total, requests_over_capacity, compute_unit_hours, scale_operations: sums;
///   requests_over_capacity_pct recomputed from the sums.
/// - seconds_over_capacity: the sum of each service's seconds over capacity (service-seconds:
///   two services over in the same second count 2).
/// - max_replicas and mean_replicas: sums over services of the per-service figures. The sum of
///   maxima bounds the peak of the total from above (peaks of different services may not
///   coincide); the sum of means is the mean of the total when the traces are equally long.
/// - utilization_p50 / p99: the largest per-service value (the most loaded service), since
///   percentiles of different services do not add up.
/// - The queue (`Summary::queue`, queue.h): requests late and abandoned add up, attainment is
///   recomputed from the sums, and the wait histograms add up, so the wait percentiles are
///   exact over every request of every service. backlog_max is the sum of the per-service
///   maxima, a bound like max_replicas.
///
/// ## The oracle
///
/// Per service `sim::oracle` at the same startup delay, with max_replicas = capacity_units /
/// units_per_replica when a capacity is given, else unlimited. With a capacity, the seconds at
/// which the services' oracles together need more than it are cut to it the way the allocator
/// would (`fit_to_capacity`, oracle.h): the oracle row never exceeds the capacity, and is then
/// "capacity-bound" (Comparison::oracle_capacity_bound_seconds; the table says how many
/// requests even the oracle leaves over capacity). It is not bound by any policy's replicas.max: it
/// is the cheapest way to serve the traffic, not the best a given policy file could do. Aggregated
/// as above. Its queue figures come from replaying its per-second ready replicas through the same
/// queue
/// (`sim::oracle` itself leaves `Summary::queue` empty). It serves every second in full, so
/// nothing queues unless a capacity caps it.
///
/// cost_ratio_to_oracle = compute_unit_hours / oracle compute_unit_hours; 1 when both are 0,
/// +infinity when only the oracle's is 0 (written `null` in JSON, `inf` in the table).
/// Below 1 the policy spent less than the cheapest schedule that serves everything, so it is
/// under-provisioned, not better: the tables mark it "(under)".
///
/// ## The SLO oracle
///
/// sim/slo_oracle.h at kSloTargets (100%, 99.9%, 99%), same ticks, startup delay, queue and
/// capacity: for every service alone, and for all together (one LP sharing the late-request budget
/// and the capacity; the same as the service's own with one service). Its lower bound at a
/// policy's own attainment is taken from the three solved ones by convexity (lower_bound_at) at
/// 99% and above, and solved for at that attainment below 99% (where the convexity bound is weak),
/// so each policy's cost_ratio_to_oracle is CU-hours / that bound: never below 1 for a policy the
/// simulator ran (the LP is a relaxation of every controller acting at those ticks), and the
/// distance to 1 bounds from above how much any controller could save at that attainment. Not
/// computed (Comparison::slo_oracle empty, cost ratios against the no-queue oracle) when
/// CompareOptions::slo_oracle is off or the traces hold more than kSloOracleMaxSeconds seconds
/// together: CLP takes ~37 s per attainment on a week (bench/RESULTS.md).
///
/// utilization_p50 / p99 are over the seconds with demand and a ready replica (simulator.h), so
/// idle seconds of a sparse trace do not pull them to 0.
///
/// ## The over-capacity floor
///
/// Per service `OverCapacityFloor` (floor.h) at the replica-seconds the policy spent on it: the
/// fewest requests over capacity any controller acting at the same ticks could have left at that
/// cost, knowing the future. Summed over services (each at its own spend), and a percentage of
/// requests_total. Requests over capacity minus the floor is what a better policy could still
/// save without spending more. Not defined for the oracle, which acts per second, not at ticks
/// (NaN here, `null` in JSON, `-` in the tables).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/model/units.h"
#include "qfscale/policy/policy.h"
#include "qfscale/sim/queue.h"
#include "qfscale/sim/simulator.h"
#include "qfscale/sim/slo_oracle.h"
#include "qfscale/sim/sweep.h"
#include "qfscale/util/result.h"

namespace qfscale::sim {

/// What the run was given, echoed in the reports.
struct ReportInputs {
  std::vector<std::string> trace_files;  ///< as named on the command line, one per service
  double replica_qps = 0;
  std::string resource_type;  ///< e.g. "GPU-I-2"
  model::ComputeUnits units_per_replica{1};
  std::chrono::seconds startup_delay{90};
  std::chrono::seconds tick{15};
  std::chrono::seconds metric_span{0};  ///< 0: the tick (SimOptions::metric_span)
  QueueOptions queue;                   ///< slo_wait and abandon_after
  std::optional<model::ComputeUnits> capacity_units;
  std::int64_t start_unix_seconds = 0;  ///< wall time of trace second 0
};

/// One policy (or the oracle): its run, the aggregate over services and the ratio to the oracle.
struct PolicyRow {
  /// The policy's run. For the oracle: policy "oracle", and per service a timeline at the same
  /// ticks as the policies' with the replicas on and ready in the second at the tick (desired =
  /// granted = replicas, reason None).
  SimulationResult result;
  Summary total;
  /// Against the SLO oracle at the row's own attainment ("The SLO oracle" above); against the
  /// no-queue oracle when the SLO oracle was not computed, and for the oracle row itself.
  double cost_ratio_to_oracle = 1;
  std::vector<double> service_cost_ratios;  ///< per service, against that service's oracle
  /// Against the no-queue (per-second) oracle row, as cost_ratio_to_oracle was before.
  double cost_ratio_to_no_queue_oracle = 1;
  std::vector<double> service_no_queue_cost_ratios;
  /// The over-capacity floor at this row's cost (above): the sum, and one per service.
  double over_capacity_floor = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> service_over_capacity_floors;
};

struct ChartPoint {
  double x = 0;
  double y = 0;
  friend bool operator==(const ChartPoint&, const ChartPoint&) = default;
};

inline constexpr std::size_t kMaxChartPoints = 1500;

/// Reduces a series (x ascending) to at most `max_points` points (values below 4 count as 4: the
/// first and last point plus one bucket): the x range is cut into
/// max_points / 2 buckets and each keeps its lowest and highest point in x order, so peaks and
/// troughs survive. Returned unchanged when already small enough, so downsampling twice gives
/// the same points as once: `Comparison::oracle_charts` are downsampled when computed, and
/// report_html downsamples every series again.
[[nodiscard]] std::vector<ChartPoint> downsample(std::span<const ChartPoint> points,
                                                 std::size_t max_points);

/// One point per second, at x = the second, y = value x scale (the value holds for that second).
template <typename T>
[[nodiscard]] std::vector<ChartPoint> per_second_points(std::span<const T> values, double scale) {
  std::vector<ChartPoint> out;
  out.reserve(values.size());
  for (std::size_t s = 0; s < values.size(); ++s) {
    out.push_back({static_cast<double>(s), static_cast<double>(values[s]) * scale});
  }
  return out;
}

/// Per service, the oracle's replicas on and its ready capacity (QPS) per second, already
/// downsampled to the charts' `kMaxChartPoints`: only the charts use the per-second schedule,
/// and keeping it whole cost 8 bytes per service-second (0.7 GB for 1,000 services over a day).
struct OracleCharts {
  std::vector<ChartPoint> on;
  std::vector<ChartPoint> ready_capacity;
};

/// Service-seconds (summed over services) above which `compare` skips the SLO oracle.
inline constexpr std::int64_t kSloOracleMaxSeconds = 7 * 86'400;

/// The SLO oracle's answers, each at kSloTargets in that order.
struct SloOracleFigures {
  std::vector<SloBound> total;                  ///< all services together
  std::vector<std::vector<SloBound>> services;  ///< per service alone
};

/// Everything the reports show. Thread-safety: a value; immutable after `compare` returns.
struct Comparison {
  ReportInputs inputs;
  std::vector<ServiceSpec> services;  ///< traces shared, not copied
  std::vector<PolicyRow> policies;    ///< input order
  PolicyRow oracle;
  std::vector<OracleCharts> oracle_charts;  ///< per service
  /// Seconds at which the per-service oracles together exceeded --capacity-units and were cut
  /// to it (oracle.h, "Shared capacity"); 0 without a capacity or when they fit. When > 0 no
  /// schedule within the capacity serves every request, and the oracle row's requests over
  /// capacity say how many even the oracle leaves unserved.
  std::int64_t oracle_capacity_bound_seconds = 0;
  std::optional<SloOracleFigures> slo_oracle;  ///< empty when not computed (above)
  bool slo_oracle_too_long = false;  ///< asked for, but the traces exceed kSloOracleMaxSeconds
};

struct CompareOptions {
  SimOptions sim;  ///< `timeline` is forced on; `progress` is replaced (see below)
  /// Worker threads; each policy is simulated on one of them, then each service's oracle and
  /// floor. 0 or 1: one worker.
  unsigned threads = 1;
  /// Called with (done, total) at most about 100 times per policy and per phase, from worker
  /// threads but never concurrently; the last call has done == total. Counted in ticks: the
  /// policies' runs, then the oracles and then the floors, each phase weighted as one policy's
  /// run (total = ticks per policy x (policies + 2)).
  std::function<void(std::int64_t done_ticks, std::int64_t total_ticks)> progress;
  /// Compute the SLO oracle (above) when the traces are at most kSloOracleMaxSeconds long. Off
  /// by default: `qfscale simulate` turns it on; callers that compare many times (sweeps) need
  /// not pay for its LPs each time.
  bool slo_oracle = false;
};

/// Simulates every policy over `services`, computes the oracles and aggregates. The result does
/// not depend on `threads`. Fails with the first failing policy's error (in input order), or
/// InvalidInput on no policies, duplicate policy names or inputs that `simulate` rejects.
/// Thread-safety: a pure function; spawns and joins its own threads.
[[nodiscard]] Result<Comparison> compare(std::span<const policy::Policy> policies,
                                         std::span<const ServiceSpec> services,
                                         const ReportInputs& inputs, const CompareOptions& options);

/// `summary.json`: {"inputs", "policies": [...], "oracle", "oracle_capacity_bound_seconds",
/// "slo_oracle"}; slo_oracle is null when not computed, else {"100": T, "99.9": T, "99": T,
/// "services": [{"service", "100": T, ...}]} with T = {lower_bound_cu_hours, achievable_cu_hours,
/// achievable_slo_attainment_pct, gap_pct, lp_check_every_s} (null where there is none); keys
/// in a fixed order, numbers in
/// shortest round-trip form, one policy per block. Ends with a newline. `more`: further members,
/// already formatted at two spaces' indent without a trailing comma (a sweep's `curves` and
/// `cost_at_attainment`, sweep.h), written last; nothing changes when it is empty.
[[nodiscard]] std::string summary_json(const Comparison& c, std::string_view more = {});

/// `timeline.csv`: header `policy,service,t_seconds,demand_qps,ready_capacity_qps,replicas,
/// ready_replicas,desired,granted,reason`, then per policy (then the oracle, reason `oracle`),
/// per service, one row per tick. demand_qps is the mean over the tick before t_seconds.
[[nodiscard]] std::string timeline_csv(const Comparison& c);

/// The comparison table for a terminal: one row per policy and one for the oracle, then a legend:
/// what util p50/p99 count, what "(under)" after an x-oracle ratio below 1 means (when a row has
/// one), and, when the oracle is capacity-bound, how many requests even it leaves unserved.
[[nodiscard]] std::string format_table(const Comparison& c);

/// `report.html`: one page, no scripts, no external resources. Per service two inline SVG charts,
/// `<svg class="chart" data-chart="capacity|replicas" data-service="ID">`, each with one
/// `<polyline class="series" data-series="NAME">` per policy and one for the oracle (the capacity
/// chart also has data-series="demand"), axes with tick labels and a legend; then the summary
/// table. Series are downsampled to at most `kMaxChartPoints` points. With a sweep's `curves`
/// (sweep.h), a cost-versus-attainment chart comes first: `<svg class="chart"
/// data-chart="cost-attainment">`, a polyline and a dot per point for each policy, a ring at each
/// policy as written (its summary row) and the oracle's point; attainments below 90% are left
/// off the axis (the caption says how many), since the choice is made between 99% and 100%.
[[nodiscard]] std::string report_html(const Comparison& c, std::span<const Curve> curves = {});

/// An SLO attainment for the tables: three decimals, since SLOs are set at 99.9%, and never
/// rounded up to "100.000%" while anything was late (99.9996 -> "99.999%").
[[nodiscard]] std::string attainment_text(double pct);

/// An x-oracle ratio for the tables: two decimals, "inf", and " (under)" after a ratio below 1
/// (0.85 -> "0.85 (under)"): cheaper than serving everything means under-provisioned.
[[nodiscard]] std::string ratio_text(double ratio);

/// The table legend's lines (report.h, format_table), also shown under the HTML summary table.
[[nodiscard]] std::vector<std::string> table_legend(const Comparison& c);

/// Escapes & < > " ' for HTML text and attribute values.
[[nodiscard]] std::string html_escape(std::string_view text);

}  // namespace qfscale::sim
