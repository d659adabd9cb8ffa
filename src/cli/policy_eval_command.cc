#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "qfscale/policy/engine.h"
#include "qfscale/policy/eval.h"
#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"

#include "cli/command.h"

namespace qfscale::cli {
namespace {

struct EvalOptions {
  std::string policy_file;
  double replica_qps = 0;
  std::string steps_file;
  long long start = 0;
};

/// `qfscale policy eval`: 0 done, 1 invalid policy or steps file, 2 unreadable file.
int run_eval(const EvalOptions& o) {
  auto policy_text = util::read_file(o.policy_file);
  if (!policy_text) {
    fmt::print(stderr, "qfscale: {}\n", policy_text.error().to_string());
    return 2;
  }
  auto policy = policy::load_policy(*policy_text, o.policy_file, util::system_zone_source());
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
  const util::SystemTime start{std::chrono::seconds{o.start}};
  policy::EngineState state;
  for (const auto& step : *steps) {
    auto r = policy::recommend(*policy, policy::eval_input(step, start, o.replica_qps),
                               std::move(state));
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
      "Exit status: 0 done, 1 invalid policy or steps, 2 unreadable file.");
  eval->add_option("--policy", options->policy_file, "Policy file (YAML)")->required();
  eval->add_option("--replica-qps", options->replica_qps,
                   "QPS one replica is sized for (resourceConfig.qps)")
      ->required()
      ->check(CLI::PositiveNumber);
  eval->add_option("--steps", options->steps_file, "Steps file (CSV or JSON lines)")->required();
  eval->add_option("--start", options->start,
                   "Unix seconds that t_seconds counts from (default 0: t_seconds is Unix time);\n"
                   "matters for schedules");
  eval->callback([options, &context] { context.exit_code = run_eval(*options); });
}

}  // namespace qfscale::cli
