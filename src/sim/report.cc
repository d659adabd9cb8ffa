// compare(): runs the policies, the oracles and the floors on worker threads, and the aggregates;
// and the plain-text reports (summary.json, timeline.csv, the terminal table). The HTML report is
// in report_html.cc.

#include "qfscale/sim/report.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "qfscale/sim/floor.h"
#include "qfscale/sim/oracle.h"
#include "qfscale/util/check.h"
#include "qfscale/util/concurrency.h"
#include "qfscale/util/json_string.h"
#include "qfscale/util/json_writer.h"

namespace qfscale::sim {
namespace {

using util::json_number;

constexpr std::string_view kOracle = "oracle";

Summary aggregate(std::span<const ServiceResult> services) {
  Summary t;
  for (const auto& s : services) {
    const auto& x = s.summary;
    t.requests_total += x.requests_total;
    t.requests_over_capacity += x.requests_over_capacity;
    t.seconds_over_capacity += x.seconds_over_capacity;
    t.compute_unit_hours += x.compute_unit_hours;
    t.scale_operations += x.scale_operations;
    t.max_replicas += x.max_replicas;
    t.mean_replicas += x.mean_replicas;
    t.utilization_p50 = std::max(t.utilization_p50, x.utilization_p50);
    t.utilization_p99 = std::max(t.utilization_p99, x.utilization_p99);
    t.queue.add(x.queue);
  }
  t.requests_over_capacity_pct =
      t.requests_total > 0 ? 100.0 * t.requests_over_capacity / t.requests_total : 0.0;
  return t;
}

double cost_ratio(double cost, double oracle_cost) {
  if (oracle_cost > 0) return cost / oracle_cost;
  return cost > 0 ? std::numeric_limits<double>::infinity() : 1.0;
}

/// Per service, the oracle's compute-unit-hours: what each row's cost ratios divide by.
std::vector<double> unit_hours_of(const SimulationResult& oracle) {
  std::vector<double> out;
  out.reserve(oracle.services.size());
  for (const auto& s : oracle.services) out.push_back(s.summary.compute_unit_hours);
  return out;
}

PolicyRow make_row(SimulationResult result, std::span<const double> oracle_unit_hours) {
  QFS_ASSERT(oracle_unit_hours.size() == result.services.size(), "one oracle figure per service");
  PolicyRow row;
  row.total = aggregate(result.services);
  row.cost_ratio_to_oracle =
      cost_ratio(row.total.compute_unit_hours,
                 std::accumulate(oracle_unit_hours.begin(), oracle_unit_hours.end(), 0.0));
  for (std::size_t i = 0; i < result.services.size(); ++i) {
    row.service_cost_ratios.push_back(
        cost_ratio(result.services[i].summary.compute_unit_hours, oracle_unit_hours[i]));
  }
  row.cost_ratio_to_no_queue_oracle = row.cost_ratio_to_oracle;
  row.service_no_queue_cost_ratios = row.service_cost_ratios;
  row.result = std::move(result);
  return row;
}

/// Reports (done, total) for the three phases of `compare`: the policies' runs (counted in ticks),
/// then the oracles and then the floors, each weighted as one more policy's run so that the bar
/// keeps moving through them. At most about 100 calls per policy or phase; never concurrently.
class CompareProgress {
 public:
  CompareProgress(std::function<void(std::int64_t, std::int64_t)> sink, std::size_t policies,
                  std::int64_t per_policy, std::size_t services)
      : sink_(std::move(sink)),
        per_policy_(per_policy),
        services_(services),
        policy_done_(policies, 0),
        total_(per_policy * static_cast<std::int64_t>(policies + 2)) {}

  [[nodiscard]] bool enabled() const { return static_cast<bool>(sink_); }

  void policy_ticks(std::size_t policy, std::int64_t done) {
    const std::lock_guard lock(mutex_);
    policy_done_[policy] = done;
    report_locked();
  }

