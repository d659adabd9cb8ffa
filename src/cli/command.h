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

}  // namespace qfscale::cli
