#include "qfscale/policy/policy.h"

#include <algorithm>

namespace qfscale::policy {

std::chrono::seconds ZoneRules::offset_at(SysSeconds t) const {
  // The last transition at or before t decides; before the first one, the initial offset.
  auto it = std::upper_bound(transitions.begin(), transitions.end(), t,
                             [](SysSeconds at, const Transition& tr) { return at < tr.at; });
  return it == transitions.begin() ? initial_offset : std::prev(it)->offset;
}

util::Diagnostics validate(const PolicySpec& spec) {
  util::Diagnostics out;
  auto add = [&out](std::string path, std::string message) {
    out.push_back(util::Diagnostic{.path = std::move(path), .message = std::move(message)});
  };
  if (!(spec.target.utilization > 0 && spec.target.utilization <= 1)) {
    add("spec.target.utilization",
        fmt::format("must be in (0, 1], got {}", spec.target.utilization));
  }
  if (!(spec.target.tolerance >= 0 && spec.target.tolerance < 1)) {
    add("spec.target.tolerance", fmt::format("must be in [0, 1), got {}", spec.target.tolerance));
  }
  if (spec.replicas.min.value < 0) {
    add("spec.replicas.min", fmt::format("must be >= 0, got {}", spec.replicas.min.value));
  }
  if (spec.replicas.max.value < 1) {
    add("spec.replicas.max", fmt::format("must be >= 1, got {}", spec.replicas.max.value));
  }
  if (spec.replicas.min > spec.replicas.max) {
    add("spec.replicas",
        fmt::format("min ({}) must be <= max ({})", spec.replicas.min, spec.replicas.max));
  }
  if (spec.metric_window.count() <= 0) {
    add("spec.metricWindow", fmt::format("must be > 0s, got {}s", spec.metric_window.count()));
  }
  if (spec.panic.enabled) {
    if (spec.panic.window.count() <= 0 || spec.panic.window > spec.metric_window) {
      add("spec.panic.window", fmt::format("must be in (0s, metricWindow={}s], got {}s",
                                           spec.metric_window.count(), spec.panic.window.count()));
    }
    if (!(spec.panic.threshold > 1)) {
      add("spec.panic.threshold", fmt::format("must be > 1, got {}", spec.panic.threshold));
    }
  }
  if (spec.scale_to_zero.enabled && spec.replicas.min.value != 0) {
    add("spec.scaleToZero.enabled",
        fmt::format("needs spec.replicas.min = 0, got {}", spec.replicas.min.value));
  }
  return out;
}

Result<Policy> Policy::create(PolicySpec spec) {
  auto diagnostics = validate(spec);
  if (!diagnostics.empty()) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("policy {} is invalid:\n{}", spec.name, util::to_string(diagnostics)));
  }
  return Policy(std::make_shared<const PolicySpec>(std::move(spec)));
}

}  // namespace qfscale::policy