  /// One more service finished in the current per-service phase (oracles, then floors).
  void service_done() {
    const std::lock_guard lock(mutex_);
    ++services_done_;
    const auto before = phase_ticks_;
    phase_ticks_ = per_policy_ * static_cast<std::int64_t>(services_done_) /
                   static_cast<std::int64_t>(std::max<std::size_t>(services_, 1));
    const auto step = std::max<std::int64_t>((per_policy_ + 99) / 100, 1);  // <= 100 a phase
    if (services_done_ == services_ || phase_ticks_ / step != before / step) report_locked();
  }

  /// The current per-service phase is complete; the next one starts from zero.
  void next_phase() {
    const std::lock_guard lock(mutex_);
    phases_done_ += per_policy_;
    phase_ticks_ = 0;
    services_done_ = 0;
  }

 private:
  void report_locked() {
    if (!sink_) return;
    const auto done = std::accumulate(policy_done_.begin(), policy_done_.end(), std::int64_t{0}) +
                      phases_done_ + phase_ticks_;
    sink_(done, total_);
  }

  std::function<void(std::int64_t, std::int64_t)> sink_;
  std::int64_t per_policy_;
  std::size_t services_;
  std::mutex mutex_;
  std::vector<std::int64_t> policy_done_;
  std::int64_t phases_done_ = 0;
  std::int64_t phase_ticks_ = 0;
  std::size_t services_done_ = 0;
  std::int64_t total_;
};

/// The queue under a per-second schedule of ready replicas (the oracle's): the simulator's
/// per-second queue accounting, replayed.
QueueStats replay_queue(const ServiceSpec& s, std::span<const int> ready,
                        const QueueOptions& options) {
  const auto demand = s.trace->per_second();
  QFS_ASSERT(ready.size() == demand.size(), "one ready count per trace second");
  FifoQueue queue(options);
  for (std::size_t t = 0; t < demand.size(); ++t) queue.second(demand[t], ready[t] * s.replica_qps);
  queue.drain(ready.empty() ? 0.0 : ready.back() * s.replica_qps);
  return queue.stats();
}

/// The oracle for every service (on `workers` threads), with a timeline sampled at the
/// policies' ticks.
/// Each service's oracle (oracle.h). With a shared capacity the per-service schedules are cut to
/// it where they do not fit together (`fit_to_capacity`); `capacity_bound_seconds` gets the
/// number of seconds cut. Without a capacity each service is finished on its worker as soon as
/// it is computed, so its per-second schedule is freed at once.
Result<SimulationResult> run_oracles(std::span<const ServiceSpec> services, const SimOptions& sim,
                                     int workers, CompareProgress& progress,
                                     std::vector<OracleCharts>& charts_out,
                                     std::int64_t& capacity_bound_seconds) {
  const std::int64_t tick = sim.tick.count();
  std::vector<Result<OracleResult>> oracles(services.size(), fail(ErrorCode::Internal, "not run"));
  std::vector<ServiceResult> results(services.size());
  std::vector<OracleCharts> charts(services.size());
  const auto compute = [&](std::size_t i) {
    const auto& s = services[i];
    OracleOptions o{.startup_delay = sim.startup_delay, .max_replicas = {}, .keep_schedule = true};
    if (sim.capacity_units) {
      o.max_replicas = model::Replicas{sim.capacity_units->value / s.units_per_replica.value};
    }
    oracles[i] = oracle(*s.trace, s.replica_qps, s.units_per_replica, o);
  };
  const auto finish = [&](std::size_t i) {
    const auto& s = services[i];
    auto& r = oracles[i];
    if (r) {
      ServiceResult& sr = results[i];
      sr = ServiceResult{.id = s.id, .summary = r->summary, .timeline = {}};
      sr.summary.queue = replay_queue(s, r->ready, sim.queue);
      const auto length = static_cast<std::int64_t>(s.trace->size());
      sr.timeline.reserve(static_cast<std::size_t>(std::max<std::int64_t>(length / tick, 0)));
      for (std::int64_t t = tick; t < length; t += tick) {
        const auto k = static_cast<std::size_t>(t);
        const int on = r->on[k];
        sr.timeline.push_back(TimelinePoint{
            .t = t,
            .demand = s.trace->mean(static_cast<double>(t - tick), static_cast<double>(t)),
            .ready_capacity = r->ready[k] * s.replica_qps,
            .replicas = model::Replicas{on},
            .ready = model::Replicas{r->ready[k]},
            .desired = model::Replicas{on},
            .granted = model::Replicas{on},
            .reason = model::Reason::None});
      }
      // Taken out of the result so that they are freed here: 8 bytes per service-second, and
      // only the charts need them, downsampled.
      const auto on_per_second = std::exchange(r->on, {});
      const auto ready_per_second = std::exchange(r->ready, {});
      charts[i] = OracleCharts{
          .on = downsample(per_second_points<int>(on_per_second, 1.0), kMaxChartPoints),
          .ready_capacity =
              downsample(per_second_points<int>(ready_per_second, s.replica_qps), kMaxChartPoints)};
    }
    progress.service_done();
  };
  if (!sim.capacity_units) {
    util::for_each_concurrently(services.size(), workers, [&](std::size_t i) {
      compute(i);
      finish(i);
    });
  } else {
    util::for_each_concurrently(services.size(), workers, compute);
    if (std::all_of(oracles.begin(), oracles.end(), [](const auto& r) { return r.has_value(); })) {
      std::vector<std::vector<int>> on;
      on.reserve(services.size());
      for (auto& r : oracles) on.push_back(std::exchange(r->on, {}));
      auto cut = fit_to_capacity(on, services, *sim.capacity_units);
      if (!cut) return fail(std::move(cut.error()));
      capacity_bound_seconds = *cut;
      util::for_each_concurrently(services.size(), workers, [&](std::size_t i) {
        const auto& s = services[i];
        if (*cut > 0) {
          oracles[i] = schedule_result(*s.trace, s.replica_qps, s.units_per_replica,
                                       sim.startup_delay, std::move(on[i]), true);
        } else {
          oracles[i]->on = std::move(on[i]);
        }
        finish(i);
      });
    }
  }
  progress.next_phase();

  SimulationResult out;
  out.policy = std::string(kOracle);
  for (std::size_t i = 0; i < services.size(); ++i) {
    auto& r = oracles[i];
    if (!r) {
      return fail(std::move(r.error()).with_context(
          fmt::format("oracle for service '{}'", services[i].id)));
    }
    out.services.push_back(std::move(results[i]));
    charts_out.push_back(std::move(charts[i]));
  }
  return out;
}

/// Fills each policy row's over-capacity floors; the oracle row keeps NaN (report.h). A service
/// whose floor cannot be computed (a replica_qps so small that its peak needs over 2^53
/// replicas) gets NaN too, shown as "-", rather than failing a comparison whose other figures
/// are fine.
void add_floors(Comparison& c, const SimOptions& sim, int workers, CompareProgress& progress) {
  for (auto& row : c.policies) row.service_over_capacity_floors.assign(c.services.size(), 0);
  c.oracle.service_over_capacity_floors.assign(c.services.size(),
                                               std::numeric_limits<double>::quiet_NaN());
  // Each service's floor is built (the costly part) and read at every policy's cost on one
  // worker; each worker writes only its service's column.
  util::for_each_concurrently(c.services.size(), workers, [&](std::size_t i) {
    const auto& s = c.services[i];
    const auto floor =
        OverCapacityFloor::build(s.trace->per_second(), s.replica_qps, sim.tick, sim.startup_delay);
    for (auto& row : c.policies) {
      // Unit-seconds are whole numbers: rounding undoes the division by 3600 exactly.
      const double unit_seconds =
          std::round(row.result.services[i].summary.compute_unit_hours * 3600.0);
      row.service_over_capacity_floors[i] =
          floor ? floor->at(unit_seconds / s.units_per_replica.value)
                : std::numeric_limits<double>::quiet_NaN();
    }
    progress.service_done();
  });
  progress.next_phase();
  // Summed in service order, so the total does not depend on which worker finished first.
  for (auto& row : c.policies) {
    row.over_capacity_floor = std::accumulate(row.service_over_capacity_floors.begin(),
                                              row.service_over_capacity_floors.end(), 0.0);
  }
}

/// The SLO oracle (report.h): every service alone on a worker each, then all together when there
/// are several; then each policy's cost ratios against its lower bound at the policy's own
/// attainment. Leaves the comparison as it is when skipped.
Status add_slo_oracle(Comparison& c, const CompareOptions& options, int workers) {
  std::int64_t seconds = 0;
  for (const auto& s : c.services) seconds += static_cast<std::int64_t>(s.trace->size());
  if (!options.slo_oracle) return util::ok();
  if (seconds > kSloOracleMaxSeconds) {
    c.slo_oracle_too_long = true;
    return util::ok();
  }
  const SloOracleOptions o{.tick = options.sim.tick,
                           .startup_delay = options.sim.startup_delay,
                           .queue = options.sim.queue,
                           .capacity_units = options.sim.capacity_units};
  std::vector<SloService> services;
  for (const auto& s : c.services) {
    services.push_back({.demand = s.trace->per_second(),
                        .replica_qps = s.replica_qps,
                        .units_per_replica = s.units_per_replica});
  }
  std::vector<Result<std::vector<SloBound>>> alone(services.size(), std::vector<SloBound>{});
  util::for_each_concurrently(services.size(), workers, [&](std::size_t i) {
    alone[i] = slo_oracle(std::span(&services[i], 1), o, kSloTargets);
  });
  SloOracleFigures figures;
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (!alone[i]) {
      return fail(std::move(alone[i].error())
                      .with_context(fmt::format("slo oracle for service '{}'", c.services[i].id)));
    }
    figures.services.push_back(std::move(*alone[i]));
  }
  if (services.size() == 1) {
    figures.total = figures.services[0];
  } else {
    auto together = slo_oracle(services, o, kSloTargets);
    if (!together) return fail(std::move(together.error()));
    figures.total = std::move(*together);
  }
  // Between the solved attainments and above, convexity gives the bound; below them it is
  // weak (the secant runs down to 0 soon), so the LP is solved at the policy's own attainment.
  const auto ratio = [&](const Summary& s, std::span<const SloService> which,
                         std::span<const SloBound> bounds) -> Result<double> {
    const double pct = s.queue.attainment_pct();
    std::optional<double> bound = lower_bound_at(bounds, pct);
    if (pct < kSloTargets.back()) {
      auto own = slo_oracle(which, o, std::vector<double>{pct});
      if (!own) return fail(std::move(own.error()));
      bound = (*own)[0].lower_bound_cu_hours;
    }
    return bound ? cost_ratio(s.compute_unit_hours, *bound)
                 : std::numeric_limits<double>::quiet_NaN();
  };
  std::vector<Status> status(c.policies.size(), util::ok());
  util::for_each_concurrently(c.policies.size(), workers, [&](std::size_t p) {
    auto& row = c.policies[p];
    auto total = ratio(row.total, services, figures.total);
    if (!total) {
      status[p] = fail(std::move(total.error()));
      return;
    }
    row.cost_ratio_to_oracle = *total;
    for (std::size_t i = 0; i < services.size(); ++i) {
      auto one =
          ratio(row.result.services[i].summary, std::span(&services[i], 1), figures.services[i]);
      if (!one) {
        status[p] = fail(std::move(one.error()));
        return;
      }
      row.service_cost_ratios[i] = *one;
    }
  });
  for (auto& st : status) {
    if (!st) return st;
  }
  c.slo_oracle = std::move(figures);
  return util::ok();
}

double pct_of(double part, double total) {
  if (!std::isfinite(part)) return part;
  return total > 0 ? 100.0 * part / total : 0.0;
}

/// Utilizations are float samples widened to double; print the float's short form (0.33333334,
/// not 0.3333333432674408). Still exact: the value read back rounds to the same float.
std::string json_float(double v) {
  const auto f = static_cast<float>(v);
  if (std::isfinite(v) && static_cast<double>(f) == v) return fmt::format("{}", f);
  return json_number(v);
}

void append_figures(std::string& out, const Summary& s, double ratio, double no_queue_ratio,
                    double floor, std::string_view indent) {
  const auto& q = s.queue;
  out += fmt::format("{0}\"requests_total\": {1},\n", indent, json_number(s.requests_total));
  out += fmt::format("{0}\"slo_attainment_pct\": {1},\n", indent, json_number(q.attainment_pct()));
  out += fmt::format("{0}\"requests_late\": {1},\n", indent, json_number(q.late));
  out += fmt::format("{0}\"requests_abandoned\": {1},\n", indent, json_number(q.abandoned));
  out += fmt::format("{0}\"wait_p50_seconds\": {1},\n", indent, q.wait_percentile(0.50));
  out += fmt::format("{0}\"wait_p99_seconds\": {1},\n", indent, q.wait_percentile(0.99));
  out += fmt::format("{0}\"wait_max_seconds\": {1},\n", indent, q.wait_max());
  out += fmt::format("{0}\"backlog_max\": {1},\n", indent, json_number(q.backlog_max));
  out += fmt::format("{0}\"requests_over_capacity\": {1},\n", indent,
                     json_number(s.requests_over_capacity));
  out += fmt::format("{0}\"requests_over_capacity_pct\": {1},\n", indent,
                     json_number(s.requests_over_capacity_pct));
  out += fmt::format("{0}\"requests_over_capacity_floor\": {1},\n", indent, json_number(floor));
  out += fmt::format("{0}\"requests_over_capacity_floor_pct\": {1},\n", indent,
                     json_number(pct_of(floor, s.requests_total)));
  out += fmt::format("{0}\"seconds_over_capacity\": {1},\n", indent, s.seconds_over_capacity);
  out +=
      fmt::format("{0}\"compute_unit_hours\": {1},\n", indent, json_number(s.compute_unit_hours));
  out += fmt::format("{0}\"scale_operations\": {1},\n", indent, s.scale_operations);
  out += fmt::format("{0}\"max_replicas\": {1},\n", indent, s.max_replicas);
  out += fmt::format("{0}\"mean_replicas\": {1},\n", indent, json_number(s.mean_replicas));
  out += fmt::format("{0}\"utilization_p50\": {1},\n", indent, json_float(s.utilization_p50));
  out += fmt::format("{0}\"utilization_p99\": {1},\n", indent, json_float(s.utilization_p99));
  out += fmt::format("{0}\"cost_ratio_to_no_queue_oracle\": {1},\n", indent,
                     json_number(no_queue_ratio));
  out += fmt::format("{0}\"cost_ratio_to_oracle\": {1}", indent, json_number(ratio));
}

void append_row(std::string& out, const PolicyRow& row, std::string_view indent) {
  const std::string in1 = std::string(indent) + "  ";
  const std::string in3 = in1 + "    ";
  out += "{\n" + in1 + "\"policy\": ";
  util::append_json_string(out, row.result.policy);
  out += ",\n";
  append_figures(out, row.total, row.cost_ratio_to_oracle, row.cost_ratio_to_no_queue_oracle,
                 row.over_capacity_floor, in1);
  out += ",\n" + in1 + "\"services\": [";
  for (std::size_t i = 0; i < row.result.services.size(); ++i) {
    const auto& s = row.result.services[i];
    out += i == 0 ? "\n" : ",\n";
    out += in1 + "  {\n" + in3 + "\"service\": ";
    util::append_json_string(out, s.id.value);
    out += ",\n";
    append_figures(out, s.summary, row.service_cost_ratios[i], row.service_no_queue_cost_ratios[i],
                   row.service_over_capacity_floors[i], in3);
    out += "\n" + in1 + "  }";
  }
  out += "\n" + in1 + "]\n" + std::string(indent) + "}";
}

/// "100": {...}, "99.9": {...}, "99": {...}: the SLO oracle at kSloTargets (report.h).
void append_slo_targets(std::string& out, std::span<const SloBound> bounds,
                        std::string_view indent) {
  for (std::size_t j = 0; j < bounds.size(); ++j) {
    const auto& b = bounds[j];
    const auto optional = [](const std::optional<double>& v) {
      return v ? json_number(*v) : std::string("null");
    };
    out += fmt::format(
        "{}\"{}\": {{\"lower_bound_cu_hours\": {}, \"achievable_cu_hours\": {}, "
        "\"achievable_slo_attainment_pct\": {}, \"gap_pct\": {}, \"lp_check_every_s\": {}}},\n",
        indent, b.attainment_pct, optional(b.lower_bound_cu_hours), optional(b.achievable_cu_hours),
        b.achievable_cu_hours ? json_number(b.achievable_attainment_pct) : "null",
        optional(b.gap_pct()), b.check_every_seconds);
  }
}

void append_slo_oracle(std::string& out, const Comparison& c) {
  if (!c.slo_oracle) {
    out += "null";
    return;
  }
  out += "{\n";
  append_slo_targets(out, c.slo_oracle->total, "    ");
  out += "    \"services\": [";
  for (std::size_t i = 0; i < c.slo_oracle->services.size(); ++i) {
    out += i == 0 ? "\n      {\n        \"service\": " : ",\n      {\n        \"service\": ";
    util::append_json_string(out, c.services[i].id.value);
    out += ",\n";
    append_slo_targets(out, c.slo_oracle->services[i], "        ");
    out.resize(out.size() - 2);  // the last target's ",\n"
    out += "\n      }";
  }
  out += "\n    ]\n  }";
}

/// RFC 4180: quoted only when needed.
void append_csv_field(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char ch : text) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

void append_timeline(std::string& out, const PolicyRow& row, bool oracle) {
  for (const auto& s : row.result.services) {
    for (const auto& p : s.timeline) {
      append_csv_field(out, row.result.policy);
      out += ',';
      append_csv_field(out, s.id.value);
      out += fmt::format(",{},{},{},{},{},{},{},{}\n", p.t, p.demand, p.ready_capacity,
                         p.replicas.value, p.ready.value, p.desired.value, p.granted.value,
                         oracle ? kOracle : model::to_string(p.reason));
    }
  }
}

std::vector<std::string> table_cells(const PolicyRow& row) {
  const auto& s = row.total;
  return {row.result.policy,
          attainment_text(s.queue.attainment_pct()),
          fmt::format("{}s", s.queue.wait_percentile(0.99)),
          fmt::format("{:.0f}", s.requests_over_capacity),
          fmt::format("{:.2f}%", s.requests_over_capacity_pct),
          std::isfinite(row.over_capacity_floor)
              ? fmt::format("{:.2f}%", pct_of(row.over_capacity_floor, s.requests_total))
              : std::string("-"),
          fmt::format("{}", s.seconds_over_capacity),
          fmt::format("{:.2f}", s.compute_unit_hours),
          ratio_text(row.cost_ratio_to_oracle),
          fmt::format("{}", s.scale_operations),
          fmt::format("{}", s.max_replicas),
          fmt::format("{:.2f}", s.mean_replicas),
          fmt::format("{:.2f}", s.utilization_p50),
          fmt::format("{:.2f}", s.utilization_p99)};
}

}  // namespace

