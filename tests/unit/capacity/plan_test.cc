#include "qfscale/capacity/plan.h"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace qfscale::capacity {
namespace {

using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;

std::vector<Placement> at(std::initializer_list<std::pair<std::string_view, int>> list) {
  std::vector<Placement> out;
  for (const auto& [id, n] : list) {
    out.push_back(Placement{.instance = InstanceId{id}, .replicas = Replicas{n}});
  }
  return out;
}

ScaleStep step(std::string_view service, std::string_view inst, int from, int to) {
  return ScaleStep{.service = ServiceId{service},
                   .instance = InstanceId{inst},
                   .from = Replicas{from},
                   .to = Replicas{to}};
}

/// Units used on each instance after each prefix of the plan (foreign included), replayed
/// independently of the planner.
std::vector<std::map<std::string, int>> replay(const std::vector<InstanceSpec>& instances,
                                               const std::vector<ServiceChange>& services,
                                               const Plan& plan) {
  std::map<std::string, int> used;
  std::map<std::pair<std::string, std::string>, int> count;
  std::map<std::string, int> units;
  for (const auto& i : instances) used[i.id.value] = i.foreign.value;
  for (const auto& s : services) {
    units[s.id.value] = s.units_per_replica.value;
    for (const auto& p : s.current) {
      count[{s.id.value, p.instance.value}] = p.replicas.value;
      used[p.instance.value] += p.replicas.value * s.units_per_replica.value;
    }
  }
  std::vector<std::map<std::string, int>> out{used};
  for (const auto& st : plan.steps) {
    auto& n = count[{st.service.value, st.instance.value}];
    CHECK(n == st.from.value);
    used[st.instance.value] += (st.to.value - n) * units[st.service.value];
    n = st.to.value;
    out.push_back(used);
  }
  return out;
}

TEST_SUITE("capacity") {
  TEST_CASE("plan: scale-downs come first so the ups find their units") {
    // X 10 units. a 6 -> 2, b 4 -> 8. Start 6 + 4 = 10. After a's down: 2 + 4 = 6; after b's up:
    // 2 + 8 = 10 <= 10. Ups first would pass through 6 + 8 = 14 > 10.
    const std::vector<InstanceSpec> instances{
        {.id = InstanceId{"x"}, .capacity = ComputeUnits{10}}};
    const std::vector<ServiceChange> services{
        {.id = ServiceId{"b"}, .current = at({{"x", 4}}), .target = at({{"x", 8}})},
        {.id = ServiceId{"a"}, .current = at({{"x", 6}}), .target = at({{"x", 2}})}};
    const auto plan = plan_calls(instances, services);
    REQUIRE(plan.has_value());
    CHECK(plan->steps == std::vector{step("a", "x", 6, 2), step("b", "x", 4, 8)});
    CHECK(plan->downs == 1);
    const auto used = replay(instances, services, *plan);
    CHECK(used == std::vector<std::map<std::string, int>>{{{"x", 10}}, {{"x", 6}}, {{"x", 10}}});
  }

  TEST_CASE("plan: moving a service between instances removes it first") {
    // s leaves y (3 -> 0 removes y from the service) and goes to x (0 -> 3), 2 units each.
    // x: 8 units, foreign 2: 2 + 3 x 2 = 8 <= 8 after the move.
    const std::vector<InstanceSpec> instances{
        {.id = InstanceId{"x"}, .capacity = ComputeUnits{8}, .foreign = ComputeUnits{2}},
        {.id = InstanceId{"y"}, .capacity = ComputeUnits{6}}};
    const std::vector<ServiceChange> services{{.id = ServiceId{"s"},
                                               .units_per_replica = ComputeUnits{2},
                                               .current = at({{"y", 3}}),
                                               .target = at({{"x", 3}})}};
    const auto plan = plan_calls(instances, services);
    REQUIRE(plan.has_value());
    CHECK(plan->steps == std::vector{step("s", "y", 3, 0), step("s", "x", 0, 3)});
    const auto used = replay(instances, services, *plan);
    CHECK(used.back() == std::map<std::string, int>{{"x", 8}, {"y", 0}});
  }

  TEST_CASE("plan: unchanged counts make no calls") {
    const std::vector<InstanceSpec> instances{
        {.id = InstanceId{"x"}, .capacity = ComputeUnits{10}}};
    const std::vector<ServiceChange> services{
        {.id = ServiceId{"s"}, .current = at({{"x", 4}}), .target = at({{"x", 4}})}};
    const auto plan = plan_calls(instances, services);
    REQUIRE(plan.has_value());
    CHECK(plan->steps.empty());
  }

  TEST_CASE("plan: an instance already over capacity only goes down") {
    // Foreign use grew to 6 on a 10-unit x holding 6 of ours: 12 > 10 before the plan.
    // s 6 -> 4: 6 + 4 = 10. The down is allowed (it lowers usage); no up is needed.
    const std::vector<InstanceSpec> instances{
        {.id = InstanceId{"x"}, .capacity = ComputeUnits{10}, .foreign = ComputeUnits{6}}};
    const std::vector<ServiceChange> services{
        {.id = ServiceId{"s"}, .current = at({{"x", 6}}), .target = at({{"x", 4}})}};
    const auto plan = plan_calls(instances, services);
    REQUIRE(plan.has_value());
    CHECK(plan->steps == std::vector{step("s", "x", 6, 4)});
  }

  TEST_CASE("plan: a target that does not fit is refused, not planned") {
    struct Case {
      std::string_view name;
      int target_b;
      bool fits;
    };
    // X 10 units, a 4 -> 4, b 2 -> target: 4 + 6 = 10 fits, 4 + 7 = 11 does not.
    const Case cases[] = {
        {.name = "at capacity", .target_b = 6, .fits = true},
        {.name = "one over", .target_b = 7, .fits = false},
        {.name = "below", .target_b = 5, .fits = true},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const std::vector<InstanceSpec> instances{
          {.id = InstanceId{"x"}, .capacity = ComputeUnits{10}}};
      const std::vector<ServiceChange> services{
          {.id = ServiceId{"a"}, .current = at({{"x", 4}}), .target = at({{"x", 4}})},
          {.id = ServiceId{"b"}, .current = at({{"x", 2}}), .target = at({{"x", c.target_b}})}};
      const auto plan = plan_calls(instances, services);
      CHECK(plan.has_value() == c.fits);
      if (!plan) {
        CHECK(plan.error().code == ErrorCode::InvalidInput);
        CHECK(plan.error().message.find("needs 5 compute units, 4 left") != std::string::npos);
      }
    }
  }

  TEST_CASE("plan: unknown instances and duplicates are refused") {
    const std::vector<InstanceSpec> instances{
        {.id = InstanceId{"x"}, .capacity = ComputeUnits{10}}};
    const std::vector<ServiceChange> unknown{
        {.id = ServiceId{"s"}, .current = at({{"q", 1}}), .target = {}}};
    CHECK_FALSE(plan_calls(instances, unknown).has_value());
    const std::vector<ServiceChange> twice{
        {.id = ServiceId{"s"}, .current = {}, .target = at({{"x", 1}, {"x", 2}})}};
    CHECK_FALSE(plan_calls(instances, twice).has_value());
  }

  TEST_CASE("plan: from an allocation, shrinking capacity downs before ups") {
    // X 10 units, foreign grew 0 -> 2. a (priority 1) runs 2 and wants 5; b runs 8 and wants 8.
    // a first: 5; b gets 10 - 2 - 5 = 3. Plan: b 8 -> 3 (2 + 2 + 3 = 7), then a 2 -> 5 (10).
    const AllocationInput input{
        .services = {{.id = ServiceId{"a"},
                      .desired = Replicas{5},
                      .priority = 1,
                      .instances = {InstanceId{"x"}},
                      .current = at({{"x", 2}})},
                     {.id = ServiceId{"b"},
                      .desired = Replicas{8},
                      .instances = {InstanceId{"x"}},
                      .current = at({{"x", 8}})}},
        .instances = {
            {.id = InstanceId{"x"}, .capacity = ComputeUnits{10}, .foreign = ComputeUnits{2}}}};
    const auto allocation = allocate(input);
    REQUIRE(allocation.has_value());
    const auto plan = plan_calls(input, *allocation);
    REQUIRE(plan.has_value());
    CHECK(plan->steps == std::vector{step("b", "x", 8, 3), step("a", "x", 2, 5)});
    CHECK(plan->downs == 1);
  }
}

}  // namespace
}  // namespace qfscale::capacity
