#pragma once

/// The call plan: step 4 ("Act") needs an order of `ScaleService(serviceId, instanceId,
/// deploymentReplicasCount)` calls that never asks an instance for more compute units than it
/// has left. Every scale-down (including to 0, which removes the instance from the service) comes
/// first, then every scale-up. After the downs each (service, instance) holds
/// `min(current, target)`, and each up only moves one count towards its target, so every state
/// during the ups uses at most the target's units — which fit. The planner does not rely on this
/// argument alone: it replays the plan and refuses (InvalidInput) a target whose ups do not fit.
///
/// Worked example: instance X, capacity 10, no foreign use; a: 6 -> 2 replicas, b: 4 -> 8, 1 unit
/// each. Plan: a 6->2 (uses 2 + 4 = 6 units), then b 4->8 (2 + 8 = 10 <= 10). The other order
/// would pass through 6 + 8 = 14 > 10, and ScaleService would refuse b.

#include <span>
#include <vector>

#include <fmt/format.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/model/ids.h"
#include "qfscale/model/units.h"
#include "qfscale/util/result.h"

namespace qfscale::capacity {

/// Current and target replicas of one service (absent instances count as 0).
struct ServiceChange {
  model::ServiceId id;
  model::ComputeUnits units_per_replica{1};
  std::vector<Placement> current;
  std::vector<Placement> target;
  friend bool operator==(const ServiceChange&, const ServiceChange&) = default;
};

/// One ScaleService call: set `service` on `instance` to `to` (from `from`).
struct ScaleStep {
  model::ServiceId service;
  model::InstanceId instance;
  model::Replicas from;
  model::Replicas to;
  friend bool operator==(const ScaleStep&, const ScaleStep&) = default;
};

struct Plan {
  std::vector<ScaleStep> steps;  ///< downs (in service order) then ups (in service order)
  std::size_t downs = 0;         ///< steps[0, downs) scale down; the rest scale up
  friend bool operator==(const Plan&, const Plan&) = default;
};

/// Plans the calls from current to target. No step raises an instance above its capacity
/// (checked while planning: a down never raises usage; each up is checked against what the
/// instance has left). Fails with `InvalidInput` on unknown instances, duplicate entries, or a
/// target that does not fit. Thread-safety: a pure function.
[[nodiscard]] Result<Plan> plan_calls(std::span<const InstanceSpec> instances,
                                      std::span<const ServiceChange> services);

/// Convenience: the plan from `input`'s current counts to `allocation`'s targets.
[[nodiscard]] Result<Plan> plan_calls(const AllocationInput& input, const Allocation& allocation);

}  // namespace qfscale::capacity

template <>
struct fmt::formatter<qfscale::capacity::ScaleStep> : fmt::formatter<std::string_view> {
  auto format(const qfscale::capacity::ScaleStep& s, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}@{}: {}->{}", s.service, s.instance, s.from, s.to);
  }
};