Result<Comparison> compare(std::span<const policy::Policy> policies,
                           std::span<const ServiceSpec> services, const ReportInputs& inputs,
                           const CompareOptions& options) {
  if (policies.empty()) return fail(ErrorCode::InvalidInput, "compare: no policies");
  std::set<std::string> names;
  for (const auto& p : policies) {
    if (p.name() == kOracle) {
      return fail(ErrorCode::InvalidInput,
                  "compare: policy name 'oracle' is reserved for the oracle's row");
    }
    if (!names.insert(p.name()).second) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("compare: policy '{}' is given twice (names must be unique; "
                              "copy a file and change metadata.name to compare variants)",
                              p.name()));
    }
  }
  const std::size_t n = policies.size();

  // Progress: every policy runs the same ticks, so the total is known up front.
  std::int64_t horizon = 0;
  for (const auto& s : services) {
    if (s.trace) horizon = std::max(horizon, static_cast<std::int64_t>(s.trace->size()));
  }
  const std::int64_t tick = options.sim.tick.count();
  const std::int64_t per_policy = tick > 0 && horizon > 0 ? (horizon - 1) / tick : 0;
  CompareProgress progress(options.progress, n, per_policy, services.size());
  const int workers = static_cast<int>(std::max(1U, options.threads));

  std::vector<Result<SimulationResult>> results(n, fail(ErrorCode::Internal, "not run"));
  util::for_each_concurrently(n, workers, [&](std::size_t i) {
    SimOptions o = options.sim;
    o.timeline = true;
    o.progress = nullptr;
    if (progress.enabled()) {
      o.progress = [&, i](std::int64_t d, std::int64_t) { progress.policy_ticks(i, d); };
    }
    results[i] = simulate(policies[i], services, o);
  });
  for (auto& r : results) {
    if (!r) return fail(std::move(r.error()));
  }

  Comparison c;
  c.inputs = inputs;
  c.services.assign(services.begin(), services.end());
  auto oracle = run_oracles(services, options.sim, workers, progress, c.oracle_charts,
                            c.oracle_capacity_bound_seconds);
  if (!oracle) return fail(std::move(oracle.error()));
  const auto oracle_unit_hours = unit_hours_of(*oracle);
  for (auto& r : results) c.policies.push_back(make_row(std::move(*r), oracle_unit_hours));
  c.oracle = make_row(std::move(*oracle), oracle_unit_hours);
  add_floors(c, options.sim, workers, progress);
  if (auto st = add_slo_oracle(c, options, workers); !st) return fail(std::move(st.error()));
  return c;
}

