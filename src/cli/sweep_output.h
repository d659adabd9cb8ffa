#pragma once

// The --sweep glue shared by `qfscale simulate` and `qfscale tune`: the flags, running the sweep
// with a progress line per finished run on stderr, and the cost-at-attainment table.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "qfscale/policy/policy.h"
#include "qfscale/sim/simulator.h"
#include "qfscale/sim/sweep.h"

#include "cli/sim_inputs.h"

namespace qfscale::cli {

/// Help for --sweep: the syntax, an example, and every numeric field.
[[nodiscard]] std::string sweep_help(std::string_view default_text);

/// Adds --sweep (repeatable on the command line, refused by sweep_option when repeated) and
/// -q/--quiet (no progress on stderr). `default_text`: what happens without it, for the help.
void add_sweep_options(CLI::App& cmd, std::vector<std::string>& sweeps, bool& quiet,
                       std::string_view default_text);

/// Runs the sweep on `workers` threads; unless `quiet`, prints "sweep: N/TOTAL POLICY
/// FIELD=VALUE" on stderr as each run finishes and a note per refused value (one note for a
/// policy that refuses every value: it has no curve). A failed run, or no policy with a curve, is
/// printed, exit 2.
[[nodiscard]] OrExit<std::vector<sim::Curve>> run_sweep(std::string_view command,
                                                        std::span<const policy::Policy> policies,
                                                        std::span<const sim::ServiceSpec> services,
                                                        const sim::SweepRange& range,
                                                        const sim::SimOptions& sim,
                                                        unsigned workers, bool quiet);

/// "policy  field  points  CU-h at 99%  CU-h at 99.9%" with "-" where not reached, and a
/// legend line on how the costs are read off the curve.
[[nodiscard]] std::string cost_at_attainment_table(std::span<const sim::Curve> curves);

}  // namespace qfscale::cli
