#include "support/allocator_scenario.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "qfscale/util/random.h"

namespace qfscale::bench {

capacity::AllocationInput make_allocator_scenario(const AllocatorScenarioShape& shape) {
  using model::ComputeUnits;
  using model::InstanceId;
  using model::Replicas;
  util::Random rng(shape.seed);
  capacity::AllocationInput in;
  in.instances.reserve(static_cast<std::size_t>(shape.instances));
  std::vector<int> left;
  for (int i = 0; i < shape.instances; ++i) {
    const int capacity = static_cast<int>(rng.uniform_int(64, 192));
    const int foreign = static_cast<int>(rng.uniform_int(0, 8));
    in.instances.push_back(capacity::InstanceSpec{.id = InstanceId{fmt::format("unit-{:05}", i)},
                                                  .capacity = ComputeUnits{capacity},
                                                  .foreign = ComputeUnits{foreign}});
    left.push_back(capacity - foreign);
  }
  in.services.reserve(static_cast<std::size_t>(shape.services));
  const int units_choices[] = {1, 2, 4};
  for (int s = 0; s < shape.services; ++s) {
    capacity::ServiceRequest r;
    r.id = model::ServiceId{fmt::format("svco-{:06}", s)};
    r.units_per_replica = ComputeUnits{units_choices[rng.uniform_int(0, 2)]};
    r.desired = Replicas{static_cast<int>(rng.uniform_int(1, 8))};
    r.min = Replicas{static_cast<int>(rng.uniform_int(0, 2))};
    r.priority = static_cast<int>(rng.uniform_int(0, 3));
    r.weight = static_cast<int>(rng.uniform_int(1, 3));
    const int allowed = static_cast<int>(rng.uniform_int(1, 3));
    for (int k = 0; k < allowed; ++k) {
      const auto i = static_cast<std::size_t>(rng.uniform_int(0, shape.instances - 1));
      const InstanceId& id = in.instances[i].id;
      if (std::find(r.instances.begin(), r.instances.end(), id) != r.instances.end()) continue;
      r.instances.push_back(id);
      const int fit = std::max(0, left[i]) / r.units_per_replica.value;
      const int n = static_cast<int>(rng.uniform_int(0, std::min(fit, 4)));
      if (n > 0) {
        r.current.push_back(capacity::Placement{.instance = id, .replicas = Replicas{n}});
        left[i] -= n * r.units_per_replica.value;
      }
    }
    in.services.push_back(std::move(r));
  }
  return in;
}

}  // namespace qfscale::bench
