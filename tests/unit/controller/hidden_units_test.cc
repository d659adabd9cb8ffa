// Units no reply shows, learned from ScaleService refusals (src/controller/hidden_units.h), on
// their own and through the controller with an API that sends no availableComputeUnitCount.

#include "controller/hidden_units.h"

#include <doctest/doctest.h>

#include "fixture.h"

namespace qfscale::controller::test {
namespace {

using detail::HiddenUnits;
using detail::HiddenUnitsMemory;
using detail::RefusedUp;
using model::ComputeUnits;

/// Every ScaleService call the API refused, over every tick the sink heard of.
int refusals(const RecordingSink& sink) {
  int n = 0;
  for (const auto& tick : sink.ticks) {
    for (const auto& s : tick.services) {
      for (const auto& call : s.decision.calls) n += call.outcome == ActuationOutcome::Refused;
    }
  }
  return n;
}

TEST_SUITE("controller") {
  TEST_CASE("hidden units: a refusal proves more than what was left free, once per instance") {
    // The header's worked example: nothing counted yet, free_after 0 -> 1 unit; a second refusal
    // there the same tick proves nothing more; unit-c: 2 counted + free_after 2 + 1 = 5.
    const ComputeUnits zero{};
    const std::vector<RefusedUp> refused = {{.instance = InstanceId{"unit-b"},
                                             .free_after = zero,
                                             .counted = zero,
                                             .foreign_seen = zero},
                                            {.instance = InstanceId{"unit-b"},
                                             .free_after = zero,
                                             .counted = zero,
                                             .foreign_seen = zero},
                                            {.instance = InstanceId{"unit-c"},
                                             .free_after = ComputeUnits{2},
                                             .counted = ComputeUnits{2},
                                             .foreign_seen = ComputeUnits{4}}};
    auto memory = detail::learn({}, refused, kT0);
    CHECK(memory ==
          HiddenUnitsMemory{{InstanceId{"unit-b"}, {ComputeUnits{1}, zero, kT0}},
                            {InstanceId{"unit-c"}, {ComputeUnits{5}, ComputeUnits{4}, kT0}}});
    // Refused again a tick later, 1 counted and 1 left free: 1 + 1 + 1, and the clock restarts.
    const std::vector<RefusedUp> again = {{.instance = InstanceId{"unit-b"},
                                           .free_after = ComputeUnits{1},
                                           .counted = ComputeUnits{1},
                                           .foreign_seen = zero}};
    memory = detail::learn(std::move(memory), again, kT0 + 15s);
    CHECK(memory.at(InstanceId{"unit-b"}) == HiddenUnits{ComputeUnits{3}, zero, kT0 + 15s});
    // Forgotten 10 minutes after it last grew: unit-c at kT0 + 10 min, unit-b 15 s later.
    memory = detail::recall(std::move(memory), kT0 + 10min);
    CHECK(memory.size() == 1);
    CHECK(memory.contains(InstanceId{"unit-b"}));
    CHECK(detail::recall(std::move(memory), kT0 + 10min + 15s).empty());
  }

  TEST_CASE("hidden units: counted only in free room, and not twice once they show") {
    const HiddenUnits remembered{.units = ComputeUnits{21}, .foreign_seen = ComputeUnits{0}};
    // Still unseen, room 30: all 21.
    CHECK(detail::counted(remembered, ComputeUnits{0}, ComputeUnits{30}) == ComputeUnits{21});
    // Room 5 (the managed services run the rest): 5, never a reason to shrink them.
    CHECK(detail::counted(remembered, ComputeUnits{0}, ComputeUnits{5}) == ComputeUnits{5});
    CHECK(detail::counted(remembered, ComputeUnits{0}, ComputeUnits{-3}) == ComputeUnits{0});
    // 26 foreign units appeared in the usage list since: they explain all 21.
    CHECK(detail::counted(remembered, ComputeUnits{26}, ComputeUnits{10}) == ComputeUnits{0});
    // 6 appeared: 15 left unexplained.
    CHECK(detail::counted(remembered, ComputeUnits{6}, ComputeUnits{30}) == ComputeUnits{15});
  }

  TEST_CASE("controller: a scale-up refused for units nobody lists is not sent again") {
    // cu-a: 10 units, 2 taken by something DescribeComputeUnit does not show (and no
    // availableComputeUnitCount). svc-a (GPU-I-2, 1 on cu-a) wants 5 = 10 units. Tick 1 believes
    // 8 free and asks cu-a 1 -> 5 (+8): refused, 6 are free; cu-a holds 0 + 1 unseen. Tick 2
    // believes 7 free: cu-a 1 -> 4 (+6) and cu-b 0 -> 1, both applied. Then nothing more.
    Harness h;
    h.add_instance("cu-a", 10);
    h.add_instance("cu-b", 10);
    h.api.set_unlisted(InstanceId{"cu-a"}, ComputeUnits{2});
    h.add_service("svc-a", {"cu-a", "cu-b"}, kNoWindow);
    h.place("svc-a", "cu-a", 1);
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 25);  // ceil(25 / 5) = 5
    auto r = h.tick_at(0s);
    CHECK(calls_of(decision(r, "svc-a")) == "cu-a:1->5:refused");
    r = h.tick_at(15s);
    CHECK(calls_of(decision(r, "svc-a")) == "cu-a:1->4:applied cu-b:0->1:applied");
    for (int k = 2; k < 6; ++k) h.tick_at(std::chrono::seconds{15 * k});
    CHECK(h.new_scales() == "svc-a@cu-a=5 svc-a@cu-a=4 svc-a@cu-b=1");
    CHECK(refusals(h.sink) == 1);

    // More than fits: the growth waits with the reason in the decision, nothing is refused.
    h.qps.set(ServiceId{"svc-a"}, 50);  // 10 replicas; cu-a is full, cu-b has 8 units left
    r = h.tick_at(90s);
    const auto& d = decision(r, "svc-a");
    CHECK(calls_of(d) == "cu-b:1->5:applied");
    CHECK(d.granted == Replicas{9});
    CHECK(d.unmet == Replicas{1});
    CHECK(d.reason == Reason::CappedCapacity);
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].find("instance cu-a refused a scale-up for compute units its usage list "
                           "does not show; 1 of its units count as used") == 0);
    CHECK(refusals(h.sink) == 1);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
