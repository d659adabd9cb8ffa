// `qfscale tune`: the cheapest value of one policy field that holds an SLO on recorded traffic.
// Wiring only: the history from CSV traces or a Prometheus range query (metrics/
// prometheus_range.h), the sweep and the choice from sim/sweep.h, then a table or JSON, and the
// tuned policy written as YAML. Exit codes: 0 a value meets the SLO, 1 none does (or a bad file),
// 2 usage or Prometheus unreachable.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "qfscale/demand/prometheus_range.h"
#include "qfscale/http/client.h"
#include "qfscale/policy/duration.h"
#include "qfscale/policy/loader.h"
#include "qfscale/sim/report.h"
#include "qfscale/sim/sweep.h"
#include "qfscale/util/file.h"
#include "qfscale/util/json_string.h"
#include "qfscale/util/redact.h"
#include "qfscale/util/time_text.h"

#include "cli/command.h"
#include "cli/policy_ref.h"
#include "cli/sim_inputs.h"
#include "cli/sweep_output.h"

namespace qfscale::cli {
namespace {

constexpr std::string_view kCommand = "tune";
// The field that trades cost for service level, by how the policy sizes replicas.
constexpr std::string_view kDefaultSweep = "target.utilization=0.30:0.95:0.05";
constexpr std::string_view kDefaultSloSweep = "target.slo.attainment=90:99.9:0.9";

std::string_view default_sweep(const policy::Policy& p) {
  return p.spec().target.slo ? kDefaultSloSweep : kDefaultSweep;
}

struct TuneOptions {
  std::vector<std::string> traces;
  std::string prometheus;
  std::string query;
  std::string range;
  std::string step = "15s";
  std::string end;
  std::string ca_file;
  std::string policy;
  std::string slo;
  ModelFlags model;
  std::vector<std::string> sweeps;
  bool quiet = false;
  std::string write;
  std::string output = "table";
};

void usage(std::string_view message) { print_problem(kCommand, message); }

struct Slo {
  double attainment_pct = 99;
  std::string wait;  ///< as typed, checked with the model flags
};

/// "99%@5s", "99.9%@2s".
OrExit<Slo> parse_slo(const std::string& text) {
  const auto bad = [&](std::string_view why) {
    usage(fmt::format("--slo '{}' {}", text, why));
    return tl::unexpected(2);
  };
  const auto at = text.find("%@");
  if (at == std::string::npos) return bad("must be ATTAINMENT%@WAIT, e.g. 99%@5s");
  double pct = 0;
  const auto* end = text.data() + at;
  const auto [ptr, ec] = std::from_chars(text.data(), end, pct);
  if (at == 0 || ec != std::errc{} || ptr != end || !std::isfinite(pct)) {
    return bad("must be ATTAINMENT%@WAIT, e.g. 99%@5s");
  }
  if (pct <= 0 || pct > 100) return bad(fmt::format("attainment {}% must be in (0, 100]", pct));
  return Slo{.attainment_pct = pct, .wait = text.substr(at + 2)};
}

/// --range: the duration grammar plus whole days in front ("7d", "1d12h").
OrExit<std::chrono::seconds> parse_range(const std::string& text) {
  std::int64_t days = 0;
  std::string rest = text;
  if (const auto d = text.find('d'); d != std::string::npos) {
    const auto digits = std::string_view(text).substr(0, d);
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), days);
    if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size()) {
      usage(fmt::format("--range '{}' must be a duration such as 7d, 36h or 1d12h", text));
      return tl::unexpected(2);
    }
    rest = text.substr(d + 1);
  }
  std::chrono::seconds more{0};
  if (!rest.empty()) {
    auto d = duration_option(kCommand, "--range", rest);
    if (!d) return d;
    more = *d;
  }
  const auto total = std::chrono::seconds{days * 86'400} + more;
  if (total.count() <= 0 || total > policy::kMaxDuration) {
    usage(fmt::format("--range '{}' must be longer than 0s and at most 100d", text));
    return tl::unexpected(2);
  }
  return total;
}

