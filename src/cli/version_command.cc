#include <fmt/format.h>

#include "cli/command.h"

namespace qfscale::cli {

void add_version_command(CLI::App& app, Context& /*context*/) {
  auto* cmd = app.add_subcommand("version", "Print the qfscale version");
  cmd->callback([] { fmt::print("qfscale {}\n", QFS_VERSION); });
}

}  // namespace qfscale::cli
