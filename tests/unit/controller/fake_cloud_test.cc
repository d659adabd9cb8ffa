// The controller against the real fake (default scenario, examples/fake.yaml plus code-gen) over
// signed HTTP on 127.0.0.1: the units another team takes on unit-gpub0002 are not in its usage
// list, and a scale-up into them must be planned around, not refused by ScaleService every tick.

#include "fake_cloud.h"

#include <string>
#include <vector>

namespace qfscale::controller::test {
namespace {

/// Every ScaleService call of every decision in `ticks` that the fake refused, space-separated.
std::string refused_calls(const std::vector<telemetry::TickReport>& ticks) {
  std::vector<std::string> out;
  for (const auto& tick : ticks) {
    for (const auto& s : tick.services) {
      for (const auto& call : s.decision.calls) {
        if (call.outcome == ActuationOutcome::Refused) {
          out.push_back(fmt::format("{}@{}", s.decision.service, describe(call)));
        }
      }
    }
  }
  return fmt::format("{}", fmt::join(out, " "));
}

TEST_SUITE("controller") {
  TEST_CASE("controller: units the usage list does not show are planned around, not refused") {
    // unit-gpua0001: chat-small 2x2 + chat-large 2x4 = 12 of 16, 4 free.
    // unit-gpub0002: chat-small 1x2 + code-gen 2x2 + image-gen 1x4 = 10 listed, plus 2 units of
    // another team's that only availableComputeUnitCount (4) shows: 4 free, not 6.
    // At 10 qps code-gen wants ceil(10 / (4 x 0.5)) = 5 and chat-small ceil(10 / 2.5) = 4: +3 x 2
    // and +1 x 2 = 8 units, exactly what is free. Asking code-gen for 5 on gpub (6 units) was
    // refused every tick; it now grows to 4 there and 1 on gpua.
    FakeCloud cloud;
    cloud.qps.set(ServiceId{kChatSmall}, 10);
    cloud.qps.set(ServiceId{kCodeGen}, 10);
    for (int k = 0; k < 4; ++k) cloud.tick_at(std::chrono::seconds{15 * k});
    CHECK(refused_calls(cloud.sink.ticks) == "");
    CHECK(cloud.inventory(kCodeGen) ==
          "service svco-codegen00001 type GPU-I-2 replicas unit-gpua0001=1 unit-gpub0002=4");
    CHECK(cloud.inventory(kChatSmall) ==
          "service svco-chatsmall001 type GPU-I-2 replicas unit-gpua0001=3 unit-gpub0002=1");
    const auto& last = cloud.sink.ticks.back();
    CHECK(decision(last, kCodeGen).outcome == ActuationOutcome::NotNeeded);
    CHECK(decision(last, kChatSmall).outcome == ActuationOutcome::NotNeeded);
    REQUIRE(last.instances.size() == 2);
    // What the operator sees: gpub full, the other team's 2 units counted.
    CHECK(last.instances[1].allocated == model::ComputeUnits{16});
    CHECK(last.instances[1].free == model::ComputeUnits{0});

    // More demand than fits: the scale-up waits in the decision (capped_capacity, unmet), and
    // still nothing is sent to be refused.
    cloud.qps.set(ServiceId{kCodeGen}, 20);  // wants 10
    const auto r = cloud.tick_at(60s);
    const auto& d = decision(r, kCodeGen);
    CHECK(d.recommended == Replicas{10});
    CHECK(d.granted == Replicas{5});
    CHECK(d.unmet == Replicas{5});
    CHECK(d.reason == Reason::CappedCapacity);
    CHECK(d.calls.empty());
    CHECK(refused_calls(cloud.sink.ticks) == "");
  }
}

}  // namespace
}  // namespace qfscale::controller::test