/// One history: its id, where it came from, and the trace.
struct History {
  std::string source;
  std::shared_ptr<const trace::Trace> trace;
};

OrExit<std::vector<History>> read_prometheus(const TuneOptions& o, std::int64_t& start_unix) {
  if (o.query.empty() || o.range.empty()) {
    usage("--prometheus needs --query and --range");
    return tl::unexpected(2);
  }
  if (!o.model.start.empty()) {
    usage("--start is the range's start with --prometheus; use --end to move the range");
    return tl::unexpected(2);
  }
  const auto range = parse_range(o.range);
  if (!range) return tl::unexpected(range.error());
  const auto step = duration_option(kCommand, "--step", o.step);
  if (!step) return tl::unexpected(step.error());
  if (step->count() <= 0 || range->count() % step->count() != 0) {
    usage(
        fmt::format("--step '{}' must be longer than 0s and divide --range '{}'", o.step, o.range));
    return tl::unexpected(2);
  }
  std::int64_t end = 0;
  if (o.end.empty()) {
    // The last whole step before now: its point is complete.
    end = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
    end -= end % step->count();
  } else {
    const auto parsed = util::parse_wall_time(o.end);
    if (!parsed) {
      usage(fmt::format("--end '{}' must be {}", o.end, util::kTimeFormats));
      return tl::unexpected(2);
    }
    end = *parsed;
  }
  start_unix = end - range->count();
  auto client = http::make_client(http::ClientOptions{.ca_file = o.ca_file});
  if (!client) {
    usage(client.error().to_string());
    return tl::unexpected(2);
  }
  auto history = demand::read_range_history(**client, {.base_url = o.prometheus,
                                                       .query = o.query,
                                                       .start_unix_seconds = start_unix,
                                                       .range = *range,
                                                       .step = *step,
                                                       .headers = {}});
  if (!history) {
    usage(fmt::format("--prometheus: {}", history.error().to_string()));
    return tl::unexpected(2);
  }
  if (history->missing_points > 0 && !o.quiet) {
    usage(fmt::format("note: {} of {} points had no value and hold the point before",
                      history->missing_points, history->points));
  }
  return std::vector<History>{
      {.source = util::redact_url(o.prometheus),
       .trace = std::make_shared<const trace::Trace>(std::move(history->trace))}};
}

std::string point_json(const sim::CurvePoint& p, double target) {
  std::string traces;
  for (const auto& s : p.services) {
    traces += fmt::format("{}{{\"slo_attainment_pct\": {}, \"compute_unit_hours\": {}}}",
                          traces.empty() ? "" : ", ", s.slo_attainment_pct, s.compute_unit_hours);
  }
  const double worst = sim::worst_attainment(p);
  return fmt::format(
      "{{\"value\": {}, \"slo_attainment_pct\": {}, \"compute_unit_hours\": {}, \"margin_pct\": "
      "{}, \"meets\": {}, \"traces\": [{}]}}",
      p.value, worst, p.compute_unit_hours, worst - target, worst >= target, traces);
}

