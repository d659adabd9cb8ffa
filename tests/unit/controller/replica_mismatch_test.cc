// DescribeService's replicasCount against the DescribeComputeUnit usage lists: a disagreement is
// reported on /metrics, on the tick's errors and in the decision, and the tick goes on.

#include <string>

#include "qfscale/telemetry/exporter.h"

#include "fixture.h"
#include "unit/telemetry/fixtures.h"

namespace qfscale::controller::test {
namespace {

using telemetry::test::value_of;

TEST_SUITE("controller") {
  TEST_CASE(
      "replica count mismatch: reported on /metrics and in the decision, replicasCount used") {
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"}, kNoWindow);
    h.add_service("svc-b", {"cu-a"}, kNoWindow);
    h.place("svc-a", "cu-a", 2);
    h.place("svc-b", "cu-a", 2);
    // The service says 5 while cu-a's usage list shows 2 (a scale still landing, say).
    h.api.update_service(ServiceId{"svc-a"},
                         [](auto& s) { s.resource_config.replicas = Replicas{5}; });
    h.qps.set(ServiceId{"svc-a"}, 20);  // 20 / (10 x 0.5) = 4 replicas
    h.qps.set(ServiceId{"svc-b"}, 20);
    util::ManualClock exporter_clock;
    auto exporter = telemetry::Exporter::create({.version = "test"}, exporter_clock);
    REQUIRE(exporter.has_value());
    h.start(nullptr, nullptr, exporter->get());

    const auto report = h.tick_at(15s);
    CHECK(report.success);  // reported, not a failed tick
    const auto& a = decision(report, "svc-a");
    // The engine decides from replicasCount 5 (down to 4); the allocator places from the usage
    // list, so cu-a goes 2 -> 4.
    CHECK(a.current == Replicas{5});
    CHECK(a.recommended == Replicas{4});
    CHECK(calls_of(a) == "cu-a:2->4:applied");
    const std::string json = telemetry::decision_to_json(a);
    CHECK(json.find("service svc-a: DescribeService says 5 replicas but the compute-unit usage "
                    "lists show 2; deciding from 5") != std::string::npos);
    CHECK(decision(report, "svc-b").errors.empty());

    std::string metrics = (*exporter)->render_metrics();
    CHECK(value_of(metrics, "qfscale_replica_count_mismatch_total{service=\"svc-a\"}") == 1.0);
    CHECK(value_of(metrics, "qfscale_replica_count_mismatch_total{service=\"svc-b\"}") == 0.0);
    CHECK(value_of(metrics,
                   "qfscale_tick_errors_total{code=\"replica_count_mismatch\","
                   "stage=\"observe\"}") == 1.0);

    // The scale landed: the fake's count is the sum of placements again, nothing more is counted.
    h.place("svc-a", "cu-a", 4);
    const auto next = h.tick_at(30s);
    CHECK(decision(next, "svc-a").errors.empty());
    metrics = (*exporter)->render_metrics();
    CHECK(value_of(metrics, "qfscale_replica_count_mismatch_total{service=\"svc-a\"}") == 1.0);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
