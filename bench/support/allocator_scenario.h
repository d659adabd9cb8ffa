#pragma once

/// Fixed-seed allocator scenarios for the benchmark: many services sharing compute-unit
/// instances, each allowed 1-3 of them, with current counts that fit and some contention.

#include <cstdint>

#include "qfscale/capacity/allocator.h"

namespace qfscale::bench {

struct AllocatorScenarioShape {
  int services = 10'000;
  int instances = 1'000;
  std::uint64_t seed = 42;
};

/// Capacity 64-192 units per instance (foreign 0-8), 1/2/4 units per replica, desired 1-8,
/// min 0-2, priority 0-3, weight 1-3. Total demand is about 0.8x total capacity, unevenly
/// spread, so some instances are contended and others are not.
[[nodiscard]] capacity::AllocationInput make_allocator_scenario(
    const AllocatorScenarioShape& shape);

}  // namespace qfscale::bench