std::string tune_json(const sim::Curve& curve, const Slo& slo, std::int64_t wait_s,
                      const std::vector<History>& histories,
                      const std::vector<model::ServiceId>& ids, std::optional<std::size_t> best) {
  std::string out = "{\n  \"policy\": " + util::json_string(curve.policy) +
                    ",\n  \"field\": " + util::json_string(curve.field) +
                    fmt::format(",\n  \"slo\": {{\"attainment_pct\": {}, \"wait_s\": {}}},\n",
                                slo.attainment_pct, wait_s) +
                    "  \"traces\": [";
  for (std::size_t i = 0; i < histories.size(); ++i) {
    out += fmt::format(
        "{}\n    {{\"service\": {}, \"source\": {}, \"seconds\": {}, "
        "\"requests\": {}}}",
        i == 0 ? "" : ",", util::json_string(ids[i].value), util::json_string(histories[i].source),
        histories[i].trace->size(), histories[i].trace->total());
  }
  out += "\n  ],\n  \"points\": [";
  for (std::size_t i = 0; i < curve.points.size(); ++i) {
    out += (i == 0 ? "\n    " : ",\n    ") + point_json(curve.points[i], slo.attainment_pct);
  }
  out += "\n  ],\n  \"skipped\": [";
  for (std::size_t i = 0; i < curve.skipped.size(); ++i) {
    out += fmt::format("{}\n    {{\"value\": {}, \"reason\": {}}}", i == 0 ? "" : ",",
                       curve.skipped[i].value, util::json_string(curve.skipped[i].reason));
  }
  out += curve.skipped.empty() ? "],\n  \"best\": " : "\n  ],\n  \"best\": ";
  out += best ? point_json(curve.points[*best], slo.attainment_pct) : "null";
  out += "\n}\n";
  return out;
}

std::string tune_table(const sim::Curve& curve, const Slo& slo, std::optional<std::size_t> best,
                       const policy::NumericField& field) {
  std::vector<std::vector<std::string>> rows = {
      {curve.field, "SLO attain", "CU-hours", "margin", "meets"}};
  for (std::size_t i = 0; i < curve.points.size(); ++i) {
    const auto& p = curve.points[i];
    const double worst = sim::worst_attainment(p);
    rows.push_back({policy::field_value_text(field, p.value), sim::attainment_text(worst),
                    fmt::format("{:.2f}", p.compute_unit_hours),
                    fmt::format("{:+.3f}", worst - slo.attainment_pct),
                    best == i ? "cheapest" : (worst >= slo.attainment_pct ? "yes" : "no")});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t k = 0; k < r.size(); ++k) width[k] = std::max(width[k], r[k].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t k = 0; k < r.size(); ++k) {
      line += k + 1 == r.size() ? fmt::format("  {}", r[k])
                                : fmt::format("{}{:>{}}", k == 0 ? "" : "  ", r[k], width[k]);
    }
    out += line + "\n";
  }
  out +=
      "SLO attain: the worst trace's share of requests served within the wait; margin: it "
      "minus the target, in points; CU-hours: summed over the traces.\n";
  return out;
}

/// The tuned policy as a file: a comment saying where it came from, then the effective YAML.
std::string tuned_yaml(const policy::Policy& p, const sim::CurvePoint& point,
                       const policy::NumericField& field, const Slo& slo, const std::string& wait) {
  return fmt::format(
      "# Tuned by qfscale tune: {}={} is the cheapest value holding {}% of requests within {}\n"
      "# on the traces it was given ({:.2f} CU-hours, worst attainment {}).\n{}",
      field.path, policy::field_value_text(field, point.value), slo.attainment_pct, wait,
      point.compute_unit_hours, sim::attainment_text(sim::worst_attainment(point)),
      policy::to_yaml(p.spec()));
}

