#include "qfscale/controller/controller.h"

#include <functional>

#include <doctest/doctest.h>

#include "unit/controller/fixture.h"

namespace qfscale::controller::test {
namespace {

TEST_SUITE("controller") {
  TEST_CASE("controller: a step up in QPS scales up within one tick") {
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    h.place("svc-a", "cu-a", 2);
    h.start();

    // 10 qps on replicas of 10 qps at utilization 0.5: ceil(10 / (10 x 0.5)) = 2 = current.
    h.qps.set(ServiceId{"svc-a"}, 10);
    auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "");
    CHECK(decision(r, "svc-a").outcome == ActuationOutcome::NotNeeded);

    // 50 qps: ceil(50 / (10 x 0.5)) = 10 replicas x 2 units = 20 <= 40 units on cu-a.
    h.qps.set(ServiceId{"svc-a"}, 50);
    r = h.tick_at(15s);
    CHECK(h.new_scales() == "svc-a@cu-a=10");
    const auto& d = decision(r, "svc-a");
    CHECK(d.current == Replicas{2});
    CHECK(d.recommended == Replicas{10});
    CHECK(d.granted == Replicas{10});
    CHECK(d.unmet == Replicas{0});
    CHECK(d.reason == Reason::ScaleUp);
    CHECK(calls_of(d) == "cu-a:2->10:applied");
    CHECK_FALSE(d.calls.at(0).request_id.empty());
    CHECK(d.outcome == ActuationOutcome::Applied);
    CHECK(h.replicas("svc-a", "cu-a") == 10);
    CHECK(r.success);

    // The next tick sees 10 and does nothing more.
    r = h.tick_at(30s);
    CHECK(h.new_scales() == "");
    CHECK(decision(r, "svc-a").outcome == ActuationOutcome::NotNeeded);
  }