std::string ratio_text(double ratio) {
  if (!std::isfinite(ratio)) return "inf";
  auto text = fmt::format("{:.2f}", ratio);
  if (ratio < 1.0) text += " (under)";
  return text;
}

std::vector<std::string> table_legend(const Comparison& c) {
  std::vector<std::string> lines = {
      "util p50/p99: demand / ready capacity, over the seconds with demand (idle seconds are "
      "left out)."};
  const bool under = std::any_of(c.policies.begin(), c.policies.end(),
                                 [](const PolicyRow& r) { return r.cost_ratio_to_oracle < 1.0; });
  if (under) {
    lines.emplace_back(
        "x oracle below 1 (under): cheaper than the oracle, which serves every request it can, "
        "so under-provisioned, not better.");
  }
  if (c.inputs.capacity_units && c.oracle_capacity_bound_seconds == 0 &&
      c.oracle.total.requests_over_capacity > 0) {
    // A service whose peak alone needs more than the capacity (oracle max_replicas).
    lines.push_back(fmt::format(
        "oracle: capacity-bound; a peak needs more than --capacity-units {}, so even the oracle "
        "leaves {:.0f} requests over capacity.",
        c.inputs.capacity_units->value, c.oracle.total.requests_over_capacity));
  }
  if (c.oracle_capacity_bound_seconds > 0 && c.inputs.capacity_units) {
    lines.push_back(fmt::format(
        "oracle: capacity-bound; the services together need more than --capacity-units {} in "
        "{} s, so it is cut to {} there and even the oracle leaves {:.0f} requests over "
        "capacity.",
        c.inputs.capacity_units->value, c.oracle_capacity_bound_seconds,
        c.inputs.capacity_units->value, c.oracle.total.requests_over_capacity));
  }
  return lines;
}