int run_tune(TuneOptions o) {
  const auto slo = parse_slo(o.slo);
  if (!slo) return slo.error();
  o.model.slo_wait = slo->wait;
  o.model.slo_wait_flag = "--slo wait";
  if (o.traces.empty() == o.prometheus.empty()) {
    usage("give the history as --trace FILE... or as --prometheus URL --query Q --range D");
    return 2;
  }
  auto model = check_model(kCommand, o.model);
  if (!model) return model.error();
  auto policies = load_policies(kCommand, {o.policy});
  if (!policies) return policies.error();
  const auto range = sweep_option(
      kCommand, o.sweeps.empty()
                    ? std::vector<std::string>{std::string(default_sweep(policies->front()))}
                    : o.sweeps);
  if (!range) return range.error();

  const unsigned workers = std::max(1U, std::thread::hardware_concurrency());
  std::vector<History> histories;
  std::vector<std::string> names;
  if (!o.prometheus.empty()) {
    auto read = read_prometheus(o, model->start_unix_seconds);
    if (!read) return read.error();
    histories = std::move(*read);
    names = {"prometheus"};
  } else {
    auto traces = load_traces(o.traces, workers);
    if (!traces) return traces.error();
    for (std::size_t i = 0; i < traces->size(); ++i) {
      histories.push_back({.source = o.traces[i], .trace = (*traces)[i]});
    }
    names = o.traces;
  }
  const auto ids = service_ids(names);
  std::vector<sim::ServiceSpec> services;
  for (std::size_t i = 0; i < histories.size(); ++i) {
    services.push_back({.id = ids[i],
                        .trace = histories[i].trace,
                        .replica_qps = model->replica_qps,
                        .units_per_replica = model->units_per_replica,
                        .initial_replicas = {}});
  }
  sim::SimOptions sim;
  sim.tick = model->tick;
  sim.metric_span = model->metric_span;
  sim.startup_delay = model->startup_delay;
  sim.queue = model->queue;
  sim.start = util::SystemTime{std::chrono::seconds{model->start_unix_seconds}};
  auto curves = run_sweep(kCommand, *policies, services, *range, sim, workers, o.quiet);
  if (!curves) return curves.error();
  const auto& curve = curves->front();
  const auto best = sim::cheapest_meeting(curve.points, slo->attainment_pct);

  if (o.output == "json") {
    fmt::print("{}", tune_json(curve, *slo, model->queue.slo_wait.count(), histories, ids, best));
  } else {
    fmt::print("{}", tune_table(curve, *slo, best, range->field));
  }
  std::fflush(stdout);
  const auto wait = policy::format_duration(model->queue.slo_wait);
  if (!best) {
    std::size_t top = 0;
    for (std::size_t i = 0; i < curve.points.size(); ++i) {
      if (sim::worst_attainment(curve.points[i]) > sim::worst_attainment(curve.points[top]))
        top = i;
    }
    usage(
        fmt::format("no {} from {} to {} holds {}% of requests within {} on every trace; the best "
                    "attainment reached was {} at {}={}",
                    curve.field, policy::field_value_text(range->field, range->from),
                    policy::field_value_text(range->field, range->to), slo->attainment_pct, wait,
                    sim::attainment_text(sim::worst_attainment(curve.points[top])), curve.field,
                    policy::field_value_text(range->field, curve.points[top].value)));
    return 1;
  }
  const auto& point = curve.points[*best];
  if (o.output != "json") {
    fmt::print("cheapest: {}={} at {:.2f} CU-hours, attainment {} (margin {:+.3f} points)\n",
               curve.field, policy::field_value_text(range->field, point.value),
               point.compute_unit_hours, sim::attainment_text(sim::worst_attainment(point)),
               sim::worst_attainment(point) - slo->attainment_pct);
  }
  if (!o.write.empty()) {
    const auto text = tuned_yaml(curve.variants[*best], point, range->field, *slo, wait);
    if (auto st = util::write_file_atomic(o.write, text); !st) {
      usage(fmt::format("--write: {}", st.error().to_string()));
      return 1;
    }
    if (o.output != "json") fmt::print("wrote {}\n", o.write);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_tune_command(CLI::App& app, Context& context) {
  auto o = std::make_shared<TuneOptions>();
  auto* cmd = app.add_subcommand(
      "tune",
      "Find the cheapest value of one policy field that holds an SLO on recorded traffic.\n"
      "Runs the policy at every value of --sweep (default target.utilization=0.30:0.95:0.05,\n"
      "or target.slo.attainment=90:99.9:0.9 for a policy that sizes for an SLO, like balanced)\n"
      "through the simulator's model (see 'qfscale simulate --help': the queue, startup delay,\n"
      "ticks) on every trace, and picks the cheapest value whose worst trace reaches the SLO.\n"
      "Prints a table (or -o json) with each value's attainment, CU-hours and margin\n"
      "(attainment minus the target); --write FILE saves the tuned policy (it passes\n"
      "'qfscale policy check'). The history is CSV traces or a Prometheus range query.\n"
      "Example:\n"
      "  qfscale tune --trace week.csv --policy balanced --slo 99%@5s --replica-qps 5 \\\n"
      "    --type GPU-I-2 --write tuned.yaml\n"
      "  qfscale tune --prometheus http://127.0.0.1:9090 --range 7d --step 15s \\\n"
      "    --query 'sum(rate(requests_total{service=\"chat\"}[1m]))' --policy balanced \\\n"
      "    --slo 99.9%@5s --replica-qps 5 --type GPU-I-2\n"
      "Exit status: 0 a value holds the SLO, 1 none does (the message says the best\n"
      "attainment reached) or a bad trace or policy file, 2 bad options or Prometheus failed.");
  cmd->add_option("--trace", o->traces,
                  "CSV trace t_seconds,qps (per second from 0); repeat: the SLO must hold on each");
  cmd->add_option("--prometheus", o->prometheus,
                  "Instead of --trace: a Prometheus base URL, e.g. http://127.0.0.1:9090 "
                  "(user:password@ in it becomes Basic auth)");
  cmd->add_option("--query", o->query,
                  "With --prometheus: PromQL giving the service's QPS as one series,\n"
                  "e.g. sum(rate(requests_total{service=\"chat\"}[1m]))");
  cmd->add_option("--range", o->range,
                  "With --prometheus: how much history, ending at --end, e.g. 7d, 36h, 1d12h");
  cmd->add_option("--step", o->step,
                  "With --prometheus: the query's resolution; each point's value holds for one "
                  "step (1s for per-second history)")
      ->capture_default_str();
  cmd->add_option(
      "--end", o->end,
      fmt::format("With --prometheus: end of the range (default: now), {}", util::kTimeFormats));
  cmd->add_option("--ca-file", o->ca_file, "With an https --prometheus: CA bundle (PEM) to trust");
  cmd->add_option("--policy", o->policy, kPolicyRefHelp)->required();
  cmd->add_option("--slo", o->slo,
                  "ATTAINMENT%@WAIT: the share of requests that must wait at most WAIT in the\n"
                  "queue, e.g. 99%@5s or 99.9%@2s")
      ->required();
  cmd->add_option("--replica-qps", o->model.replica_qps,
                  "QPS one replica serves (resourceConfig.qps)")
      ->required();
  cmd->add_option("--type", o->model.type,
                  "Resource type, e.g. GPU-I-2 (2 compute units per replica)")
      ->required();
  cmd->add_option("--startup-delay", o->model.startup_delay, "From scale-up to ready")
      ->capture_default_str();
  cmd->add_option("--tick", o->model.tick, "Controller interval")->capture_default_str();
  cmd->add_option("--metric-span", o->model.metric_span,
                  "The seconds each QPS sample averages over, as live (a rate(x[1m]) is 1m;\n"
                  "default: the tick)");
  cmd->add_option("--abandon-after", o->model.abandon_after,
                  "A request still queued this long leaves unserved and counts as late\n"
                  "(longer than the SLO wait, at most 1h)")
      ->capture_default_str();
  cmd->add_option("--start", o->model.start,
                  fmt::format("With --trace: wall time of trace second 0, for schedules: {}",
                              util::kTimeFormats));
  add_sweep_options(*cmd, o->sweeps, o->quiet,
                    fmt::format("\nDefault: {}; {} for a policy with target.slo.", kDefaultSweep,
                                kDefaultSloSweep));
  cmd->add_option("--write", o->write,
                  "Write the tuned policy's YAML here (atomically), e.g. tuned.yaml");
  cmd->add_option("--output,-o", o->output, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->callback([o, &context] { context.exit_code = run_tune(*o); });
}

}  // namespace qfscale::cli