  TEST_CASE("controller: a step down waits for the stabilization window") {
    // kFast: scale-down stabilization 60 s. The 10-replica recommendation of t=0 is in the
    // window until t=60: at t=59 the max over (t-60, t] is still 10; at t=61 it is 2.
    struct Case {
      std::string_view name;
      std::chrono::seconds at;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "window - 1 s: held at 10", .at = 59s, .want = ""},
        {.name = "window + 1 s: 10 -> 2", .at = 61s, .want = "svc-a@cu-a=2"},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        Harness h;
        h.add_instance("cu-a", 40);
        h.add_service("svc-a", {"cu-a"});
        h.place("svc-a", "cu-a", 10);
        h.start();
        h.qps.set(ServiceId{"svc-a"}, 50);  // 50 / 5 = 10: steady
        h.tick_at(0s);
        h.qps.set(ServiceId{"svc-a"}, 10);  // 10 / 5 = 2
        auto r = h.tick_at(30s);
        CHECK(decision(r, "svc-a").reason == Reason::Stabilized);
        r = h.tick_at(c.at);
        CHECK(h.new_scales() == c.want);
        CHECK(decision(r, "svc-a").recommended == Replicas{c.want.empty() ? 10 : 2});
      }
    }
  }

  TEST_CASE("controller: services contending for one instance share it by priority and weight") {
    // The allocator's worked example on cu-x (12 units): c (priority 2, GPU-I-2, wants 1) first;
    // a (weight 2) and b (weight 1) share the 10 units left 2:1: a 6.67 -> 7, b 3.33 -> 3.
    Harness h;
    h.add_instance("cu-x", 12);
    auto& a = h.add_service("svc-a", {"cu-x"}, kFast, "CPU-I-1");
    a.priority = 1;
    a.weight = 2;
    h.add_service("svc-b", {"cu-x"}, kFast, "CPU-I-1").priority = 1;
    h.add_service("svc-c", {"cu-x"}, kFast, "GPU-I-2").priority = 2;
    for (auto s : {"svc-a", "svc-b", "svc-c"}) h.place(s, "cu-x", 1);  // 1 + 1 + 2 = 4 units
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 50);  // wants 10
    h.qps.set(ServiceId{"svc-b"}, 50);  // wants 10
    h.qps.set(ServiceId{"svc-c"}, 5);   // wants 1
    auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "svc-a@cu-x=7 svc-b@cu-x=3");
    const auto& da = decision(r, "svc-a");
    CHECK(da.recommended == Replicas{10});
    CHECK(da.granted == Replicas{7});
    CHECK(da.unmet == Replicas{3});
    CHECK(da.reason == Reason::CappedCapacity);
    const auto& db = decision(r, "svc-b");
    CHECK(db.granted == Replicas{3});
    CHECK(db.unmet == Replicas{7});
    CHECK(db.reason == Reason::CappedCapacity);
    CHECK(decision(r, "svc-c").unmet == Replicas{0});
    CHECK(decision(r, "svc-c").outcome == ActuationOutcome::NotNeeded);
    REQUIRE(r.instances.size() == 1);
    CHECK(r.instances[0].capacity == model::ComputeUnits{12});
    CHECK(r.instances[0].allocated == model::ComputeUnits{12});
    CHECK(r.instances[0].free == model::ComputeUnits{0});
    CHECK(h.api.free_units(InstanceId{"cu-x"}) == model::ComputeUnits{0});
  }

  TEST_CASE("controller: a shrinking service frees units for a growing one in the same tick") {
    // cu-x has 10 units, 1 per replica. a: 6 -> 2, b: 4 -> 8. Down first: 2 + 4 = 6, then
    // 2 + 8 = 10. The other order would ask for 6 + 8 = 14 and be refused.
    Harness h;
    h.add_instance("cu-x", 10);
    h.add_service("svc-a", {"cu-x"}, kNoWindow, "CPU-I-1");
    h.add_service("svc-b", {"cu-x"}, kNoWindow, "CPU-I-1");
    h.place("svc-a", "cu-x", 6);
    h.place("svc-b", "cu-x", 4);
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 10);  // 2
    h.qps.set(ServiceId{"svc-b"}, 40);  // 8
    const auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "svc-a@cu-x=2 svc-b@cu-x=8");
    CHECK(decision(r, "svc-a").outcome == ActuationOutcome::Applied);
    CHECK(decision(r, "svc-b").outcome == ActuationOutcome::Applied);
  }

  TEST_CASE("controller: a service spread over two instances grows and shrinks by preference") {
    // cu-a (preferred) has 8 units = 4 replicas of GPU-I-2; cu-b has 20.
    Harness h;
    h.add_instance("cu-a", 8);
    h.add_instance("cu-b", 20);
    h.add_service("svc-a", {"cu-a", "cu-b"}, kNoWindow);
    h.place("svc-a", "cu-a", 2);
    h.start();
    // 50 qps -> 10 replicas: cu-a fills to 4, the other 6 go to cu-b.
    h.qps.set(ServiceId{"svc-a"}, 50);
    auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "svc-a@cu-a=4 svc-a@cu-b=6");
    CHECK(calls_of(decision(r, "svc-a")) == "cu-a:2->4:applied cu-b:0->6:applied");
    // 15 qps -> 3 replicas: the least preferred instance goes first (cu-b to 0 removes it).
    h.qps.set(ServiceId{"svc-a"}, 15);
    r = h.tick_at(15s);
    CHECK(h.new_scales() == "svc-a@cu-a=3 svc-a@cu-b=0");
    CHECK(h.replicas("svc-a", "cu-a") == 3);
    CHECK(h.replicas("svc-a", "cu-b") == 0);
    CHECK(decision(r, "svc-a").granted == Replicas{3});
  }

  TEST_CASE("controller: a frozen service is not scaled and its units are not given away") {
    struct Case {
      std::string_view name;
      model::RunStatus status;
      bool updating;
      Reason want;
    };
    const Case cases[] = {
        {.name = "not serving",
         .status = model::RunStatus::Deploying,
         .updating = false,
         .want = Reason::FrozenNotServing},
        {.name = "model updating",
         .status = model::RunStatus::Serving,
         .updating = true,
         .want = Reason::FrozenUpdating},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        // cu-x: 10 units, 1 per replica. svc-f holds 4 and would drop to 1 (qps 0); svc-b wants
        // 20 and may have only 10 - 4 = 6.
        Harness h;
        h.add_instance("cu-x", 10);
        h.add_service("svc-f", {"cu-x"}, kNoWindow, "CPU-I-1");
        h.add_service("svc-b", {"cu-x"}, kNoWindow, "CPU-I-1");
        h.place("svc-f", "cu-x", 4);
        h.place("svc-b", "cu-x", 1);
        h.api.update_service(ServiceId{"svc-f"}, [&](qianfan::ServiceInfo& s) {
          s.run_status = c.status;
          s.is_model_updating = c.updating;
        });
        h.start();
        h.qps.set(ServiceId{"svc-f"}, 0);
        h.qps.set(ServiceId{"svc-b"}, 100);
        const auto r = h.tick_at(0s);
        CHECK(h.new_scales() == "svc-b@cu-x=6");
        const auto& f = decision(r, "svc-f");
        CHECK(f.reason == c.want);
        CHECK(f.outcome == ActuationOutcome::Skipped);
        CHECK(f.granted == Replicas{4});
        CHECK(f.calls.empty());
        const auto& b = decision(r, "svc-b");
        CHECK(b.granted == Replicas{6});
        CHECK(b.unmet == Replicas{14});
        CHECK(h.replicas("svc-f", "cu-x") == 4);
      }
    }
  }

  TEST_CASE("controller: dry-run plans calls but sends no ScaleService") {
    Harness h;
    h.config.loop.dry_run = true;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    h.place("svc-a", "cu-a", 2);
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 50);
    const auto r = h.tick_at(0s);
    CHECK(h.api.count(QianfanAction::ScaleService) == 0);
    const auto& d = decision(r, "svc-a");
    CHECK(calls_of(d) == "cu-a:2->10:dry_run");
    CHECK(d.outcome == ActuationOutcome::DryRun);
    CHECK(h.replicas("svc-a", "cu-a") == 2);
    for (const auto& call : r.api_calls) CHECK(call.action != telemetry::ApiAction::ScaleService);
  }

  TEST_CASE("controller: the report carries every engine step, the allocation and the calls") {
    Harness h;
    h.add_instance("cu-a", 10);
    h.add_instance("cu-b", 6);
    h.add_foreign_service("svc-other");
    h.place("svc-other", "cu-b", 1);  // 2 foreign units on cu-b
    h.add_service("svc-a", {"cu-a", "cu-b"});
    h.place("svc-a", "cu-a", 1);
    h.start();
    // 50 qps -> 10 replicas x 2 units; cu-a fits 5, cu-b 6 - 2 = 4 units = 2: granted 7, unmet 3.
    h.qps.set(ServiceId{"svc-a"}, 50);
    const auto r = h.tick_at(0s);
    REQUIRE(r.services.size() == 1);
    const auto& s = r.services[0];
    const auto& d = s.decision;
    CHECK(d.at == kT0);
    REQUIRE(d.qps.has_value());
    CHECK(*d.qps == 50);
    CHECK(d.replica_qps == 10);
    REQUIRE(d.steps.size() == model::kAllStages.size());
    for (std::size_t i = 0; i < d.steps.size(); ++i) {
      CAPTURE(i);
      CHECK(d.steps[i].stage == model::kAllStages[i]);
      CHECK_FALSE(d.steps[i].detail.empty());  // explain is on
    }
    const auto& raw = d.steps[static_cast<std::size_t>(model::Stage::RawDesired)];
    CHECK(raw.output == Replicas{10});
    CHECK(raw.reason == Reason::ScaleUp);
    CHECK(d.recommended == Replicas{10});
    CHECK(d.granted == Replicas{7});
    CHECK(d.unmet == Replicas{3});
    CHECK(d.reason == Reason::CappedCapacity);
    CHECK(calls_of(d) == "cu-a:1->5:applied cu-b:0->2:applied");
    CHECK_FALSE(s.panic_active);
    REQUIRE(r.instances.size() == 2);
    CHECK(r.instances[0].instance == InstanceId{"cu-a"});
    CHECK(r.instances[0].allocated == model::ComputeUnits{10});
    CHECK(r.instances[0].free == model::ComputeUnits{0});
    CHECK(r.instances[1].allocated == model::ComputeUnits{6});  // 4 ours + 2 foreign
    CHECK(r.instances[1].free == model::ComputeUnits{0});
    // 1 DescribeService + 2 DescribeComputeUnit + 2 ScaleService, all ok.
    CHECK(r.api_calls.size() == 5);
    for (const auto& call : r.api_calls) CHECK(call.code == telemetry::ApiCode::Ok);
    CHECK(r.success);
    CHECK(r.errors.empty());
    CHECK(r.finished_at == kT0);
    REQUIRE(h.sink.ticks.size() == 1);
    CHECK(h.sink.ticks[0].services[0].decision == d);
  }

  TEST_CASE("controller: a resource type without a unit count freezes the service") {
    Harness h;
    h.config.loop.dry_run = true;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"}, kFast, "GPU-X");
    h.add_service("svc-b", {"cu-a"}, kFast, "GPU-X").units_per_replica = model::ComputeUnits{2};
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 50);
    h.qps.set(ServiceId{"svc-b"}, 50);
    const auto r = h.tick_at(0s);
    const auto& a = decision(r, "svc-a");
    CHECK(a.reason == Reason::ObserveFailed);
    CHECK(a.outcome == ActuationOutcome::Skipped);
    CHECK(a.recommended == Replicas{10});  // the engine ran; only acting is withheld
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].stage == telemetry::TickStage::Allocate);
    CHECK(r.errors[0].code == telemetry::TickErrorCode::UnknownUnits);
    CHECK(r.errors[0].message.find("svc-a") != std::string::npos);
    CHECK(r.errors[0].message.find("unitsPerReplica") != std::string::npos);
    CHECK(a.errors == std::vector{r.errors[0].message});
    // With the override the service is planned (10 x 2 = 20 units).
    CHECK(calls_of(decision(r, "svc-b")) == "cu-a:0->10:dry_run");
  }

  TEST_CASE("controller: create refuses missing dependencies and an inconsistent config") {
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    auto no_api = Controller::create(h.config, Dependencies{.qps = &h.qps, .clock = &h.clock});
    REQUIRE_FALSE(no_api.has_value());
    CHECK(no_api.error().code == ErrorCode::InvalidInput);

    struct Case {
      std::string_view name;
      std::function<void(Config&)> edit;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "unknown instance",
         .edit = [](Config& c) { c.services[0].instances.emplace_back("cu-zz"); },
         .want = "service svc-a: instance cu-zz is not among the configured instances"},
        {.name = "weight 0",
         .edit = [](Config& c) { c.services[0].weight = 0; },
         .want = "service svc-a: weight 0 is below 1"},
        {.name = "duplicate instance",
         .edit = [](Config& c) { c.instances.push_back(c.instances[0]); },
         .want = "instance cu-a is listed twice"},
        {.name = "unit override 0",
         .edit = [](Config& c) { c.services[0].units_per_replica = model::ComputeUnits{0}; },
         .want = "service svc-a: unitsPerReplica 0 is below 1"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      Config config = h.config;
      c.edit(config);
      auto made =
          Controller::create(config, Dependencies{.api = &h.api, .qps = &h.qps, .clock = &h.clock});
      REQUIRE_FALSE(made.has_value());
      CHECK(made.error().code == ErrorCode::InvalidInput);
      CHECK(made.error().message.find(c.want) != std::string::npos);
    }
  }

  TEST_CASE("controller: every service and instance is described once per tick, concurrently") {
    Harness h;
    h.config.qianfan.concurrency = 3;
    h.add_instance("cu-a", 1000);
    h.add_instance("cu-b", 1000);
    for (int i = 0; i < 20; ++i) h.add_service(fmt::format("svc-{:02}", i), {"cu-a", "cu-b"});
    h.start();
    const auto r = h.tick_at(0s);
    CHECK(h.api.count(QianfanAction::DescribeService) == 20);
    CHECK(h.api.count(QianfanAction::DescribeComputeUnit) == 2);
    CHECK(r.services.size() == 20);
    CHECK(r.services[7].decision.service == ServiceId{"svc-07"});  // config order
    const auto reads = h.qps.reads();
    REQUIRE(reads.size() == 1);
    CHECK(reads[0].services.size() == 20);
    CHECK(reads[0].now == kT0);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
