// `qfscale simulate`: replays recorded traffic through policies offline and compares them with
// the oracle. Wiring only: traces from metrics/trace.h, policies as `policy check` and the
// controller config find them, the run and the reports from sim/report.h, then printing and
// atomic file writes.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "qfscale/controller/config.h"
#include "qfscale/metrics/trace.h"
#include "qfscale/model/units.h"
#include "qfscale/policy/duration.h"
#include "qfscale/policy/loader.h"
#include "qfscale/sim/report.h"
#include "qfscale/util/concurrency.h"
#include "qfscale/util/file.h"
#include "qfscale/util/heap.h"
#include "qfscale/util/time_text.h"

#include "cli/command.h"
#include "cli/policy_ref.h"

namespace qfscale::cli {
namespace {

struct SimulateOptions {
  std::vector<std::string> traces;
  std::vector<std::string> policies;
  double replica_qps = 0;
  std::string type;
  std::string startup_delay = "90s";
  long long capacity_units = 0;
  bool capacity_given = false;
  std::string tick = "15s";
  std::string slo_wait = "5s";
  std::string abandon_after = "30s";
  std::string out_dir;
  std::string start;
};

/// Fails with the exit code (2 usage, 1 a bad file) once the problem has been printed.
template <typename T>
using OrExit = tl::expected<T, int>;

void usage(std::string_view message) { fmt::print(stderr, "qfscale simulate: {}\n", message); }

OrExit<std::chrono::seconds> duration_option(std::string_view option, const std::string& text) {
  auto d = policy::parse_duration(text);
  if (!d) {
    usage(fmt::format("{} '{}' {}", option, text, d.error()));
    return tl::unexpected(2);
  }
  return *d;
}

/// --slo-wait and --abandon-after: both longer than 0s, abandon after longer than the SLO wait
/// (a request abandoned before it could be late would never count as late), and within
/// sim::kMaxAbandonAfter.
OrExit<sim::QueueOptions> queue_options(const SimulateOptions& o) {
  const auto slo = duration_option("--slo-wait", o.slo_wait);
  if (!slo) return tl::unexpected(slo.error());
  const auto abandon = duration_option("--abandon-after", o.abandon_after);
  if (!abandon) return tl::unexpected(abandon.error());
  if (slo->count() <= 0) {
    usage(fmt::format("--slo-wait '{}' must be longer than 0s", o.slo_wait));
    return tl::unexpected(2);
  }
  if (*abandon <= *slo) {
    usage(fmt::format("--abandon-after '{}' must be longer than --slo-wait '{}'", o.abandon_after,
                      o.slo_wait));
    return tl::unexpected(2);
  }
  if (*abandon > sim::kMaxAbandonAfter) {
    usage(fmt::format("--abandon-after '{}' must be at most {}", o.abandon_after,
                      policy::format_duration(sim::kMaxAbandonAfter)));
    return tl::unexpected(2);
  }
  return sim::QueueOptions{.slo_wait = *slo, .abandon_after = *abandon};
}

/// Service ids: the file stem, with -2, -3, … appended to repeats.
std::vector<model::ServiceId> service_ids(const std::vector<std::string>& files) {
  std::vector<model::ServiceId> ids;
  std::set<std::string> used;
  for (const auto& f : files) {
    std::string stem = std::filesystem::path(f).stem().string();
    if (stem.empty()) stem = "service";
    std::string id = stem;
    for (int k = 2; !used.insert(id).second; ++k) id = fmt::format("{}-{}", stem, k);
    ids.push_back(model::ServiceId{id});
  }
  return ids;
}

OrExit<std::vector<policy::Policy>> load_policies(const std::vector<std::string>& refs) {
  const auto zones = util::system_zone_source();
  std::vector<policy::Policy> out;
  bool bad = false;
  bool usage_error = false;  // an unknown shipped name: reported with the rest, then exit 2
  for (const auto& ref : refs) {
    auto source = read_policy_ref(ref);
    if (!source) {
      usage(fmt::format("--policy {}", source.error().message));
      (source.error().unknown_name ? usage_error : bad) = true;
      continue;
    }
    auto p = policy::load_policy(source->text, source->label, zones);
    if (!p) {
      for (const auto& d : p.error()) fmt::print(stderr, "{}\n", d.to_string());
      bad = true;
      continue;
    }
    out.push_back(std::move(*p));
  }
  if (usage_error) return tl::unexpected(2);
  if (bad) return tl::unexpected(1);
  return out;
}

/// Reads and parses the traces on `workers` threads (parsing dominates a thousand-service run);
/// problems are printed in the order the files were given.
OrExit<std::vector<std::shared_ptr<const metrics::Trace>>> load_traces(
    const std::vector<std::string>& files, unsigned workers) {
  std::vector<tl::expected<metrics::Trace, util::Diagnostics>> loaded(files.size());
  util::for_each_concurrently(files.size(), static_cast<int>(workers),
                              [&](std::size_t i) { loaded[i] = metrics::load_trace(files[i]); });
  std::vector<std::shared_ptr<const metrics::Trace>> out;
  bool bad = false;
  for (auto& t : loaded) {
    if (!t) {
      for (const auto& d : t.error()) fmt::print(stderr, "{}\n", d.to_string());
      bad = true;
      continue;
    }
    out.push_back(std::make_shared<const metrics::Trace>(std::move(*t)));
  }
  if (bad) return tl::unexpected(1);
  return out;
}

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
  if (!std::isfinite(o.replica_qps) || o.replica_qps <= 0) {
    usage(fmt::format("--replica-qps {} must be a finite number > 0", o.replica_qps));
    return 2;
  }
  const auto units = model::units_per_replica(o.type);
  if (!units) {
    usage(
        fmt::format("--type '{}' must end in its compute units per replica, e.g. GPU-I-2", o.type));
    return 2;
  }
  const auto delay_or = duration_option("--startup-delay", o.startup_delay);
  if (!delay_or) return delay_or.error();
  const auto tick_or = duration_option("--tick", o.tick);
  if (!tick_or) return tick_or.error();
  const auto delay = *delay_or;
  const auto tick = *tick_or;
  if (tick.count() <= 0) {
    usage(fmt::format("--tick '{}' must be longer than 0s", o.tick));
    return 2;
  }
  const auto queue = queue_options(o);
  if (!queue) return queue.error();
  std::int64_t start = 0;
  if (!o.start.empty()) {
    auto parsed = util::parse_wall_time(o.start);
    if (!parsed) {
      usage(fmt::format("--start '{}' must be {}", o.start, util::kTimeFormats));
      return 2;
    }
    start = *parsed;
  }
  std::optional<model::ComputeUnits> capacity;
  if (o.capacity_given) {
    if (o.capacity_units < 0 || o.capacity_units > std::numeric_limits<int>::max()) {
      usage(fmt::format("--capacity-units {} is out of range, must be in [0, {}]", o.capacity_units,
                        std::numeric_limits<int>::max()));
      return 2;
    }
    capacity = model::ComputeUnits{static_cast<int>(o.capacity_units)};
  }

