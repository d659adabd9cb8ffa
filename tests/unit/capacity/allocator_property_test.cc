#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/capacity/plan.h"
#include "qfscale/util/random.h"

namespace qfscale::capacity {
namespace {

using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;

struct Shape {
  int services = 0;
  int instances = 0;
  int max_allowed = 1;  ///< instances per service, 1..max_allowed
  int max_desired = 10;
  int max_capacity = 40;
  bool current_fits = true;  ///< generate current counts that fit before foreign use grows
};

/// Random services over shared instances. Current counts are placed so that they fit the
/// instances with the *previous* foreign use; foreign use may then grow (capacity shrinks).
AllocationInput generate(util::Random& rng, const Shape& shape) {
  AllocationInput in;
  std::vector<int> left;
  for (int i = 0; i < shape.instances; ++i) {
    const int capacity = static_cast<int>(rng.uniform_int(0, shape.max_capacity));
    const int foreign = static_cast<int>(rng.uniform_int(0, capacity / 4));
    in.instances.push_back(InstanceSpec{.id = InstanceId{fmt::format("unit-{:03}", i)},
                                        .capacity = ComputeUnits{capacity},
                                        .foreign = ComputeUnits{foreign}});
    left.push_back(capacity - foreign);
  }
  for (int s = 0; s < shape.services; ++s) {
    ServiceRequest r;
    r.id = ServiceId{fmt::format("svco-{:04}", s)};
    const int units_choices[] = {1, 2, 4};
    r.units_per_replica = ComputeUnits{units_choices[rng.uniform_int(0, 2)]};
    r.desired = Replicas{static_cast<int>(rng.uniform_int(0, shape.max_desired))};
    r.min = Replicas{static_cast<int>(rng.uniform_int(0, 3))};
    r.priority = static_cast<int>(rng.uniform_int(0, 2));
    r.weight = static_cast<int>(rng.uniform_int(1, 3));
    const int allowed = static_cast<int>(rng.uniform_int(1, shape.max_allowed));
    for (int k = 0; k < allowed; ++k) {
      const auto i = static_cast<std::size_t>(rng.uniform_int(0, shape.instances - 1));
      InstanceId id = in.instances[i].id;
      if (std::find(r.instances.begin(), r.instances.end(), id) != r.instances.end()) continue;
      r.instances.push_back(id);
      if (shape.current_fits) {
        const int fit = std::max(0, left[i]) / r.units_per_replica.value;
        const int n = static_cast<int>(rng.uniform_int(0, std::min(fit, 5)));
        if (n > 0) {
          r.current.push_back(Placement{.instance = id, .replicas = Replicas{n}});
          left[i] -= n * r.units_per_replica.value;
        }
      }
    }
    in.services.push_back(std::move(r));
  }
  // Capacity shrinks on some instances: foreign use grows after current was placed.
  for (auto& inst : in.instances) {
    if (rng.uniform01() < 0.2) inst.foreign.value += static_cast<int>(rng.uniform_int(0, 6));
  }
  return in;
}

/// Checks every invariant of one allocation against its input, recomputed independently.
void check_invariants(const AllocationInput& in, const Allocation& out) {
  REQUIRE(out.services.size() == in.services.size());
  REQUIRE(out.instances.size() == in.instances.size());
  std::map<std::string, int> usable;
  std::map<std::string, int> used;
  for (const auto& i : in.instances) {
    usable[i.id.value] = std::max(0, i.capacity.value - i.foreign.value);
    used[i.id.value] = 0;
  }
  for (std::size_t k = 0; k < in.services.size(); ++k) {
    const auto& req = in.services[k];
    const auto& got = out.services[k];
    CAPTURE(fmt::format("{}", ServiceAllocationText{got, out.placements_of(got)}));
    CHECK(got.id == req.id);
    int sum = 0;
    for (const auto& p : out.placements_of(got)) {
      CHECK(p.replicas.value > 0);
      CHECK(std::find(req.instances.begin(), req.instances.end(), p.instance) !=
            req.instances.end());
      sum += p.replicas.value;
      used[p.instance.value] += p.replicas.value * req.units_per_replica.value;
    }
    CHECK(sum == got.granted.value);
    CHECK(got.granted <= req.desired);  // never more than desired
    CHECK(got.unmet == req.desired - got.granted);
    const int floor = std::min(req.min.value, req.desired.value);
    CHECK((got.shortfall == Shortfall::MinNotMet) == (got.granted.value < floor));
    CHECK((got.shortfall == Shortfall::None) == (got.granted == req.desired));
    // No units left unused when avoidable: a service short of desired finds fewer than one
    // replica's units free on every instance it may use.
    if (got.unmet.value > 0) {
      for (const auto& id : req.instances) {
        for (const auto& u : out.instances) {
          if (u.id == id) CHECK(u.free < req.units_per_replica);
        }
      }
    }
  }
  for (const auto& u : out.instances) {
    CAPTURE(fmt::format("{}", u));
    CHECK(used[u.id.value] <= usable[u.id.value]);  // never over capacity
    CHECK(u.managed.value == used[u.id.value]);
    CHECK(u.free == u.capacity - u.foreign - u.managed);
  }
}

/// Replays the plan: downs first, every up leaves its instance within capacity, and when the
/// start fits, every prefix fits.
void check_plan(const AllocationInput& in, const Allocation& out, const Plan& plan) {
  std::map<std::string, std::int64_t> used;
  std::map<std::string, int> capacity;
  std::map<std::pair<std::string, std::string>, int> count;
  std::map<std::string, int> units;
  for (const auto& i : in.instances) {
    used[i.id.value] = i.foreign.value;
    capacity[i.id.value] = i.capacity.value;
  }
  for (const auto& s : in.services) {
    units[s.id.value] = s.units_per_replica.value;
    for (const auto& p : s.current) {
      count[{s.id.value, p.instance.value}] = p.replicas.value;
      used[p.instance.value] += p.replicas.value * s.units_per_replica.value;
    }
  }
  std::map<std::string, bool> fit_at_start;
  for (const auto& [id, u] : used) fit_at_start[id] = u <= capacity[id];
  for (std::size_t n = 0; n < plan.steps.size(); ++n) {
    const auto& st = plan.steps[n];
    CAPTURE(fmt::format("{}", st));
    CHECK((n < plan.downs) == (st.to < st.from));  // all downs, then all ups
    auto& c = count[{st.service.value, st.instance.value}];
    CHECK(c == st.from.value);
    used[st.instance.value] += std::int64_t{st.to.value - c} * units[st.service.value];
    c = st.to.value;
    if (st.to > st.from || fit_at_start[st.instance.value]) {
      CHECK(used[st.instance.value] <= capacity[st.instance.value]);
    }
  }
  // The plan ends exactly at the allocation.
  for (std::size_t k = 0; k < in.services.size(); ++k) {
    std::map<std::string, int> want;
    for (const auto& p : out.placements_of(out.services[k]))
      want[p.instance.value] = p.replicas.value;
    for (const auto& [key, n] : count) {
      if (key.first != in.services[k].id.value) continue;
      CHECK(n == (want.count(key.second) ? want[key.second] : 0));
    }
    for (const auto& [inst, n] : want) CHECK(count[{in.services[k].id.value, inst}] == n);
  }
}

TEST_SUITE("capacity") {
  TEST_CASE("allocator property: random shared instances never go over capacity") {
    const Shape shapes[] = {
        {.services = 6, .instances = 1, .max_allowed = 1, .max_desired = 12, .max_capacity = 30},
        {.services = 20, .instances = 4, .max_allowed = 3, .max_desired = 10, .max_capacity = 30},
        {.services = 60, .instances = 10, .max_allowed = 3, .max_desired = 20, .max_capacity = 60},
        {.services = 30, .instances = 30, .max_allowed = 2, .max_desired = 5, .max_capacity = 8},
    };
    for (std::size_t shape = 0; shape < std::size(shapes); ++shape) {
      for (std::uint64_t seed = 1; seed <= 150; ++seed) {
        CAPTURE(shape);
        CAPTURE(seed);
        util::Random rng(seed * 7919 + shape);
        const auto in = generate(rng, shapes[shape]);
        const auto out = allocate(in);
        REQUIRE(out.has_value());
        check_invariants(in, *out);
        const auto plan = plan_calls(in, *out);
        REQUIRE_MESSAGE(plan.has_value(), (plan ? std::string() : plan.error().to_string()));
        check_plan(in, *out, *plan);
      }
    }
  }

  TEST_CASE("allocator property: the answer is deterministic and ignores input order") {
    const Shape shape{
        .services = 40, .instances = 6, .max_allowed = 3, .max_desired = 15, .max_capacity = 50};
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
      CAPTURE(seed);
      util::Random rng(seed);
      const auto in = generate(rng, shape);
      const auto first = allocate(in);
      const auto again = allocate(in);
      REQUIRE(first.has_value());
      REQUIRE(again.has_value());
      CHECK(*first == *again);

      auto shuffled = in;
      std::shuffle(shuffled.services.begin(), shuffled.services.end(), rng.engine());
      const auto other = allocate(shuffled);
      REQUIRE(other.has_value());
      CHECK(other->instances == first->instances);
      for (const auto& s : other->services) {
        const auto it = std::find_if(first->services.begin(), first->services.end(),
                                     [&](const ServiceAllocation& f) { return f.id == s.id; });
        REQUIRE(it != first->services.end());
        // Every field and the placements; where the placements are differs with the input order.
        CHECK(fmt::format("{}", ServiceAllocationText{*it, first->placements_of(*it)}) ==
              fmt::format("{}", ServiceAllocationText{s, other->placements_of(s)}));
      }
    }
  }

