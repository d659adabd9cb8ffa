// Differential check for allocator changes (bench/RESULTS.md; not part of the CMake build).
// Prints the allocation and the call plan of ~960 generated scenarios, invalid inputs included,
// so the output of an old and a new build can be compared byte for byte:
//
//   g++ -std=gnu++20 -O2 -DFMT_SHARED -Iinclude -Isrc -Ibench bench/callgrind/differential.cc
//       bench/support/allocator_scenario.cc build/release/libqfscale_core.a -lfmt -o /tmp/diff
//   /tmp/diff > new.txt   # and the same against the old tree and library; then cmp
//
// Define QFS_OLD_ALLOCATION_API to build against a tree from before the flat placement array
// (one std::vector<Placement> per ServiceAllocation); the printed text is the same either way.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/capacity/plan.h"
#include "qfscale/util/random.h"

#include "support/allocator_scenario.h"

using namespace qfscale;
using capacity::AllocationInput;

namespace {

void print(std::FILE* out, const AllocationInput& in) {
  auto got = capacity::allocate(in);
  if (!got) {
    fmt::print(out, "error: {}\n", got.error().to_string());
    return;
  }
  // Each through the library's own formatter, so that is compared too.
  for (const auto& s : got->services) {
#ifdef QFS_OLD_ALLOCATION_API
    fmt::print(out, "{}\n", s);
#else
    fmt::print(out, "{}\n", capacity::ServiceAllocationText{s, got->placements_of(s)});
#endif
  }
  for (const auto& i : got->instances) fmt::print(out, "{}\n", i);
  auto plan = capacity::plan_calls(in, *got);
  if (!plan) {
    fmt::print(out, "plan error: {}\n", plan.error().to_string());
    return;
  }
  fmt::print(out, "plan: {} downs\n", plan->downs);
  for (const auto& step : plan->steps) fmt::print(out, "{}\n", step);
}

enum class Kind {
  Bench,
  Small,
  Medium,
  Quarter,
  Half,
  Double,
  Quadruple,
  AllMins,
  OneClassWeights,
  ManyPriorities,
  ZeroDemand,
  ForeignAbove,
  NoCurrent,
  DuplicateService,
  DuplicateInstance,
  UnknownInstance,
  RepeatedInstance,
};
constexpr Kind kKinds[] = {Kind::Bench,
                           Kind::Small,
                           Kind::Medium,
                           Kind::Quarter,
                           Kind::Half,
                           Kind::Double,
                           Kind::Quadruple,
                           Kind::AllMins,
                           Kind::OneClassWeights,
                           Kind::ManyPriorities,
                           Kind::ZeroDemand,
                           Kind::ForeignAbove,
                           Kind::NoCurrent,
                           Kind::DuplicateService,
                           Kind::DuplicateInstance,
                           Kind::UnknownInstance,
                           Kind::RepeatedInstance};

/// A position in [0, n).
std::size_t pick(util::Random& rng, int n) {
  return static_cast<std::size_t>(rng.uniform_int(0, n - 1));
}

AllocationInput make(Kind kind, std::uint64_t seed) {
  bench::AllocatorScenarioShape shape{.services = 2'000, .instances = 200, .seed = seed};
  if (kind == Kind::Bench) shape = {.services = 10'000, .instances = 1'000, .seed = seed};
  if (kind == Kind::Small) shape = {.services = 1'000, .instances = 100, .seed = seed};
  auto in = bench::make_allocator_scenario(shape);
  util::Random rng(seed * 7919 + static_cast<std::uint64_t>(kind));
  auto scale_capacity = [&](int num, int den) {
    for (auto& i : in.instances) i.capacity.value = i.capacity.value * num / den;
  };
  switch (kind) {
    case Kind::Quarter:
      scale_capacity(1, 4);
      break;
    case Kind::Half:
      scale_capacity(1, 2);
      break;
    case Kind::Double:
      scale_capacity(2, 1);
      break;
    case Kind::Quadruple:
      scale_capacity(4, 1);
      break;
    case Kind::AllMins:
      for (auto& s : in.services) s.min = s.desired;
      break;
    case Kind::OneClassWeights:
      for (auto& s : in.services) {
        s.priority = 0;
        s.weight = static_cast<int>(rng.uniform_int(1, 50));
      }
      break;
    case Kind::ManyPriorities:
      for (auto& s : in.services) s.priority = static_cast<int>(rng.uniform_int(-8, 8));
      break;
    case Kind::ZeroDemand:
      for (auto& s : in.services) {
        if (rng.uniform_int(0, 2) == 0) s.desired.value = 0;
      }
      break;
    case Kind::ForeignAbove:
      for (auto& i : in.instances) {
        if (rng.uniform_int(0, 4) == 0) i.foreign.value = i.capacity.value + 5;
      }
      break;
    case Kind::NoCurrent:
      for (auto& s : in.services) s.current.clear();
      break;
    case Kind::DuplicateService:
      in.services[pick(rng, 2'000)].id = in.services[pick(rng, 2'000)].id;
      break;
    case Kind::DuplicateInstance:
      in.instances[pick(rng, 200)].id = in.instances[pick(rng, 200)].id;
      break;
    case Kind::UnknownInstance: {
      auto& s = in.services[pick(rng, 2'000)];
      s.instances.push_back(model::InstanceId{"nowhere"});
      auto& t = in.services[pick(rng, 2'000)];
      t.current.push_back(capacity::Placement{.instance = model::InstanceId{"gone"},
                                              .replicas = model::Replicas{1}});
      break;
    }
    case Kind::RepeatedInstance: {
      for (int n = 0; n < 3; ++n) {
        auto& s = in.services[pick(rng, 2'000)];
        s.instances.push_back(s.instances.front());
        auto& t = in.services[pick(rng, 2'000)];
        if (!t.current.empty()) t.current.push_back(t.current.front());
        auto& u = in.services[pick(rng, 2'000)];
        u.desired.value = -1;
      }
      break;
    }
    default:
      break;
  }
  if (seed % 2 == 0) {
    std::reverse(in.services.begin(), in.services.end());
    for (auto& s : in.services) std::reverse(s.instances.begin(), s.instances.end());
  }
  return in;
}

}  // namespace

int main() {
  // Seed-major, so every kind (invalid inputs included) is followed by others of other sizes:
  // the allocator reuses its buffers from call to call.
  std::FILE* out = stdout;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    for (const Kind kind : kKinds) {
      const std::uint64_t seeds = kind == Kind::Bench ? 16 : kind == Kind::Small ? 60 : 59;
      if (seed > seeds) continue;
      fmt::print(out, "== scenario {} seed {}\n", static_cast<int>(kind), seed);
      print(out, make(kind, seed));
    }
  }
}
