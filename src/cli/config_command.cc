// `qfscale config check FILE [--show]`: validates a controller config and every policy it names.

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/util/file.h"

#include "cli/command.h"

namespace qfscale::cli {

namespace {

struct CheckOptions {
  std::string file;
  bool show = false;
};

std::string_view source_name(controller::MetricSourceKind kind) {
  switch (kind) {
    case controller::MetricSourceKind::Prometheus:
      return "prometheus";
    case controller::MetricSourceKind::QianfanMetric:
      return "qianfan";
    case controller::MetricSourceKind::Trace:
      return "trace";
    case controller::MetricSourceKind::Synthetic:
      return "synthetic";
  }
  return "?";
}

/// 0 valid, 1 invalid (diagnostics on stderr), 2 unreadable.
int run_check(const CheckOptions& options) {
  auto text = util::read_file(options.file);
  if (!text) {
    fmt::print(stderr, "qfscale: {}\n", text.error().to_string());
    return 2;
  }
  const controller::FileReader read = [](const std::string& path) { return util::read_file(path); };
  auto config = controller::parse_config(*text, options.file, read, util::system_zone_source(),
                                         controller::output_path_problem);
  if (!config) {
    for (const auto& d : config.error()) fmt::print(stderr, "{}\n", d.to_string());
    fmt::print(stderr, "{}: invalid ({} problem{})\n", options.file, config.error().size(),
               config.error().size() == 1 ? "" : "s");
    return 1;
  }
  if (const auto warning = controller::span_warning(*config)) {
    fmt::print(stderr, "{}: {}\n", options.file, *warning);
  }
  if (options.show) {
    fmt::print("# {}: effective config (defaults filled in, paths absolute)\n{}", options.file,
               controller::to_yaml(*config));
  } else {
    fmt::print("{}: ok ({} service{}, {} instance{}, metrics from {})\n", options.file,
               config->services.size(), config->services.size() == 1 ? "" : "s",
               config->instances.size(), config->instances.size() == 1 ? "" : "s",
               source_name(config->metrics.kind));
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_config_command(CLI::App& app, Context& context) {
  auto* group = app.add_subcommand("config", "Work with the controller config (qfscale.yaml)");
  group->require_subcommand(1);

  auto options = std::make_shared<CheckOptions>();
  auto* check = group->add_subcommand(
      "check",
      "Validate a controller config and every policy its services name. Every problem is\n"
      "printed to stderr as file:line:col: path: message (a broken policy file's problems\n"
      "name that file). Credentials are not read: only the credentials file's path is checked.");
  check->add_option("FILE", options->file, "The controller config, e.g. /etc/qfscale/qfscale.yaml")
      ->required();
  check->add_flag("--show", options->show,
                  "Print the effective config as YAML: defaults filled in, paths made absolute,\n"
                  "each service's policy resolved (it checks clean again)");
  check->footer("Exit status: 0 valid, 1 invalid, 2 usage error or unreadable file.");
  check->callback([options, &context] { context.exit_code = run_check(*options); });
}

}  // namespace qfscale::cli