std::string attainment_text(double pct) {
  auto text = fmt::format("{:.3f}%", pct);
  if (pct < 100.0 && text == "100.000%") text = "99.999%";
  return text;
}

std::string summary_json(const Comparison& c, std::string_view more) {
  const auto& in = c.inputs;
  std::string out = "{\n  \"inputs\": {\n    \"traces\": [";
  for (std::size_t i = 0; i < c.services.size(); ++i) {
    out += i == 0 ? "\n      {\"service\": " : ",\n      {\"service\": ";
    util::append_json_string(out, c.services[i].id.value);
    out += ", \"file\": ";
    util::append_json_string(out, i < in.trace_files.size() ? in.trace_files[i] : "");
    out += fmt::format(", \"seconds\": {}}}", c.services[i].trace->size());
  }
  out += "\n    ],\n    \"replica_qps\": " + json_number(in.replica_qps) + ",\n    \"type\": ";
  util::append_json_string(out, in.resource_type);
  out += fmt::format(
      ",\n    \"units_per_replica\": {},\n    \"startup_delay_s\": {},\n    \"tick_s\": {},\n"
      "    \"metric_span_s\": {},\n    \"slo_wait_s\": {},\n    \"abandon_after_s\": {},\n"
      "    \"capacity_units\": {},\n    \"start_unix_s\": {}\n  }},\n",
      in.units_per_replica.value, in.startup_delay.count(), in.tick.count(),
      (in.metric_span.count() > 0 ? in.metric_span : in.tick).count(), in.queue.slo_wait.count(),
      in.queue.abandon_after.count(),
      in.capacity_units ? fmt::format("{}", in.capacity_units->value) : "null",
      in.start_unix_seconds);
  out += "  \"policies\": [";
  for (std::size_t i = 0; i < c.policies.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    append_row(out, c.policies[i], "    ");
  }
  out += "\n  ],\n  \"oracle\": ";
  append_row(out, c.oracle, "  ");
  out += fmt::format(",\n  \"oracle_capacity_bound_seconds\": {},\n  \"slo_oracle\": ",
                     c.oracle_capacity_bound_seconds);
  append_slo_oracle(out, c);
  if (!more.empty()) {
    out += ",\n";
    out += more;
  }
  out += "\n}\n";
  return out;
}

