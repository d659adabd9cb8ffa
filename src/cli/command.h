#pragma once

/// Each `qfscale` subcommand lives in its own file and registers itself on the app. Commands hold
/// no logic of their own beyond wiring: they pick concrete implementations and call the modules.

#include <CLI/CLI.hpp>

namespace qfscale::cli {

/// Set by the subcommand that ran: 0 success, 1 a check or request failed, 2 usage or internal.
struct Context {
  int exit_code = 0;
};

void add_version_command(CLI::App& app, Context& context);
void add_fake_command(CLI::App& app, Context& context);
void add_sign_command(CLI::App& app, Context& context);
/// `config check`: validates a controller config (src/cli/config_command.cc).
/// `run`: the controller (src/cli/run_command.cc); with no config, the built-in demo.
void add_run_command(CLI::App& app, Context& context);
void add_config_command(CLI::App& app, Context& context);
void add_loadgen_command(CLI::App& app, Context& context);
/// `simulate`: offline policy comparison with the oracle (src/cli/simulate_command.cc).
void add_simulate_command(CLI::App& app, Context& context);
/// `tune`: the cheapest value of a policy field holding an SLO (src/cli/tune_command.cc).
void add_tune_command(CLI::App& app, Context& context);
/// `status`: a running controller's last decisions, a thin HTTP client (src/cli/status_command.cc).
void add_status_command(CLI::App& app, Context& context);
/// describe, scale, modify, services, compute-unit: the Qianfan console actions by hand.
void add_api_commands(CLI::App& app, Context& context);

/// Adds the `policy` group with `policy check`, and returns the group so that other commands
/// (e.g. `policy eval`) can be added to it: `add_policy_eval_command(policy_group, context)`.
CLI::App& add_policy_command(CLI::App& app, Context& context);

/// Adds `policy eval` (src/cli/policy_eval_command.cc) to the `policy` group.
void add_policy_eval_command(CLI::App& policy_group, Context& context);

}  // namespace qfscale::cli