  TEST_CASE("allocator property: mins are honoured whenever they all fit") {
    // One instance per service: if the mins on every instance fit its usable units, every
    // service gets at least min(min, desired).
    const Shape shape{
        .services = 20, .instances = 5, .max_allowed = 1, .max_desired = 8, .max_capacity = 80};
    int trials_with_all_mins_feasible = 0;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
      CAPTURE(seed);
      util::Random rng(seed + 100'000);
      const auto in = generate(rng, shape);
      std::map<std::string, int> min_units;
      for (const auto& s : in.services) {
        min_units[s.instances.front().value] +=
            std::min(s.min.value, s.desired.value) * s.units_per_replica.value;
      }
      bool feasible = true;
      for (const auto& i : in.instances) {
        feasible = feasible && min_units[i.id.value] <= i.capacity.value - i.foreign.value;
      }
      if (!feasible) continue;
      ++trials_with_all_mins_feasible;
      const auto out = allocate(in);
      REQUIRE(out.has_value());
      for (std::size_t k = 0; k < in.services.size(); ++k) {
        CHECK(out->services[k].granted.value >=
              std::min(in.services[k].min.value, in.services[k].desired.value));
        CHECK(out->services[k].shortfall != Shortfall::MinNotMet);
      }
    }
    MESSAGE("trials with all mins feasible: " << trials_with_all_mins_feasible);
    CHECK(trials_with_all_mins_feasible >= 50);  // the property was exercised
  }

