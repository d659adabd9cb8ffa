#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "qfscale/policy/duration.h"
#include "qfscale/policy/engine.h"
#include "qfscale/policy/eval.h"
#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"
#include "qfscale/util/time_text.h"

#include "cli/command.h"
#include "cli/policy_ref.h"

namespace qfscale::cli {
namespace {

struct EvalOptions {
  std::string policy_ref;
  double replica_qps = 0;
  std::string steps_file;
  std::string start = "0";
  std::string sample_span;  ///< empty: each qps is the mean since the previous step
};

/// `qfscale policy eval`: 0 done, 1 invalid policy or steps file, 2 unreadable file, unknown
/// policy name or bad --start.
int run_eval(const EvalOptions& o) {
  const auto start_seconds = util::parse_wall_time(o.start);
  if (!start_seconds) {
    fmt::print(stderr, "qfscale policy eval: --start '{}' must be {}\n", o.start,
               util::kTimeFormats);
    return 2;
  }
  auto source = read_policy_ref(o.policy_ref);
  if (!source) {
    fmt::print(stderr, "qfscale policy eval: {}\n", source.error().message);
    return 2;
  }
  auto policy = policy::load_policy(source->text, source->label, util::system_zone_source());
  if (!policy) {
    for (const auto& d : policy.error()) fmt::print(stderr, "{}\n", d.to_string());
    return 1;
  }
  auto steps_text = util::read_file(o.steps_file, util::kMaxTraceFileBytes);
  if (!steps_text) {
    fmt::print(stderr, "qfscale: {}\n", steps_text.error().to_string());
    return 2;
  }
  auto steps = policy::parse_eval_steps(*steps_text, o.steps_file);
  if (!steps) {
    for (const auto& d : steps.error()) fmt::print(stderr, "{}\n", d.to_string());
    return 1;
  }
  std::chrono::seconds span{0};
  if (!o.sample_span.empty()) {
    const auto parsed = policy::parse_duration(o.sample_span);
    if (!parsed || parsed->count() <= 0) {
      fmt::print(stderr, "qfscale policy eval: --sample-span '{}' must be a duration above 0s{}\n",
                 o.sample_span, parsed ? "" : ": " + parsed.error());
      return 2;
    }
    span = *parsed;
  }
  const util::SystemTime start{std::chrono::seconds{*start_seconds}};
  policy::EngineState state;
  for (const auto& step : *steps) {
    auto in = policy::eval_input(step, start, o.replica_qps);
    in.sample_span = span;
    auto r = policy::recommend(*policy, in, std::move(state));
    state = std::move(r.state);
    fmt::print("{}\n", policy::eval_json_line(step, r.recommendation));
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_policy_eval_command(CLI::App& policy_group, Context& context) {
  auto options = std::make_shared<EvalOptions>();
  auto* eval = policy_group.add_subcommand(
      "eval",
      "Feed a steps file through one engine instance and print one JSON line per step:\n"
      "desired replicas, and every stage's output, changed flag, reason and arithmetic.\n"
      "Steps: CSV with a header, or JSON lines, with t_seconds, qps (empty/null = missing),\n"
      "current_replicas and optional metrics_ok, run_status, model_updating.\n"
      "Exit status: 0 done, 1 invalid policy or steps, 2 unreadable file, unknown policy name\n"
      "or bad option.");
  eval->add_option("--policy", options->policy_ref, kPolicyRefHelp)->required();
  eval->add_option("--replica-qps", options->replica_qps,
                   "QPS one replica is sized for (resourceConfig.qps)")
      ->required()
      ->check(CLI::PositiveNumber);
  eval->add_option("--steps", options->steps_file, "Steps file (CSV or JSON lines)")->required();
  eval->add_option("--start", options->start,
                   fmt::format("Wall time of t_seconds 0, for schedules: {}\n"
                               "(default 0: t_seconds is Unix time)",
                               util::kTimeFormats));
  eval->add_option("--sample-span", options->sample_span,
                   "The seconds each qps averages over, e.g. 1m for a rate(x[1m]); target.slo\n"
                   "reads burstiness from it (default: the time since the previous step)");
  eval->callback([options, &context] { context.exit_code = run_eval(*options); });
}

}  // namespace qfscale::cli
