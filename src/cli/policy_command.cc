#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"

#include "cli/command.h"

namespace qfscale::cli {

namespace {

struct CheckOptions {
  std::vector<std::string> files;
  bool show = false;
};

/// `qfscale policy check FILE... [--show]`: 0 all valid, 1 any invalid, 2 any unreadable.
int run_check(const CheckOptions& options) {
  const auto zones = util::system_zone_source();
  bool invalid = false;
  bool unreadable = false;
  for (const auto& file : options.files) {
    auto text = util::read_file(file);
    if (!text) {
      fmt::print(stderr, "qfscale: {}\n", text.error().to_string());
      unreadable = true;
      continue;
    }
    auto policy = policy::load_policy(*text, file, zones);
    if (!policy) {
      for (const auto& d : policy.error()) fmt::print("{}\n", d.to_string());
      invalid = true;
      continue;
    }
    if (options.show) {
      fmt::print("# {}: effective policy (defaults filled in)\n---\n{}", file,
                 policy::to_yaml(policy->spec()));
    } else {
      fmt::print("{}: ok (policy {})\n", file, policy->name());
    }
  }
  std::fflush(stdout);
  if (unreadable) return 2;
  return invalid ? 1 : 0;
}

}  // namespace

CLI::App& add_policy_command(CLI::App& app, Context& context) {
  auto* group = app.add_subcommand("policy", "Work with scaling policies (policies/*.yaml)");
  group->require_subcommand(1);

  auto options = std::make_shared<CheckOptions>();
  auto* check = group->add_subcommand(
      "check",
      "Validate policy files; print every problem as file:line:col: path: message.\n"
      "Exit status: 0 all valid, 1 any invalid, 2 any unreadable.");
  check->add_option("FILE", options->files, "Policy files to check")->required();
  check->add_flag("--show", options->show,
                  "Print each valid policy in full, with defaults filled in, as YAML");
  check->callback([options, &context] { context.exit_code = run_check(*options); });
  return *group;
}

}  // namespace qfscale::cli
