#include "qfscale/capacity/plan.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "capacity/detail/id_index.h"

namespace qfscale::capacity {

namespace {

using detail::Index;
using detail::kNoIndex;

/// One service as the planner reads it: views, so the convenience overload need not copy every
/// service's placements into a ServiceChange.
struct ChangeView {
  const model::ServiceId* id = nullptr;
  model::ComputeUnits units_per_replica{1};
  std::span<const Placement> current;
  std::span<const Placement> target;
};

struct Pending {
  Index service = 0;  ///< index into the changes
  Index instance = 0;
  int from = 0;
  int to = 0;
};

Index to_index(std::size_t i) { return static_cast<Index>(i); }

Result<Plan> plan(std::span<const InstanceSpec> instances, std::span<const ChangeView> services) {
  detail::IdIndex index(instances.size());
  for (std::size_t i = 0; i < instances.size(); ++i) {
    if (!index.add(instances[i].id.value, to_index(i))) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("plan: instance {} listed twice", instances[i].id));
    }
  }
  // Units in use per instance, foreign included, as the plan is replayed.
  std::vector<std::int64_t> used(instances.size());
  for (std::size_t i = 0; i < instances.size(); ++i) used[i] = instances[i].foreign.value;

  std::vector<Pending> downs;
  std::vector<Pending> ups;
  std::vector<Pending> rows;
  for (std::size_t s = 0; s < services.size(); ++s) {
    const auto& change = services[s];
    if (change.units_per_replica.value < 1) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("plan: service {}: units_per_replica must be >= 1, got {}",
                              *change.id, change.units_per_replica));
    }
    rows.clear();
    // The row of `p`'s instance, created on first sight; `from`/`to` of -1 mean "not listed".
    auto row_for = [&](const Placement& p, bool is_target) -> Result<Pending*> {
      const Index found = index.find(p.instance.value);
      if (found == kNoIndex) {
        return fail(ErrorCode::InvalidInput, fmt::format("plan: service {}: instance {} is not "
                                                         "known",
                                                         *change.id, p.instance));
      }
      if (p.replicas.value < 0) {
        return fail(ErrorCode::InvalidInput,
                    fmt::format("plan: service {}: replicas on {} must be >= 0, got {}", *change.id,
                                p.instance, p.replicas));
      }
      for (auto& r : rows) {
        if (r.instance != found) continue;
        // Listed once as current and once as target is expected; twice in one list is not.
        const bool seen = is_target ? r.to >= 0 : r.from >= 0;
        if (seen) {
          return fail(ErrorCode::InvalidInput,
                      fmt::format("plan: service {}: instance {} listed twice in {}", *change.id,
                                  p.instance, is_target ? "target" : "current"));
        }
        return &r;
      }
      rows.push_back(Pending{.service = to_index(s), .instance = found, .from = -1, .to = -1});
      return &rows.back();
    };
    for (const auto& p : change.current) {
      auto row = row_for(p, false);
      if (!row) return fail(std::move(row.error()));
      (*row)->from = p.replicas.value;
    }
    for (const auto& p : change.target) {
      auto row = row_for(p, true);
      if (!row) return fail(std::move(row.error()));
      (*row)->to = p.replicas.value;
    }
    for (auto& r : rows) {
      r.from = std::max(r.from, 0);
      r.to = std::max(r.to, 0);
      used[r.instance] += std::int64_t{r.from} * change.units_per_replica.value;
      if (r.to < r.from) downs.push_back(r);
      if (r.to > r.from) ups.push_back(r);
    }
  }

  Plan out;
  out.steps.reserve(downs.size() + ups.size());
  out.downs = downs.size();
  auto emit = [&](const Pending& r) {
    out.steps.push_back(ScaleStep{.service = *services[r.service].id,
                                  .instance = instances[r.instance].id,
                                  .from = model::Replicas{r.from},
                                  .to = model::Replicas{r.to}});
  };
  // Downs only ever lower an instance's usage.
  for (const auto& r : downs) {
    used[r.instance] -= std::int64_t{r.from - r.to} * services[r.service].units_per_replica.value;
    emit(r);
  }
  // Each up must fit in what its instance has left at that point of the plan.
  for (const auto& r : ups) {
    const std::int64_t need =
        std::int64_t{r.to - r.from} * services[r.service].units_per_replica.value;
    const std::int64_t left = instances[r.instance].capacity.value - used[r.instance];
    if (need > left) {
      return fail(
          ErrorCode::InvalidInput,
          fmt::format("plan: service {} on {}: {} -> {} needs {} compute units, {} left "
                      "after the scale-downs (target does not fit)",
                      *services[r.service].id, instances[r.instance].id, r.from, r.to, need, left));
    }
    used[r.instance] += need;
    emit(r);
  }
  return out;
}

}  // namespace

Result<Plan> plan_calls(std::span<const InstanceSpec> instances,
                        std::span<const ServiceChange> services) {
  std::vector<ChangeView> views;
  views.reserve(services.size());
  for (const auto& s : services) {
    views.push_back(ChangeView{.id = &s.id,
                               .units_per_replica = s.units_per_replica,
                               .current = s.current,
                               .target = s.target});
  }
  return plan(instances, views);
}

Result<Plan> plan_calls(const AllocationInput& input, const Allocation& allocation) {
  if (allocation.services.size() != input.services.size()) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("plan: allocation has {} services, input {}",
                            allocation.services.size(), input.services.size()));
  }
  std::vector<ChangeView> views;
  views.reserve(input.services.size());
  for (std::size_t i = 0; i < input.services.size(); ++i) {
    const auto& req = input.services[i];
    const auto& got = allocation.services[i];
    if (req.id != got.id) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("plan: allocation service {} at position {} is not input's {}",
                              got.id, i, req.id));
    }
    views.push_back(ChangeView{.id = &req.id,
                               .units_per_replica = req.units_per_replica,
                               .current = req.current,
                               .target = allocation.placements_of(got)});
  }
  return plan(input.instances, views);
}

}  // namespace qfscale::capacity