  util::reuse_large_blocks();  // every service's per-second arrays, allocated and freed
  const unsigned workers = std::max(1U, std::thread::hardware_concurrency());
  // Every problem in every file is reported before giving up.
  auto policies = load_policies(o.policies);
  auto traces = load_traces(o.traces, workers);
  if (!policies && policies.error() == 2) return 2;
  if (!policies || !traces) return 1;
  const auto ids = service_ids(o.traces);
  std::vector<sim::ServiceSpec> services;
  for (std::size_t i = 0; i < traces->size(); ++i) {
    services.push_back(sim::ServiceSpec{.id = ids[i],
                                        .trace = (*traces)[i],
                                        .replica_qps = o.replica_qps,
                                        .units_per_replica = *units,
                                        .initial_replicas = {}});
  }
  const sim::ReportInputs inputs{.trace_files = o.traces,
                                 .replica_qps = o.replica_qps,
                                 .resource_type = o.type,
                                 .units_per_replica = *units,
                                 .startup_delay = delay,
                                 .tick = tick,
                                 .queue = *queue,
                                 .capacity_units = capacity,
                                 .start_unix_seconds = start};
  sim::CompareOptions options;
  options.sim.tick = tick;
  options.sim.startup_delay = delay;
  options.sim.capacity_units = capacity;
  options.sim.queue = *queue;
  options.sim.start = util::SystemTime{std::chrono::seconds{start}};
  options.threads = workers;
  const bool tty = isatty(STDERR_FILENO) == 1;
  if (tty) options.progress = draw_progress;
  auto comparison = sim::compare(*policies, services, inputs, options);
  if (tty) fmt::print(stderr, "\r\033[K");
  if (!comparison) {
    usage(comparison.error().to_string());
    return 2;
  }

