#pragma once

/// Replicas and compute units (算力单元). A replica of resource type `GPU-I-2` takes 2 units;
/// the product of the two is what must fit on an instance.

#include <optional>
#include <string_view>

#include "qfscale/util/strong_types.h"

namespace qfscale::model {

using Replicas = util::Count<struct ReplicasTag>;
using ComputeUnits = util::Count<struct ComputeUnitsTag>;

/// Units taken by `replicas` replicas of `per_replica` units each.
[[nodiscard]] constexpr ComputeUnits operator*(Replicas replicas, ComputeUnits per_replica) {
  return ComputeUnits{replicas.value * per_replica.value};
}

/// Compute units per replica named by a resource type: the number after the last dash
/// (`GPU-I-2` -> 2, `CPU-I-4` -> 4). Empty when the type does not end in a positive number.
[[nodiscard]] std::optional<ComputeUnits> units_per_replica(std::string_view resource_type);

}  // namespace qfscale::model
