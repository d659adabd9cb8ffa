#pragma once

// What `qfscale simulate` and `qfscale tune` read from the command line alike: the model flags
// (--replica-qps, --type, --startup-delay, --tick, the queue, --start), policies, traces and a
// --sweep. Each function prints its problem as "qfscale COMMAND: ..." and returns the exit code
// (2 usage, 1 a bad file).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "qfscale/model/ids.h"
#include "qfscale/model/units.h"
#include "qfscale/policy/policy.h"
#include "qfscale/sim/queue.h"
#include "qfscale/sim/sweep.h"
#include "qfscale/trace/trace.h"

namespace qfscale::cli {

/// Fails with the exit code (2 usage, 1 a bad file) once the problem has been printed.
template <typename T>
using OrExit = tl::expected<T, int>;

/// Prints "qfscale COMMAND: MESSAGE" to stderr.
void print_problem(std::string_view command, std::string_view message);

/// The model flags as typed.
struct ModelFlags {
  double replica_qps = 0;
  std::string type;
  std::string startup_delay = "90s";
  std::string tick = "15s";
  std::string metric_span;  ///< empty: the tick
  std::string slo_wait = "5s";
  std::string slo_wait_flag = "--slo-wait";  ///< the flag the SLO wait came from, for messages
  std::string abandon_after = "30s";
  std::string start;
};

/// The model flags checked: --replica-qps finite > 0, --type ending in its units, durations,
/// --tick > 0, --metric-span > 0 when given, the queue (--slo-wait > 0, --abandon-after longer
/// and at most 1h), --start.
struct Model {
  double replica_qps = 0;
  model::ComputeUnits units_per_replica{1};
  std::chrono::seconds startup_delay{90};
  std::chrono::seconds tick{15};
  std::chrono::seconds metric_span{0};  ///< 0: the tick
  sim::QueueOptions queue;
  std::int64_t start_unix_seconds = 0;
};
[[nodiscard]] OrExit<Model> check_model(std::string_view command, const ModelFlags& flags);

/// A duration flag's value, or exit 2 with the grammar's message.
[[nodiscard]] OrExit<std::chrono::seconds> duration_option(std::string_view command,
                                                           std::string_view option,
                                                           const std::string& text);

/// Service ids: the file stem, with -2, -3, … appended to repeats.
[[nodiscard]] std::vector<model::ServiceId> service_ids(const std::vector<std::string>& files);

/// Every policy, every problem in every file printed; 2 for an unknown shipped name, else 1.
[[nodiscard]] OrExit<std::vector<policy::Policy>> load_policies(
    std::string_view command, const std::vector<std::string>& refs);

/// Reads and parses the traces on `workers` threads (parsing dominates a thousand-service run);
/// problems are printed in the order the files were given.
[[nodiscard]] OrExit<std::vector<std::shared_ptr<const trace::Trace>>> load_traces(
    const std::vector<std::string>& files, unsigned workers);

/// --sweep: at most one (exit 2 naming the flag otherwise), parsed by sim::parse_sweep.
[[nodiscard]] OrExit<sim::SweepRange> sweep_option(std::string_view command,
                                                   const std::vector<std::string>& flags);

}  // namespace qfscale::cli