  TEST_CASE("allocator property: one class on one instance is max-min fair within a replica") {
    // 1 unit per replica, one priority, no mins: for a service a short of desired and any b,
    // b is at most one replica per weight above a: (total_b - 1) / w_b <= (total_a + 1) / w_a.
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
      CAPTURE(seed);
      util::Random rng(seed + 200'000);
      AllocationInput in{
          .instances = {{.id = InstanceId{"x"},
                         .capacity = ComputeUnits{static_cast<int>(rng.uniform_int(0, 60))}}}};
      const int n = static_cast<int>(rng.uniform_int(1, 8));
      for (int s = 0; s < n; ++s) {
        in.services.push_back(
            ServiceRequest{.id = ServiceId{fmt::format("s{}", s)},
                           .desired = Replicas{static_cast<int>(rng.uniform_int(0, 20))},
                           .weight = static_cast<int>(rng.uniform_int(1, 4)),
                           .instances = {InstanceId{"x"}}});
      }
      const auto out = allocate(in);
      REQUIRE(out.has_value());
      for (std::size_t a = 0; a < in.services.size(); ++a) {
        if (out->services[a].unmet.value == 0) continue;
        for (std::size_t b = 0; b < in.services.size(); ++b) {
          const int ta = out->services[a].granted.value;
          const int tb = out->services[b].granted.value;
          const int wa = in.services[a].weight;
          const int wb = in.services[b].weight;
          CAPTURE(fmt::format("a {} w{}, b {} w{}", ta, wa, tb, wb));
          CHECK((tb - 1) * wa <= (ta + 1) * wb);
        }
      }
      CHECK(out->instances[0].free.value >= 0);
    }
  }
}

}  // namespace
}  // namespace qfscale::capacity
