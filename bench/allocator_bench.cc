// Allocator quality bar (docs/DESIGN.md): 10,000 services on 1,000 shared instances, one allocation
// plus its call plan, in well under a tick. Reports time per allocation and per service.

#include <benchmark/benchmark.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/capacity/plan.h"

#include "support/allocator_scenario.h"

namespace qfscale::bench {
namespace {

void set_counters(benchmark::State& state, const capacity::AllocationInput& in) {
  state.counters["services"] = static_cast<double>(in.services.size());
  state.counters["instances"] = static_cast<double>(in.instances.size());
  state.counters["per_service"] = benchmark::Counter(
      static_cast<double>(in.services.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void allocate_and_plan(benchmark::State& state) {
  const auto in = make_allocator_scenario({.services = static_cast<int>(state.range(0)),
                                           .instances = static_cast<int>(state.range(1))});
  std::size_t calls = 0;
  std::size_t unmet = 0;
  for (auto _ : state) {
    auto allocation = capacity::allocate(in);
    if (!allocation) {
      state.SkipWithError(allocation.error().to_string().c_str());
      return;
    }
    auto plan = capacity::plan_calls(in, *allocation);
    if (!plan) {
      state.SkipWithError(plan.error().to_string().c_str());
      return;
    }
    calls = plan->steps.size();
    unmet = 0;
    for (const auto& s : allocation->services) unmet += s.unmet.value > 0 ? 1 : 0;
    benchmark::DoNotOptimize(plan);
  }
  set_counters(state, in);
  state.counters["calls"] = static_cast<double>(calls);
  state.counters["services_unmet"] = static_cast<double>(unmet);
}

void allocate_only(benchmark::State& state) {
  const auto in = make_allocator_scenario({.services = static_cast<int>(state.range(0)),
                                           .instances = static_cast<int>(state.range(1))});
  for (auto _ : state) {
    auto allocation = capacity::allocate(in);
    benchmark::DoNotOptimize(allocation);
  }
  set_counters(state, in);
}

BENCHMARK(allocate_and_plan)
    ->Args({10'000, 1'000})
    ->Args({1'000, 100})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(allocate_only)->Args({10'000, 1'000})->Args({1'000, 100})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace qfscale::bench
