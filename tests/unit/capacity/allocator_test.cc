#include "qfscale/capacity/allocator.h"

#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/model/units.h"

namespace qfscale::capacity {
namespace {

using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;

InstanceSpec instance(std::string_view id, int capacity, int foreign = 0) {
  return InstanceSpec{
      .id = InstanceId{id}, .capacity = ComputeUnits{capacity}, .foreign = ComputeUnits{foreign}};
}

std::vector<Placement> at(std::initializer_list<std::pair<std::string_view, int>> list) {
  std::vector<Placement> out;
  for (const auto& [id, n] : list) {
    out.push_back(Placement{.instance = InstanceId{id}, .replicas = Replicas{n}});
  }
  return out;
}

std::string show(const Allocation& a) {
  std::string out;
  for (const auto& s : a.services) {
    out += fmt::format("{}\n", ServiceAllocationText{s, a.placements_of(s)});
  }
  for (const auto& i : a.instances) out += fmt::format("{}\n", i);
  return out;
}

const ServiceAllocation& service(const Allocation& a, std::string_view id) {
  for (const auto& s : a.services) {
    if (s.id.value == id) return s;
  }
  FAIL("no service " << std::string(id));
  return a.services.front();
}

/// The placements of service `id`, as a vector so tests can compare it with `at(...)`.
std::vector<Placement> placements(const Allocation& a, std::string_view id) {
  const auto found = a.placements_of(service(a, id));
  return {found.begin(), found.end()};
}

const InstanceUsage& usage(const Allocation& a, std::string_view id) {
  for (const auto& i : a.instances) {
    if (i.id.value == id) return i;
  }
  FAIL("no instance " << std::string(id));
  return a.instances.front();
}

Allocation run(const AllocationInput& input) {
  auto got = allocate(input);
  REQUIRE_MESSAGE(got.has_value(), (got ? std::string() : got.error().to_string()));
  return *got;
}

/// Expected outcome of one service: granted total, shortfall, placements.
struct Want {
  std::string_view id;
  int granted = 0;
  Shortfall shortfall = Shortfall::None;
  std::vector<Placement> placements;
};

void check_services(const AllocationInput& input, const Allocation& got,
                    const std::vector<Want>& wants) {
  CAPTURE(show(got));
  for (const auto& w : wants) {
    CAPTURE(w.id);
    const auto& s = service(got, w.id);
    int desired = 0;
    for (const auto& r : input.services) {
      if (r.id.value == w.id) desired = r.desired.value;
    }
    CHECK(s.granted == Replicas{w.granted});
    CHECK(s.unmet == Replicas{desired - w.granted});
    CHECK(s.shortfall == w.shortfall);
    if (!w.placements.empty() || w.granted == 0) CHECK(placements(got, w.id) == w.placements);
  }
}

TEST_SUITE("capacity") {
  TEST_CASE("allocator: the header's worked example") {
    // X 12 units. c (priority 2, 2 units, D=1) first: 2 units, 10 left. a (w=2) and b (w=1)
    // fill at 2 + 1 = 3 units per level: L = 10/3 -> a 6.67, b 3.33 -> floors 6 + 3 = 9 units,
    // 1 left; a 6/2 = 3 ties b 3/1 = 3, id a first -> a 7.
    const AllocationInput input{.services = {{.id = ServiceId{"a"},
                                              .desired = Replicas{10},
                                              .priority = 1,
                                              .weight = 2,
                                              .instances = {InstanceId{"x"}}},
                                             {.id = ServiceId{"b"},
                                              .desired = Replicas{10},
                                              .priority = 1,
                                              .instances = {InstanceId{"x"}}},
                                             {.id = ServiceId{"c"},
                                              .units_per_replica = ComputeUnits{2},
                                              .desired = Replicas{1},
                                              .priority = 2,
                                              .instances = {InstanceId{"x"}}}},
                                .instances = {instance("x", 12)}};
    const auto got = run(input);
    check_services(input, got,
                   {{.id = "a",
                     .granted = 7,
                     .shortfall = Shortfall::CappedCapacity,
                     .placements = at({{"x", 7}})},
                    {.id = "b", .granted = 3, .shortfall = Shortfall::CappedCapacity},
                    {.id = "c", .granted = 1}});
    CHECK(usage(got, "x") == InstanceUsage{.id = InstanceId{"x"},
                                           .capacity = ComputeUnits{12},
                                           .managed = ComputeUnits{12},
                                           .free = ComputeUnits{0}});
  }

  TEST_CASE("allocator: a shared instance under contention is served by priority") {
    struct Case {
      std::string_view name;
      int high_desired;  // priority 2
      int low_desired;   // priority 1
      int want_high;
      int want_low;
      Shortfall want_low_shortfall;
    };
    // X has 10 units; 1 unit per replica.
    const Case cases[] = {
        // 8 + 5 = 13 > 10: high keeps 8, low gets 10 - 8 = 2 (unmet 3).
        {.name = "contention",
         .high_desired = 8,
         .low_desired = 5,
         .want_high = 8,
         .want_low = 2,
         .want_low_shortfall = Shortfall::CappedCapacity},
        // 5 + 5 = 10: exactly fits, nobody capped.
        {.name = "exactly fits",
         .high_desired = 5,
         .low_desired = 5,
         .want_high = 5,
         .want_low = 5,
         .want_low_shortfall = Shortfall::None},
        // 6 + 5 = 11: one over, low gets 4.
        {.name = "one over",
         .high_desired = 6,
         .low_desired = 5,
         .want_high = 6,
         .want_low = 4,
         .want_low_shortfall = Shortfall::CappedCapacity},
        // high wants 12 > 10: high capped at 10, low gets 0.
        {.name = "high alone exceeds",
         .high_desired = 12,
         .low_desired = 5,
         .want_high = 10,
         .want_low = 0,
         .want_low_shortfall = Shortfall::CappedCapacity},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const AllocationInput input{.services = {{.id = ServiceId{"low"},
                                                .desired = Replicas{c.low_desired},
                                                .priority = 1,
                                                .instances = {InstanceId{"x"}}},
                                               {.id = ServiceId{"high"},
                                                .desired = Replicas{c.high_desired},
                                                .priority = 2,
                                                .instances = {InstanceId{"x"}}}},
                                  .instances = {instance("x", 10)}};
      const auto got = run(input);
      CAPTURE(show(got));
      CHECK(service(got, "high").granted == Replicas{c.want_high});
      CHECK(service(got, "low").granted == Replicas{c.want_low});
      CHECK(service(got, "low").shortfall == c.want_low_shortfall);
      CHECK(service(got, "low").unmet == Replicas{c.low_desired - c.want_low});
      CHECK(usage(got, "x").managed == ComputeUnits{c.want_high + c.want_low});
      CHECK(usage(got, "x").free == ComputeUnits{10 - c.want_high - c.want_low});
    }
  }

  TEST_CASE("allocator: one priority class shares by weight") {
    struct Case {
      std::string_view name;
      int capacity;
      int want_a;  // weight 2
      int want_b;  // weight 1
    };
    // Both want 10 replicas of 1 unit; together they take 2 + 1 = 3 units per level step.
    const Case cases[] = {
        // L = 9/3 = 3: a 2 x 3 = 6, b 1 x 3 = 3. Exact, nothing to top up.
        {.name = "9 units -> 6:3", .capacity = 9, .want_a = 6, .want_b = 3},
        // L = 10/3: a 6.67, b 3.33 -> 6 + 3, 1 left; a 6/2 = 3 ties b 3/1 = 3 -> id a.
        {.name = "10 units -> 7:3", .capacity = 10, .want_a = 7, .want_b = 3},
        // L = 8/3: a 5.33, b 2.67 -> 5 + 2, 1 left; b 2/1 = 2 < a 5/2 = 2.5 -> b.
        {.name = "8 units -> 5:3", .capacity = 8, .want_a = 5, .want_b = 3},
        // 20 units: both reach demand 10 (a at L = 5, b at L = 10); 0 left.
        {.name = "20 units -> 10:10", .capacity = 20, .want_a = 10, .want_b = 10},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const AllocationInput input{.services = {{.id = ServiceId{"a"},
                                                .desired = Replicas{10},
                                                .weight = 2,
                                                .instances = {InstanceId{"x"}}},
                                               {.id = ServiceId{"b"},
                                                .desired = Replicas{10},
                                                .weight = 1,
                                                .instances = {InstanceId{"x"}}}},
                                  .instances = {instance("x", c.capacity)}};
      const auto got = run(input);
      CAPTURE(show(got));
      CHECK(service(got, "a").granted == Replicas{c.want_a});
      CHECK(service(got, "b").granted == Replicas{c.want_b});
      CHECK(usage(got, "x").managed == ComputeUnits{c.want_a + c.want_b});
    }
  }

  TEST_CASE("allocator: demand below the fair share gives the rest to the others") {
    // X 12 units, equal weights. Fair share would be 12/3 = 4 each; a wants only 2 and stops at
    // L = 2 (6 units used). b and c share the other 6 at 2 units per step: L = 2 + 3 = 5.
    const AllocationInput input{
        .services =
            {{.id = ServiceId{"a"}, .desired = Replicas{2}, .instances = {InstanceId{"x"}}},
             {.id = ServiceId{"b"}, .desired = Replicas{10}, .instances = {InstanceId{"x"}}},
             {.id = ServiceId{"c"}, .desired = Replicas{10}, .instances = {InstanceId{"x"}}}},
        .instances = {instance("x", 12)}};
    const auto got = run(input);
    check_services(input, got,
                   {{.id = "a", .granted = 2},
                    {.id = "b", .granted = 5, .shortfall = Shortfall::CappedCapacity},
                    {.id = "c", .granted = 5, .shortfall = Shortfall::CappedCapacity}});
    CHECK(usage(got, "x").free == ComputeUnits{0});
  }

  TEST_CASE("allocator: a service spread over two instances keeps its replicas in place") {
    struct Case {
      std::string_view name;
      std::vector<Placement> current;
      int desired;
      int x_foreign;
      std::vector<Placement> want;
    };
    // s may use x then y (preference order), 10 units each, 1 unit per replica.
    const Case cases[] = {
        {.name = "new: fills the preferred instance",
         .current = {},
         .desired = 4,
         .x_foreign = 0,
         .want = at({{"x", 4}})},
        // x takes 10, the other 13 - 10 = 3 go to y.
        {.name = "new: spills to the next instance",
         .current = {},
         .desired = 13,
         .x_foreign = 0,
         .want = at({{"x", 10}, {"y", 3}})},
        {.name = "same total: nothing moves",
         .current = at({{"x", 2}, {"y", 3}}),
         .desired = 5,
         .x_foreign = 0,
         .want = at({{"x", 2}, {"y", 3}})},
        // keep x 2, keep y 3, then grow on x (preferred): x 2 + 2 = 4.
        {.name = "grows on the preferred instance",
         .current = at({{"x", 2}, {"y", 3}}),
         .desired = 7,
         .x_foreign = 0,
         .want = at({{"x", 4}, {"y", 3}})},
        // keep x 2 (preferred first), then 3 - 2 = 1 of y's 3.
        {.name = "shrinks from the less preferred",
         .current = at({{"x", 2}, {"y", 3}}),
         .desired = 3,
         .x_foreign = 0,
         .want = at({{"x", 2}, {"y", 1}})},
        {.name = "sticky on the less preferred",
         .current = at({{"y", 3}}),
         .desired = 3,
         .x_foreign = 0,
         .want = at({{"y", 3}})},
        // keep y 3, then grow on x: 5 - 3 = 2.
        {.name = "growth goes to the preferred",
         .current = at({{"y", 3}}),
         .desired = 5,
         .x_foreign = 0,
         .want = at({{"x", 2}, {"y", 3}})},
        // x now has 10 - 9 = 1 unit: keep x stops at 1; keep y 3; grow y by 5 - 1 - 3 = 1.
        {.name = "preferred shrank under it",
         .current = at({{"x", 2}, {"y", 3}}),
         .desired = 5,
         .x_foreign = 9,
         .want = at({{"x", 1}, {"y", 4}})},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const AllocationInput input{.services = {{.id = ServiceId{"s"},
                                                .desired = Replicas{c.desired},
                                                .instances = {InstanceId{"x"}, InstanceId{"y"}},
                                                .current = c.current}},
                                  .instances = {instance("x", 10, c.x_foreign), instance("y", 10)}};
      const auto got = run(input);
      CAPTURE(show(got));
      CHECK(placements(got, "s") == c.want);
      CHECK(service(got, "s").granted == Replicas{c.desired});
    }
  }

  TEST_CASE("allocator: services on instances that cannot fill sit next to contended ones") {
    // One class. x (20) and z (10) cannot fill: all that may go there is 5 + 4 = 9 < 20 and
    // 8 < 10 units. a, and e, which prefers x, are placed as if alone: e never pours into y. y (6)
    // is contended by b and c (and could take e's 4): b and c fill it at L = 6 / 2 = 3, then b
    // spills its other 5 to z (b runs through the event simulation).
    const AllocationInput input{
        .services = {{.id = ServiceId{"a"},
                      .desired = Replicas{5},
                      .instances = {InstanceId{"x"}},
                      .current = at({{"x", 2}})},
                     {.id = ServiceId{"b"},
                      .desired = Replicas{8},
                      .instances = {InstanceId{"y"}, InstanceId{"z"}}},
                     {.id = ServiceId{"c"}, .desired = Replicas{8}, .instances = {InstanceId{"y"}}},
                     {.id = ServiceId{"e"},
                      .desired = Replicas{4},
                      .instances = {InstanceId{"x"}, InstanceId{"y"}}}},
        .instances = {instance("x", 20), instance("y", 6), instance("z", 10)}};
    const auto got = run(input);
    check_services(input, got,
                   {{.id = "a", .granted = 5, .placements = at({{"x", 5}})},
                    {.id = "b", .granted = 8, .placements = at({{"y", 3}, {"z", 5}})},
                    {.id = "c",
                     .granted = 3,
                     .shortfall = Shortfall::CappedCapacity,
                     .placements = at({{"y", 3}})},
                    {.id = "e", .granted = 4, .placements = at({{"x", 4}})}});
    CHECK(usage(got, "x").free == ComputeUnits{11});
    CHECK(usage(got, "y").free == ComputeUnits{0});
    CHECK(usage(got, "z").free == ComputeUnits{5});
  }

  TEST_CASE("allocator: demand that exactly fills an instance is granted in full") {
    // 3 + 2 = 5 units on a 5-unit instance: not "cannot fill", so it goes through the event
    // simulation, where both reach demand as the instance fills.
    for (const int foreign : {0, 1}) {
      CAPTURE(foreign);
      const AllocationInput input{.services = {{.id = ServiceId{"a"},
                                                .desired = Replicas{3},
                                                .instances = {InstanceId{"x"}},
                                                .current = at({{"x", 1}})},
                                               {.id = ServiceId{"b"},
                                                .desired = Replicas{2},
                                                .instances = {InstanceId{"x"}}}},
                                  .instances = {instance("x", 5 + foreign, foreign)}};
      const auto got = run(input);
      check_services(input, got,
                     {{.id = "a", .granted = 3, .placements = at({{"x", 3}})},
                      {.id = "b", .granted = 2, .placements = at({{"x", 2}})}});
      CHECK(usage(got, "x").free == ComputeUnits{0});
    }
  }

  TEST_CASE("allocator: an instance not allowed any more is drained") {
    // s runs 2 on z, which is no longer in its list: all 2 go to x.
    const AllocationInput input{.services = {{.id = ServiceId{"s"},
                                              .desired = Replicas{2},
                                              .instances = {InstanceId{"x"}},
                                              .current = at({{"z", 2}})}},
                                .instances = {instance("x", 10), instance("z", 10)}};
    const auto got = run(input);
    CHECK(placements(got, "s") == at({{"x", 2}}));
    CHECK(usage(got, "z").managed == ComputeUnits{0});
  }

  TEST_CASE("allocator: capacity shrinking under services gives them less and reports it") {
    struct Case {
      std::string_view name;
      int foreign;
      int a_priority;
      int want_a;
      int want_b;
    };
    // X 10 units; a runs 4 and wants 4, b runs 6 and wants 6 (1 unit each).
    const Case cases[] = {
        {.name = "no foreign use: all fit",
         .foreign = 0,
         .a_priority = 0,
         .want_a = 4,
         .want_b = 6},
        // 10 - 4 = 6 left, equal weights: L = 6/2 = 3 -> 3 and 3.
        {.name = "foreign 4: equal share", .foreign = 4, .a_priority = 0, .want_a = 3, .want_b = 3},
        // a first: 4, b gets 6 - 4 = 2.
        {.name = "foreign 4: priority keeps a",
         .foreign = 4,
         .a_priority = 1,
         .want_a = 4,
         .want_b = 2},
        // 10 - 12 < 0: nothing fits; usage reports free 10 - 12 - 0 = -2.
        {.name = "foreign over capacity", .foreign = 12, .a_priority = 0, .want_a = 0, .want_b = 0},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const AllocationInput input{.services = {{.id = ServiceId{"a"},
                                                .desired = Replicas{4},
                                                .priority = c.a_priority,
                                                .instances = {InstanceId{"x"}},
                                                .current = at({{"x", 4}})},
                                               {.id = ServiceId{"b"},
                                                .desired = Replicas{6},
                                                .instances = {InstanceId{"x"}},
                                                .current = at({{"x", 6}})}},
                                  .instances = {instance("x", 10, c.foreign)}};
      const auto got = run(input);
      CAPTURE(show(got));
      CHECK(service(got, "a").granted == Replicas{c.want_a});
      CHECK(service(got, "b").granted == Replicas{c.want_b});
      CHECK(service(got, "a").unmet == Replicas{4 - c.want_a});
      CHECK(service(got, "b").unmet == Replicas{6 - c.want_b});
      CHECK(service(got, "b").shortfall ==
            (c.want_b < 6 ? Shortfall::CappedCapacity : Shortfall::None));
      CHECK(to_reason(service(got, "b").shortfall) ==
            (c.want_b < 6 ? model::Reason::CappedCapacity : model::Reason::None));
      const auto& x = usage(got, "x");
      CHECK(x.managed == ComputeUnits{c.want_a + c.want_b});
      CHECK(x.free == ComputeUnits{10 - c.foreign - c.want_a - c.want_b});
    }
  }

  TEST_CASE("allocator: a min that cannot be met is reported and does not starve others") {
    // X 10 units, 1 unit each. Mins in order a (priority 2), b, c (priority 1, by id).
    // a's min 12 > 10: reserves nothing, MinNotMet. b reserves 3, c reserves 2: 5 left.
    // Class 2: a takes the 5 left. Class 1: nothing left, b stays at its min 3.
    const AllocationInput input{.services = {{.id = ServiceId{"a"},
                                              .desired = Replicas{12},
                                              .min = Replicas{12},
                                              .priority = 2,
                                              .instances = {InstanceId{"x"}}},
                                             {.id = ServiceId{"b"},
                                              .desired = Replicas{5},
                                              .min = Replicas{3},
                                              .priority = 1,
                                              .instances = {InstanceId{"x"}}},
                                             {.id = ServiceId{"c"},
                                              .desired = Replicas{2},
                                              .min = Replicas{2},
                                              .priority = 1,
                                              .instances = {InstanceId{"x"}}}},
                                .instances = {instance("x", 10)}};
    const auto got = run(input);
    check_services(input, got,
                   {{.id = "a", .granted = 5, .shortfall = Shortfall::MinNotMet},
                    {.id = "b", .granted = 3, .shortfall = Shortfall::CappedCapacity},
                    {.id = "c", .granted = 2}});
    CHECK(to_reason(Shortfall::MinNotMet) == model::Reason::CappedCapacity);
    CHECK(to_string(Shortfall::MinNotMet) == "min_not_met");

    SUBCASE("a min that exactly fits is reserved first") {
      // a's min 10 = 10 units: reserved; b's 3 and c's 2 find 0 units: both MinNotMet.
      auto in2 = input;
      in2.services[0].min = Replicas{10};
      const auto got2 = run(in2);
      check_services(in2, got2,
                     {{.id = "a", .granted = 10, .shortfall = Shortfall::CappedCapacity},
                      {.id = "b", .granted = 0, .shortfall = Shortfall::MinNotMet},
                      {.id = "c", .granted = 0, .shortfall = Shortfall::MinNotMet}});
    }
    SUBCASE("a min above desired reserves only desired") {
      // c: min 4, desired 2 -> reserves min(4, 2) = 2 and is not short.
      auto in3 = input;
      in3.services[2].min = Replicas{4};
      const auto got3 = run(in3);
      check_services(in3, got3, {{.id = "c", .granted = 2}});
    }
  }

  TEST_CASE("allocator: 2- and 4-unit replicas on one instance leave no usable units") {
    struct Case {
      std::string_view name;
      int capacity;
      int want_a;  // 2 units per replica (GPU-I-2)
      int want_b;  // 4 units per replica (GPU-I-4)
      int want_free;
    };
    // Equal weights, both want 10: together 2 + 4 = 6 units per level step.
    const Case cases[] = {
        // L = 10/6: a 1.67, b 1.67 -> 1 + 1 = 6 units, 4 left. Tie at 1 -> a (+2 units, 2 left);
        // b (1) needs 4 > 2, out; a (2) needs 2 -> a 3. 3 x 2 + 1 x 4 = 10, 0 free.
        {.name = "10 units", .capacity = 10, .want_a = 3, .want_b = 1, .want_free = 0},
        // L = 9/6 = 1.5 -> 1 + 1 = 6 units, 3 left; a +1 (1 left); nothing fits 1 unit.
        {.name = "9 units: 1 unusable", .capacity = 9, .want_a = 2, .want_b = 1, .want_free = 1},
        // L = 12/6 = 2 exactly: 2 x 2 + 2 x 4 = 12.
        {.name = "12 units", .capacity = 12, .want_a = 2, .want_b = 2, .want_free = 0},
        // L = 14/6: 2.33 each -> 2 + 2 = 12 units, 2 left; tie at 2 -> a: 3 x 2 + 2 x 4 = 14.
        {.name = "14 units", .capacity = 14, .want_a = 3, .want_b = 2, .want_free = 0},
        // 3 units: L = 0.5 -> 0 + 0; a fits (1 left), b does not.
        {.name = "3 units", .capacity = 3, .want_a = 1, .want_b = 0, .want_free = 1},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const AllocationInput input{
          .services = {{.id = ServiceId{"a"},
                        .units_per_replica = *model::units_per_replica("GPU-I-2"),
                        .desired = Replicas{10},
                        .instances = {InstanceId{"x"}}},
                       {.id = ServiceId{"b"},
                        .units_per_replica = *model::units_per_replica("GPU-I-4"),
                        .desired = Replicas{10},
                        .instances = {InstanceId{"x"}}}},
          .instances = {instance("x", c.capacity)}};
      const auto got = run(input);
      CAPTURE(show(got));
      CHECK(service(got, "a").granted == Replicas{c.want_a});
      CHECK(service(got, "b").granted == Replicas{c.want_b});
      CHECK(usage(got, "x").managed == ComputeUnits{2 * c.want_a + 4 * c.want_b});
      CHECK(usage(got, "x").free == ComputeUnits{c.want_free});
    }
  }

  TEST_CASE("allocator: placement follows preference, then spills (greedy, not max-flow)") {
    // a only on x (4 units); b on x then y (10 units). Both pour into x at 1 + 1 = 2 units per
    // step: x fills at L = 4/2 = 2 -> a 2, b 2. a has nowhere else: capped (unmet 6 - 2 = 4).
    // b moves on to y and reaches 6 at L = 6: 6 - 2 = 4 on y. A max-flow placement would have
    // moved b off x entirely (a 4); the allocator honours b's preference instead (documented).
    const AllocationInput input{
        .services = {{.id = ServiceId{"a"}, .desired = Replicas{6}, .instances = {InstanceId{"x"}}},
                     {.id = ServiceId{"b"},
                      .desired = Replicas{6},
                      .instances = {InstanceId{"x"}, InstanceId{"y"}}}},
        .instances = {instance("x", 4), instance("y", 10)}};
    const auto got = run(input);
    check_services(input, got,
                   {{.id = "a", .granted = 2, .shortfall = Shortfall::CappedCapacity},
                    {.id = "b", .granted = 6, .placements = at({{"x", 2}, {"y", 4}})}});
  }

  TEST_CASE("allocator: a service joining exactly when an instance fills does not overfill it") {
    // X 4 units. Mins: b reserves 1 (1 unit), 3 left. a (2 units, w=3) pours at 3 x 2 = 6 units
    // per level step: X is full at L = 3/6 = 0.5, a holds 1.5. b (w=2, holds 1) joins at
    // L = 1/2 = 0.5, the same level, and finds X full. Floors: a 1 (2 units), 1 unit left.
    // Top-up: a 1/3 < b 1/2 but a needs 2 > 1; b takes it -> b 2. 2 + 2 = 4 units.
    const AllocationInput input{.services = {{.id = ServiceId{"a"},
                                              .units_per_replica = ComputeUnits{2},
                                              .desired = Replicas{9},
                                              .weight = 3,
                                              .instances = {InstanceId{"x"}},
                                              .current = at({{"x", 2}})},
                                             {.id = ServiceId{"b"},
                                              .desired = Replicas{5},
                                              .min = Replicas{1},
                                              .weight = 2,
                                              .instances = {InstanceId{"x"}}}},
                                .instances = {instance("x", 4)}};
    const auto got = run(input);
    check_services(input, got,
                   {{.id = "a", .granted = 1, .shortfall = Shortfall::CappedCapacity},
                    {.id = "b", .granted = 2, .shortfall = Shortfall::CappedCapacity}});
    CHECK(usage(got, "x").free == ComputeUnits{0});
  }

  TEST_CASE("allocator: many priority classes are served strictly in order") {
    // 100 services, priorities 0..99, each wants 1 replica of 1 unit; X has 50 units: priorities
    // 50..99 get 1 each (50 units), 0..49 get nothing.
    AllocationInput input{.instances = {instance("x", 50)}};
    for (int p = 0; p < 100; ++p) {
      input.services.push_back(ServiceRequest{.id = ServiceId{fmt::format("s{:03}", p)},
                                              .desired = Replicas{1},
                                              .priority = p,
                                              .instances = {InstanceId{"x"}}});
    }
    const auto got = run(input);
    for (int p = 0; p < 100; ++p) {
      CAPTURE(p);
      CHECK(got.services[static_cast<std::size_t>(p)].granted == Replicas{p >= 50 ? 1 : 0});
    }
    CHECK(usage(got, "x").free == ComputeUnits{0});
  }

  TEST_CASE("allocator: bad input is refused with every problem named") {
    const AllocationInput input{
        .services = {{.id = ServiceId{"a"},
                      .units_per_replica = ComputeUnits{0},
                      .instances = {InstanceId{"nope"}}},
                     {.id = ServiceId{"a"}, .weight = 0},
                     {.id = ServiceId{"b"},
                      .instances = {InstanceId{"x"}, InstanceId{"x"}},
                      .current = at({{"ghost", 1}})},
                     {.id = ServiceId{"b"}, .priority = 5}},  // same id, other priority class
        .instances = {instance("x", 10), instance("x", 10), instance("y", -1)}};
    const auto got = allocate(input);
    REQUIRE_FALSE(got.has_value());
    const auto message = got.error().to_string();
    CAPTURE(message);
    CHECK(got.error().code == ErrorCode::InvalidInput);
    CHECK(message.find("duplicate id x") != std::string::npos);
    CHECK(message.find("duplicate id a") != std::string::npos);
    CHECK(message.find("duplicate id b") != std::string::npos);
    CHECK(message.find("instance nope is not known") != std::string::npos);
    CHECK(message.find("instance x listed twice") != std::string::npos);
    CHECK(message.find("current instance ghost is not known") != std::string::npos);
    CHECK(message.find("capacity -1") != std::string::npos);
  }

  TEST_CASE("allocator: empty input allocates nothing") {
    const auto got = run(AllocationInput{});
    CHECK(got == Allocation{});
  }
}

}  // namespace
}  // namespace qfscale::capacity
