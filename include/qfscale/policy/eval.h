#pragma once

/// `qfscale policy eval`: the steps file it reads and the JSON line it prints per step. Pure text
/// in, text out (the CLI does the file I/O), so the format is unit-tested here.
///
/// Steps file: CSV with a header line, or JSON lines (one flat object per line; detected by a
/// first non-blank character `{`). Columns / keys:
///   t_seconds (number, required)         seconds added to the caller's start time, at most
///                                        ten years either way (kMaxEvalSeconds)
///   qps (number >= 0; empty or null = missing metric)
///   current_replicas (integer >= 0, required)
///   metrics_ok (true/false, optional)    false makes qps missing whatever it says
///   run_status (New/Deploying/Serving/Failed/Stopped/Done, optional, default Serving)
///   model_updating (true/false, optional)
/// Blank lines and CSV lines starting with `#` are skipped. t_seconds must not decrease.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "qfscale/model/service.h"
#include "qfscale/policy/engine.h"
#include "qfscale/util/diagnostic.h"

namespace qfscale::policy {

/// The largest |t_seconds|: ten years, far past any steps file yet well inside the clock's range.
inline constexpr double kMaxEvalSeconds = 10.0 * 365 * 24 * 3600;

struct EvalStep {
  int line = 0;  ///< 1-based line in the steps file
  double t_seconds = 0;
  std::optional<double> qps;
  int current_replicas = 0;
  model::RunStatus run_status = model::RunStatus::Serving;
  bool model_updating = false;
  friend bool operator==(const EvalStep&, const EvalStep&) = default;
};

/// Every problem at once, each with file:line and the column or key at fault.
[[nodiscard]] tl::expected<std::vector<EvalStep>, util::Diagnostics> parse_eval_steps(
    std::string_view text, std::string_view file_name);

/// The engine input for a step: now = start + t_seconds.
[[nodiscard]] EngineInput eval_input(const EvalStep& step, util::SystemTime start,
                                     double replica_qps);

/// One JSON object (no newline): t_seconds, qps, current_replicas, desired_replicas, reason,
/// panicking, and per stage (keyed by model::to_string(Stage)) output, changed, reason, detail.
[[nodiscard]] std::string eval_json_line(const EvalStep& step, const Recommendation& rec);

}  // namespace qfscale::policy
