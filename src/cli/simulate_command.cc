// `qfscale simulate`: replays recorded traffic through policies offline and compares them with
// the oracle. Wiring only: traces from trace/trace.h, policies as `policy check` and the
// controller config find them (cli/sim_inputs.h), the run and the reports from sim/report.h,
// a --sweep from sim/sweep.h, then printing and atomic file writes.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "qfscale/model/units.h"
#include "qfscale/policy/duration.h"
#include "qfscale/sim/report.h"
#include "qfscale/sim/sweep.h"
#include "qfscale/util/file.h"
#include "qfscale/util/heap.h"
#include "qfscale/util/time_text.h"

#include "cli/command.h"
#include "cli/policy_ref.h"
#include "cli/sim_inputs.h"
#include "cli/sweep_output.h"

namespace qfscale::cli {
namespace {

constexpr std::string_view kCommand = "simulate";

struct SimulateOptions {
  std::vector<std::string> traces;
  std::vector<std::string> policies;
  ModelFlags model;
  long long capacity_units = 0;
  bool capacity_given = false;
  std::vector<std::string> sweeps;
  bool quiet = false;
  std::string out_dir;
};

void usage(std::string_view message) { print_problem(kCommand, message); }

/// A one-line bar redrawn in place; only used when stderr is a terminal.
void draw_progress(std::int64_t done, std::int64_t total) {
  constexpr int kWidth = 30;
  const double f = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(f * kWidth);
  fmt::print(stderr, "\rsimulating [{:#<{}}{:.<{}}] {:3.0f}%", "", filled, "", kWidth - filled,
             100 * f);
  std::fflush(stderr);
}

int run_simulate(const SimulateOptions& o) {
  const auto model = check_model(kCommand, o.model);
  if (!model) return model.error();
  std::optional<model::ComputeUnits> capacity;
  if (o.capacity_given) {
    if (o.capacity_units < 0 || o.capacity_units > std::numeric_limits<int>::max()) {
      usage(fmt::format("--capacity-units {} is out of range, must be in [0, {}]", o.capacity_units,
                        std::numeric_limits<int>::max()));
      return 2;
    }
    capacity = model::ComputeUnits{static_cast<int>(o.capacity_units)};
  }
  std::optional<sim::SweepRange> sweep_range;
  if (!o.sweeps.empty()) {
    auto range = sweep_option(kCommand, o.sweeps);
    if (!range) return range.error();
    sweep_range = *range;
  }

  util::reuse_large_blocks();  // every service's per-second arrays, allocated and freed
  const unsigned workers = std::max(1U, std::thread::hardware_concurrency());
  // Every problem in every file is reported before giving up.
  auto policies = load_policies(kCommand, o.policies);
  auto traces = load_traces(o.traces, workers);
  if (!policies && policies.error() == 2) return 2;
  if (!policies || !traces) return 1;
  const auto ids = service_ids(o.traces);
  std::vector<sim::ServiceSpec> services;
  for (std::size_t i = 0; i < traces->size(); ++i) {
    services.push_back(sim::ServiceSpec{.id = ids[i],
                                        .trace = (*traces)[i],
                                        .replica_qps = model->replica_qps,
                                        .units_per_replica = model->units_per_replica,
                                        .initial_replicas = {}});
  }
  const sim::ReportInputs inputs{.trace_files = o.traces,
                                 .replica_qps = model->replica_qps,
                                 .resource_type = o.model.type,
                                 .units_per_replica = model->units_per_replica,
                                 .startup_delay = model->startup_delay,
                                 .tick = model->tick,
                                 .metric_span = model->metric_span,
                                 .queue = model->queue,
                                 .capacity_units = capacity,
                                 .start_unix_seconds = model->start_unix_seconds};
  sim::CompareOptions options;
  options.sim.tick = model->tick;
  options.sim.metric_span = model->metric_span;
  options.sim.startup_delay = model->startup_delay;
  options.sim.capacity_units = capacity;
  options.sim.queue = model->queue;
  options.sim.start = util::SystemTime{std::chrono::seconds{model->start_unix_seconds}};
  options.threads = workers;
  options.slo_oracle = true;
  const bool tty = isatty(STDERR_FILENO) == 1;
  if (tty && !o.quiet) options.progress = draw_progress;
  auto comparison = sim::compare(*policies, services, inputs, options);
  if (tty && !o.quiet) fmt::print(stderr, "\r\033[K");
  if (!comparison) {
    usage(comparison.error().to_string());
    return 2;
  }
  std::optional<std::vector<sim::Curve>> curves;
  if (sweep_range) {
    auto swept =
        run_sweep(kCommand, *policies, services, *sweep_range, options.sim, workers, o.quiet);
    if (!swept) return swept.error();
    curves = std::move(*swept);
  }

  fmt::print("{}", sim::format_table(*comparison));
  if (curves) fmt::print("{}", cost_at_attainment_table(*curves));
  std::fflush(stdout);
  if (o.out_dir.empty()) return 0;
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) {
    usage(fmt::format("--out '{}' cannot be created: {}", o.out_dir, ec.message()));
    return 1;
  }
  // The SLO oracle's lower bounds at 99% and 99.9% join cost_at_attainment as "oracle".
  std::vector<sim::AttainmentCosts> oracle_costs;
  if (comparison->slo_oracle) {
    sim::AttainmentCosts oracle{.name = "oracle", .costs = {}};
    for (double pct : sim::kReportedAttainments) {
      oracle.costs.push_back(sim::lower_bound_at(comparison->slo_oracle->total, pct));
    }
    oracle_costs.push_back(std::move(oracle));
  }
  const auto more = curves ? sim::sweep_json_members(*curves, oracle_costs) : std::string();
  const std::pair<const char*, std::string> files[] = {
      {"summary.json", sim::summary_json(*comparison, more)},
      {"timeline.csv", sim::timeline_csv(*comparison)},
      {"report.html",
       curves ? sim::report_html(*comparison, *curves) : sim::report_html(*comparison)}};
  for (const auto& [name, content] : files) {
    const auto path = (std::filesystem::path(o.out_dir) / name).string();
    if (auto st = util::write_file_atomic(path, content); !st) {
      usage(st.error().to_string());
      return 1;
    }
    fmt::print("wrote {}\n", path);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_simulate_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd = app.add_subcommand(
      "simulate",
      "Replay recorded traffic through policies offline and compare them with the oracle.\n"
      "Model: a virtual clock; every --tick the policy sees the mean QPS of the last tick (as\n"
      "live) and the allocator grants replicas within --capacity-units, shared by all traces.\n"
      "A new replica costs compute units at once but serves only after --startup-delay;\n"
      "scale-down is immediate. Requests wait in a FIFO queue served by ready replicas x\n"
      "--replica-qps each second; a request is late when it waited longer than --slo-wait,\n"
      "or was abandoned after --abandon-after. \"SLO attain\" = share of requests not late.\n"
      "Over capacity = demand above ready capacity, counted per second without a queue.\n"
      "The oracle row is the cheapest schedule that serves every request in its own second,\n"
      "knowing the future (same startup delay, no policy limits). The SLO oracle is the least\n"
      "CU-hours any controller acting at the same ticks needs for 100%, 99.9% and 99% of\n"
      "requests within --slo-wait: a proven lower bound (a linear program), and the cost of a\n"
      "schedule that reaches the attainment when replayed; the gap is between the two.\n"
      "\"x oracle\" is a policy's CU-hours over that lower bound at its own attainment\n"
      "(never below 1). With --capacity-units the oracle is cut to the capacity where the\n"
      "services' peaks do not fit together (as the allocator would), and the table says\n"
      "what even it leaves unserved.\n"
      "\"util p50/p99\": demand / ready capacity over the seconds with demand.\n"
      "\"floor %\": the fewest requests over capacity any controller acting at the same ticks\n"
      "could leave at the policy's cost, even knowing the future (what no policy can beat).\n"
      "Prints a comparison table; with --out DIR also writes summary.json, timeline.csv and\n"
      "report.html (self-contained, charts inline) there. Shows a progress bar on a terminal.\n"
      "With --sweep FIELD=FROM:TO:STEP every policy also runs at every value of one numeric\n"
      "field (e.g. target.utilization=0.30:0.95:0.05); the table gains each policy's cost at\n"
      "99% and 99.9% attainment, summary.json its curves and cost_at_attainment.\n"
      "Exit status: 0 done, 1 a bad trace or policy file (every problem as file:line:col),\n"
      "2 bad options.");
  cmd->add_option("--trace", o->traces,
                  "CSV trace t_seconds,qps (per second from 0); repeat for several services\n"
                  "sharing the capacity (service id = file name without extension)")
      ->required();
  cmd->add_option("--policy", o->policies, fmt::format("{}; repeat to compare", kPolicyRefHelp))
      ->required();
  cmd->add_option("--replica-qps", o->model.replica_qps,
                  "QPS one replica serves (resourceConfig.qps)")
      ->required();
  cmd->add_option("--type", o->model.type,
                  "Resource type, e.g. GPU-I-2 (2 compute units per replica)")
      ->required();
  cmd->add_option("--startup-delay", o->model.startup_delay, "From scale-up to ready")
      ->capture_default_str();
  auto* capacity = cmd->add_option("--capacity-units", o->capacity_units,
                                   "Compute units shared by all services (default: unlimited)");
  cmd->add_option("--tick", o->model.tick, "Controller interval")->capture_default_str();
  cmd->add_option("--metric-span", o->model.metric_span,
                  "The seconds each QPS sample averages over, as live (a rate(x[1m]) is 1m;\n"
                  "default: the tick)");
  cmd->add_option("--slo-wait", o->model.slo_wait,
                  "A request that waited longer in the queue is late (> 0s)")
      ->capture_default_str();
  cmd->add_option("--abandon-after", o->model.abandon_after,
                  "A request still queued this long leaves unserved and counts as late\n"
                  "(longer than --slo-wait, at most 1h)")
      ->capture_default_str();
  cmd->add_option("--out", o->out_dir,
                  "Directory for summary.json, timeline.csv and report.html (created;\n"
                  "files replaced atomically). Without it only the table is printed");
  cmd->add_option("--start", o->model.start,
                  fmt::format("Wall time of trace second 0, for schedules: {}\n"
                              "(default 1970-01-01T00:00:00Z)",
                              util::kTimeFormats));
  add_sweep_options(*cmd, o->sweeps, o->quiet, "");
  cmd->callback([o, capacity, &context] {
    o->capacity_given = capacity->count() > 0;
    context.exit_code = run_simulate(*o);
  });
}

}  // namespace qfscale::cli
