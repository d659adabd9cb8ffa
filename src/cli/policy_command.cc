#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"

#include "cli/command.h"
#include "cli/policy_ref.h"

namespace qfscale::cli {

namespace {

struct CheckOptions {
  std::vector<std::string> files;
  bool show = false;
};

/// `qfscale policy check POLICY... [--show]`: 0 all valid, 1 any invalid, 2 any unreadable or
/// unknown name.
int run_check(const CheckOptions& options) {
  const auto zones = util::system_zone_source();
  bool invalid = false;
  bool unreadable = false;
  for (const auto& ref : options.files) {
    auto source = read_policy_ref(ref);
    if (!source) {
      fmt::print(stderr, "qfscale policy check: {}\n", source.error().message);
      unreadable = true;
      continue;
    }
    const std::string& file = source->label;
    auto policy = policy::load_policy(source->text, file, zones);
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

/// `qfscale policy show NAME`: the shipped policy's YAML as shipped; 0, or 2 for an unknown name.
int run_show(const std::string& name) {
  const auto text = controller::shipped_policy(name);
  if (!text) {
    fmt::print(stderr, "qfscale policy show: {}\n", unknown_policy_name(name, false));
    return 2;
  }
  fmt::print("{}", *text);
  std::fflush(stdout);
  return 0;
}

}  // namespace

CLI::App& add_policy_command(CLI::App& app, Context& context) {
  auto* group = app.add_subcommand("policy", "Work with scaling policies (policies/*.yaml)");
  group->require_subcommand(1);

  auto options = std::make_shared<CheckOptions>();
  auto* check = group->add_subcommand(
      "check",
      "Validate policies; print every problem as file:line:col: path: message.\n"
      "Exit status: 0 all valid, 1 any invalid, 2 any unreadable or unknown name.");
  check->add_option("POLICY", options->files, kPolicyRefHelp)->required();
  check->add_flag("--show", options->show,
                  "Print each valid policy in full, with defaults filled in, as YAML");
  check->callback([options, &context] { context.exit_code = run_check(*options); });

  auto name = std::make_shared<std::string>();
  auto* show = group->add_subcommand(
      "show",
      "Print a shipped policy's YAML exactly as shipped (a starting point for your own).\n"
      "Exit status: 0 printed, 2 unknown name (the shipped names are listed).");
  show->add_option("NAME", *name, "Shipped policy name, e.g. balanced")->required();
  show->callback([name, &context] { context.exit_code = run_show(*name); });
  return *group;
}

}  // namespace qfscale::cli
