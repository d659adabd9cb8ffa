#pragma once

/// The allocator's request for one service, built from the engine's recommendation: the one
/// place that decides what the controller and the simulator ask `allocate` for, so both allocate
/// alike (docs/DESIGN.md data flow step 3).
///
/// - A frozen recommendation (not Serving, or a model update in progress) asks for nothing: the
///   service keeps its replicas, and the caller counts its units as foreign so nobody takes them.
/// - Otherwise `desired` is the recommendation and `min` the floor in force the engine applied
///   (replicas.min, or an active schedule's minReplicas), so the allocator reserves the floor a
///   schedule raised before priorities share the rest.
///
/// Worked example: business-hours at 10:00 on a Monday (floor 4), demand for 3 replicas ->
/// recommendation 4, floor 4 -> request desired 4, min 4. At 03:00 (floor 1) with the same
/// demand -> desired 3, min 1. Pure: no clock, no I/O.

#include <optional>
#include <span>
#include <vector>

#include "qfscale/capacity/allocator.h"
#include "qfscale/model/ids.h"
#include "qfscale/model/units.h"
#include "qfscale/policy/engine.h"

namespace qfscale::capacity {

/// What the configuration says about a service, as the allocator needs it.
struct ServiceTerms {
  model::ServiceId id;
  model::ComputeUnits units_per_replica{1};
  int priority = 0;
  int weight = 1;
  std::span<const model::InstanceId> instances;  ///< allowed, most preferred first
};

/// The request for `terms`' service given the engine's `recommendation` and where it runs now
/// (`current`, replicas > 0 or not, in any order); empty when the recommendation is frozen.
[[nodiscard]] std::optional<ServiceRequest> service_request(
    const ServiceTerms& terms, const policy::Recommendation& recommendation,
    std::vector<Placement> current);

}  // namespace qfscale::capacity
