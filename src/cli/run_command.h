#pragma once

// Private to src/cli: the pieces `qfscale run` shares between a real config and the built-in
// demo (src/cli/run_demo.cc).

#include <chrono>
#include <optional>
#include <string>

#include "qfscale/bce/signer.h"
#include "qfscale/controller/config.h"

namespace qfscale::cli {

struct RunFlags {
  std::string config;
  bool dry_run = false;
  std::string listen;  ///< overrides loop.listen when set
  std::optional<std::chrono::seconds> run_for;
  std::optional<int> ticks;
  bool quiet = false;  ///< no per-tick lines
  /// per-tick lines only for a service whose replicas, reason or outcome changed since its last
  /// printed line (instances: when the allocation changed); tick errors are always logged
  bool changes_only = false;
};

/// Runs the controller with `config` until a signal or a --for/--ticks limit: builds the
/// clients, the metric source, the exporter, the audit log and the state store, serves the HTTP
/// endpoints and runs the loop. `config_file` empty: SIGHUP has nothing to reload. Returns the
/// process exit code (0 after a clean stop).
int run_controller(controller::Config config, const bce::Credentials& credentials,
                   const RunFlags& flags);

/// The built-in demo: an in-process fake Qianfan, synthetic traffic, the controller.
int run_demo(const RunFlags& flags);

}  // namespace qfscale::cli
