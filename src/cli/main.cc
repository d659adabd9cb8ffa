#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <sys/prctl.h>

#include "qfscale/util/heap.h"

#include "cli/command.h"
#include "cli/usage.h"

int main(int argc, char** argv) {
  // Every command may hold the AK/SK (QIANFAN_SECRET_KEY is in the environment block of any
  // process started with it): no core dump, and no ptrace or /proc/<pid>/mem by other
  // processes of the same user. Done first, before anything reads a secret.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  qfscale::util::keep_freed_heap();
  CLI::App app{
      "qfscale: an autoscaler for Baidu Qianfan custom model services (定制服务).\n"
      "It reads each service's QPS, compares it with the QPS one replica is sized for,\n"
      "and sets deploymentReplicasCount per compute-unit instance with ScaleService.",
      // Named, so that usage lines say "qfscale", not the path the binary was started by.
      "qfscale"};
  app.require_subcommand(1);
  app.set_version_flag("--version", QFS_VERSION);
  app.footer("Run 'qfscale COMMAND --help' for the options of one command.");

  qfscale::cli::Context context;
  qfscale::cli::add_version_command(app, context);
  qfscale::cli::add_fake_command(app, context);
  qfscale::cli::add_sign_command(app, context);
  CLI::App& policy_group = qfscale::cli::add_policy_command(app, context);
  qfscale::cli::add_policy_eval_command(policy_group, context);
  qfscale::cli::add_api_commands(app, context);
  qfscale::cli::add_run_command(app, context);
  qfscale::cli::add_status_command(app, context);
  qfscale::cli::add_config_command(app, context);
  qfscale::cli::add_loadgen_command(app, context);
  qfscale::cli::add_simulate_command(app, context);
  qfscale::cli::add_tune_command(app, context);
  qfscale::cli::add_help_command(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Every usage error exits 2, as each command documents.
    const std::vector<std::string> args(argv + 1, argv + argc);
    std::fprintf(stderr, "%s\n", qfscale::cli::describe_parse_error(app, args, e).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qfscale: %s\n", e.what());
    return 2;
  }
  return context.exit_code;
}