  fmt::print("{}", sim::format_table(*comparison));
  std::fflush(stdout);
  if (o.out_dir.empty()) return 0;
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) {
    usage(fmt::format("--out '{}' cannot be created: {}", o.out_dir, ec.message()));
    return 1;
  }
  const std::pair<const char*, std::string> files[] = {
      {"summary.json", sim::summary_json(*comparison)},
      {"timeline.csv", sim::timeline_csv(*comparison)},
      {"report.html", sim::report_html(*comparison)}};
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
      "The oracle is the cheapest schedule that serves every request knowing the future\n"
      "(same startup delay, no policy limits): the lower bound on cost. \"x oracle\" below 1\n"
      "is marked \"(under)\": cheaper than that means under-provisioned, not better. With\n"
      "--capacity-units the oracle is cut to the capacity where the services' peaks do not\n"
      "fit together (as the allocator would), and the table says what even it leaves unserved.\n"
      "\"util p50/p99\": demand / ready capacity over the seconds with demand.\n"
      "\"floor %\": the fewest requests over capacity any controller acting at the same ticks\n"
      "could leave at the policy's cost, even knowing the future (what no policy can beat).\n"
      "Prints a comparison table; with --out DIR also writes summary.json, timeline.csv and\n"
      "report.html (self-contained, charts inline) there. Shows a progress bar on a terminal.\n"
      "Exit status: 0 done, 1 a bad trace or policy file (every problem as file:line:col),\n"
      "2 bad options.");
  cmd->add_option("--trace", o->traces,
                  "CSV trace t_seconds,qps (per second from 0); repeat for several services\n"
                  "sharing the capacity (service id = file name without extension)")
      ->required();
  cmd->add_option("--policy", o->policies, fmt::format("{}; repeat to compare", kPolicyRefHelp))
      ->required();
  cmd->add_option("--replica-qps", o->replica_qps, "QPS one replica serves (resourceConfig.qps)")
      ->required();
  cmd->add_option("--type", o->type, "Resource type, e.g. GPU-I-2 (2 compute units per replica)")
      ->required();
  cmd->add_option("--startup-delay", o->startup_delay, "From scale-up to ready")
      ->capture_default_str();
  auto* capacity = cmd->add_option("--capacity-units", o->capacity_units,
                                   "Compute units shared by all services (default: unlimited)");
  cmd->add_option("--tick", o->tick, "Controller interval")->capture_default_str();
  cmd->add_option("--slo-wait", o->slo_wait,
                  "A request that waited longer in the queue is late (> 0s)")
      ->capture_default_str();
  cmd->add_option("--abandon-after", o->abandon_after,
                  "A request still queued this long leaves unserved and counts as late\n"
                  "(longer than --slo-wait, at most 1h)")
      ->capture_default_str();
  cmd->add_option("--out", o->out_dir,
                  "Directory for summary.json, timeline.csv and report.html (created;\n"
                  "files replaced atomically). Without it only the table is printed");
  cmd->add_option("--start", o->start,
                  fmt::format("Wall time of trace second 0, for schedules: {}\n"
                              "(default 1970-01-01T00:00:00Z)",
                              util::kTimeFormats));
  cmd->callback([o, capacity, &context] {
    o->capacity_given = capacity->count() > 0;
    context.exit_code = run_simulate(*o);
  });
}

}  // namespace qfscale::cli