std::string timeline_csv(const Comparison& c) {
  std::string out =
      "policy,service,t_seconds,demand_qps,ready_capacity_qps,replicas,ready_replicas,desired,"
      "granted,reason\n";
  for (const auto& row : c.policies) append_timeline(out, row, false);
  append_timeline(out, c.oracle, true);
  return out;
}

/// The SLO oracle's rows under the table, and what "x oracle" is measured against.
std::vector<std::string> slo_oracle_lines(const Comparison& c) {
  const auto& q = c.inputs.queue;
  if (!c.slo_oracle) {
    if (!c.slo_oracle_too_long) return {};
    return {fmt::format(
        "x oracle: against the no-queue oracle row (the SLO oracle is computed for traces of at "
        "most {} service-seconds in all).",
        kSloOracleMaxSeconds)};
  }
  const auto cell = [](const std::optional<double>& v, std::string_view unit) {
    return v ? fmt::format("{:.2f}{}", *v, unit) : std::string("-");
  };
  std::vector<std::string> lines = {
      fmt::format("SLO oracle (wait <= {}s, abandon {}s, same ticks): the least CU-hours any "
                  "controller needs to reach each attainment",
                  q.slo_wait.count(), q.abandon_after.count()),
      fmt::format("  {:<8}  {:>12}  {:>12}  {:>8}", "attain", "lower bound", "achievable", "gap")};
  for (const auto& b : c.slo_oracle->total) {
    lines.push_back(fmt::format(
        "  {:<8}  {:>12}  {:>12}  {:>8}", fmt::format("{}%", b.attainment_pct),
        cell(b.lower_bound_cu_hours, ""), cell(b.achievable_cu_hours, ""), cell(b.gap_pct(), "%")));
  }
  lines.emplace_back(
      "x oracle: CU-hours / the SLO oracle's lower bound at the policy's own attainment (from the "
      "rows above by convexity; solved again below 99%); never below 1.");

  return lines;
}

