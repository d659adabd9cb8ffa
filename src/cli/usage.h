#pragma once

/// How `qfscale` reports a command line it cannot parse, and `qfscale help [COMMAND...]`.
/// Every message starts with the command as typed ("qfscale policy eval: ...") and names the
/// unknown flag or command, with the closest known one when it is a likely typo.

#include <chrono>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace qfscale::cli {

/// The message for a parse error, e.g.
/// "qfscale policy eval: unknown flag --polcy; did you mean --policy?" or
/// "qfscale: unknown command 'simulte'; did you mean 'simulate'?"; otherwise CLI11's own
/// message after the command, e.g. "qfscale policy eval: --policy is required".
/// `args` are argv[1..], in order.
[[nodiscard]] std::string describe_parse_error(CLI::App& app, const std::vector<std::string>& args,
                                               const CLI::Error& error);

/// Adds a `DURATION` option (qfscale's duration grammar, whole seconds) that must be longer than
/// 0s: CLI11 rejects anything else as usage (exit 2) with the grammar's own message; a valid
/// value is stored in `target`.
CLI::Option* add_positive_duration_option(CLI::App& cmd, const std::string& name,
                                          std::chrono::seconds& target,
                                          const std::string& description);

/// Adds `help [COMMAND...]`: prints the top-level help, or one command's, and exits 0; an
/// unknown command is reported as on the command line (exit 2).
void add_help_command(CLI::App& app, Context& context);

}  // namespace qfscale::cli
