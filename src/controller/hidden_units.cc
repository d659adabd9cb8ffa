#include "controller/hidden_units.h"

#include <algorithm>
#include <set>
#include <utility>

namespace qfscale::controller::detail {

HiddenUnitsMemory recall(HiddenUnitsMemory memory, util::SystemTime now) {
  std::erase_if(memory,
                [&](const auto& entry) { return now - entry.second.since >= kHiddenUnitsMemory; });
  return memory;
}

model::ComputeUnits counted(const HiddenUnits& hidden, model::ComputeUnits foreign_now,
                            model::ComputeUnits room) {
  const model::ComputeUnits zero{};
  const auto appeared = std::max(zero, foreign_now - hidden.foreign_seen);
  return std::min(std::max(zero, hidden.units - appeared), std::max(zero, room));
}

HiddenUnitsMemory learn(HiddenUnitsMemory memory, std::span<const RefusedUp> refused,
                        util::SystemTime now) {
  std::set<model::InstanceId> learned;
  for (const auto& r : refused) {
    if (!learned.insert(r.instance).second) continue;  // the bound holds per instance, once
    memory[r.instance] = HiddenUnits{
        .units = r.counted + std::max(r.free_after, model::ComputeUnits{}) + model::ComputeUnits{1},
        .foreign_seen = r.foreign_seen,
        .since = now};
  }
  return memory;
}

}  // namespace qfscale::controller::detail