std::string format_table(const Comparison& c) {
  std::vector<std::vector<std::string>> rows = {
      {"policy", "SLO attain", "wait p99", "over-cap req", "over-cap %", "floor %", "s over",
       "CU-hours", "x oracle", "scale ops", "max rep", "mean rep", "util p50", "util p99"}};
  for (const auto& row : c.policies) rows.push_back(table_cells(row));
  rows.push_back(table_cells(c.oracle));
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t k = 0; k < r.size(); ++k) width[k] = std::max(width[k], r[k].size());
  }
  std::string out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i + 1 == rows.size()) {  // a rule above the oracle: it is a bound, not a contender
      std::size_t line = 0;
      for (auto w : width) line += w + 2;
      out += std::string(line - 2, '-') + "\n";
    }
    std::string line;
    for (std::size_t k = 0; k < rows[i].size(); ++k) {
      // The policy name left-aligned, the figures right-aligned.
      line += k == 0 ? fmt::format("{:<{}}", rows[i][k], width[k])
                     : fmt::format("  {:>{}}", rows[i][k], width[k]);
    }
    out += line + "\n";
  }
  for (const auto& line : slo_oracle_lines(c)) out += line + "\n";
  for (const auto& line : table_legend(c)) out += line + "\n";
  return out;
}

}  // namespace qfscale::sim
