// The simulator runs what the controller runs: one scenario with a schedule that switches on
// mid-run, shared capacity too small for both services and two priorities, through the
// Controller (FakeQianfanApi, instant startup) and through sim::simulate, tick by tick.

#include <memory>
#include <string>
#include <vector>

#include "qfscale/sim/simulator.h"

#include "fixture.h"

namespace qfscale::controller::test {
namespace {

/// kNoWindow with a floor of 4 from 00:02 UTC for an hour: kT0 + 120 s.
constexpr std::string_view kFloorAtTwo = R"(
  target: {utilization: 0.5, tolerance: 0}
  replicas: {min: 1, max: 100}
  metricWindow: 1s
  panic: {enabled: false}
  scaleUp: {stabilizationWindow: 0s, policies: [{type: Replicas, value: 1000, period: 1s}]}
  scaleDown: {stabilizationWindow: 0s, policies: [{type: Percent, value: 100, period: 1s}]}
  schedules:
    - {cron: "2 0 * * *", duration: 1h, timezone: UTC, minReplicas: 4}
)";

constexpr std::int64_t kTick = 15;
constexpr std::int64_t kLength = 300;  ///< trace seconds: ticks at 15, 30, …, 285

/// hi: 60 QPS, then 100 from 150 s; lo: 4 QPS throughout. At 5 QPS a replica both want more
/// than 10 replicas of 2 units fit in 20.
std::shared_ptr<const trace::Trace> trace_of(std::string_view id) {
  std::vector<float> v(kLength);
  for (std::int64_t s = 0; s < kLength; ++s) {
    v[static_cast<std::size_t>(s)] = id == "hi" ? (s < 150 ? 60.0F : 100.0F) : 4.0F;
  }
  return std::make_shared<const trace::Trace>(std::move(v));
}

/// "t=15 hi=9 lo=1" per tick.
using Granted = std::vector<std::string>;

Granted through_controller() {
  Harness h;
  h.add_instance("cu-shared", 20);
  h.add_service("hi", {"cu-shared"}, kFloorAtTwo).priority = 10;
  h.add_service("lo", {"cu-shared"}, kFloorAtTwo).priority = 0;
  h.place("hi", "cu-shared", 1);
  h.place("lo", "cu-shared", 1);
  h.start();
  const auto hi = trace_of("hi");
  const auto lo = trace_of("lo");
  Granted out;
  for (std::int64_t t = kTick; t < kLength; t += kTick) {
    const auto from = static_cast<double>(t - kTick);
    h.qps.set(ServiceId{"hi"}, hi->mean(from, static_cast<double>(t)));
    h.qps.set(ServiceId{"lo"}, lo->mean(from, static_cast<double>(t)));
    const auto report = h.tick_at(std::chrono::seconds{t});
    REQUIRE(report.success);
    out.push_back(fmt::format("t={} hi={} lo={}", t, decision(report, "hi").granted,
                              decision(report, "lo").granted));
  }
  return out;
}

Granted through_simulator() {
  const auto spec = [](std::string id, int priority) {
    return sim::ServiceSpec{.id = ServiceId{id},
                            .trace = trace_of(id),
                            .replica_qps = 10,
                            .units_per_replica = model::ComputeUnits{2},
                            .initial_replicas = Replicas{1},
                            .priority = priority};
  };
  const std::vector<sim::ServiceSpec> services{spec("hi", 10), spec("lo", 0)};
  const auto result = sim::simulate(make_policy(kFloorAtTwo), services,
                                    sim::SimOptions{.tick = std::chrono::seconds{kTick},
                                                    .startup_delay = 0s,
                                                    .capacity_units = model::ComputeUnits{20},
                                                    .start = kT0});
  REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : result.error().to_string()));
  const auto& hi = result->services.at(0).timeline;
  const auto& lo = result->services.at(1).timeline;
  REQUIRE(hi.size() == lo.size());
  Granted out;
  for (std::size_t i = 0; i < hi.size(); ++i) {
    out.push_back(fmt::format("t={} hi={} lo={}", hi[i].t, hi[i].granted, lo[i].granted));
  }
  return out;
}

TEST_SUITE("controller") {
  TEST_CASE("sim parity: the simulator grants what the controller grants, tick by tick") {
    const Granted controller = through_controller();
    // Worked: 60 QPS wants 12 replicas, 100 wants 20; 4 QPS wants 1; 20 units hold 10 replicas.
    // Until 120 s the floor is 1: hi takes 9, lo keeps its 1. From 120 s the floor is 4 for both
    // and both floors are reserved before priority 10 fills the rest: hi 6, lo 4.
    CHECK(controller.front() == "t=15 hi=9 lo=1");
    CHECK(controller.at(7) == "t=120 hi=6 lo=4");
    CHECK(controller.back() == "t=285 hi=6 lo=4");
    const Granted simulator = through_simulator();
    REQUIRE(simulator.size() == controller.size());
    for (std::size_t i = 0; i < controller.size(); ++i) CHECK(simulator[i] == controller[i]);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
