// fake::Cloud on its own: capacity refusal with units nobody lists, startup delay, model
// updates and traffic, with the worked numbers of cloud.h.

#include "qfscale/fake/cloud.h"

#include <chrono>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace qfscale::fake {
namespace {

using namespace std::chrono_literals;
using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::RunStatus;
using model::ServiceId;

const util::SystemTime kT0{std::chrono::seconds{1'704'067'200}};

/// cloud.h's worked example: unit-a capacity 16, hidden 4; svc-x GPU-I-2 x2 and svc-y GPU-I-4
/// x1 there; unit-c a CPU instance; startup 30 s, model updates 60 s.
Cloud worked_example(int hidden = 4) {
  return Cloud(
      {InstanceSpec{.id = InstanceId{"unit-a"},
                    .capacity = ComputeUnits{16},
                    .foreign_usage = ComputeUnits{hidden}},
       InstanceSpec{.id = InstanceId{"unit-c"}, .type = "cpu-1", .capacity = ComputeUnits{16}}},
      {ServiceSpec{.id = ServiceId{"svc-x"},
                   .name = "x",
                   .type = "GPU-I-2",
                   .qps = 2.5,
                   .deployments = {{.instance = InstanceId{"unit-a"}, .replicas = Replicas{2}}}},
       ServiceSpec{.id = ServiceId{"svc-y"},
                   .name = "y",
                   .type = "GPU-I-4",
                   .qps = 1,
                   .deployments = {{.instance = InstanceId{"unit-a"}, .replicas = Replicas{1}}}}},
      CloudTimings{.startup_delay = 30s, .model_update_duration = 60s}, kT0);
}

TEST_SUITE("fake") {
  TEST_CASE("cloud: ScaleService counts every holder, hidden units included") {
    struct Case {
      std::string_view name;
      int hidden;
      int replicas;
      bool accepted;
      int left, need, held_elsewhere, fit;  // of the refusal
    };
    // Left for svc-x = 16 - hidden - 4 (svc-y); its own 4 units do not count.
    const Case cases[] = {
        {"exactly what is left: 4 x 2 = 8 of 8", 4, 4, true, 0, 0, 0, 0},
        {"one replica more: 10 > 8", 4, 5, false, 8, 10, 8, 4},
        {"one hidden unit more: 8 > 7", 5, 4, false, 7, 8, 9, 3},
        {"one hidden unit less: 10 > 9", 3, 5, false, 9, 10, 7, 4},
        {"scale to zero with nothing left", 12, 0, true, 0, 0, 0, 0},
        {"over-committed: nothing left, fit 0", 16, 1, false, 0, 2, 20, 0},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto cloud = worked_example(c.hidden);
        const auto got = cloud.scale("svc-x", "unit-a", Replicas{c.replicas}, kT0);
        REQUIRE(got.has_value() == c.accepted);
        const auto status = *cloud.service("svc-x", kT0);
        if (c.accepted) {
          CHECK(*got == Scaled{.from = Replicas{2}, .to = Replicas{c.replicas}});
          CHECK(status.replicas == Replicas{c.replicas});
          continue;
        }
        const auto& r = got.error();
        CHECK(r.kind == RefusalKind::InsufficientComputeUnits);
        CHECK(error_code(r.kind) == "InsufficientComputeUnits");
        CHECK(http_status(r.kind) == 400);
        CHECK(r.left == ComputeUnits{c.left});
        CHECK(r.need == ComputeUnits{c.need});
        CHECK(r.held_elsewhere == ComputeUnits{c.held_elsewhere});
        CHECK(r.fit == Replicas{c.fit});
        CHECK(status.replicas == Replicas{2});  // a refusal changes nothing
      }
    }
  }

  TEST_CASE("cloud: the refusal message gives the arithmetic and what to ask for") {
    auto cloud = worked_example();
    const auto got = cloud.scale("svc-x", "unit-a", Replicas{5}, kT0);
    REQUIRE_FALSE(got.has_value());
    CHECK(to_message(got.error()) ==
          "instance unit-a has 8 compute units left; 5 replicas of GPU-I-2 need 10 (capacity 16, "
          "used by other services and foreign usage 8). Ask for at most 4 replicas here, or free "
          "compute units on the instance first");
  }

  TEST_CASE("cloud: hidden units are used but not listed") {
    auto cloud = worked_example();
    const auto unit = *cloud.instance("unit-a");
    CHECK(unit.used == ComputeUnits{12});
    CHECK(unit.available() == ComputeUnits{4});
    REQUIRE(unit.usage.size() == 2);
    CHECK(unit.usage[0] == UnitUsage{ServiceId{"svc-x"}, Replicas{2}, ComputeUnits{4}});
    CHECK(unit.usage[1] == UnitUsage{ServiceId{"svc-y"}, Replicas{1}, ComputeUnits{4}});
    REQUIRE(cloud.set_hidden_units(InstanceId{"unit-a"}, ComputeUnits{0}));
    CHECK(cloud.instance("unit-a")->available() == ComputeUnits{8});
  }

  TEST_CASE("cloud: refusals name what is wrong") {
    struct Case {
      std::string_view name, service, instance;
      RefusalKind want;
    };
    const Case cases[] = {
        {"unknown service", "svc-z", "unit-a", RefusalKind::ServiceNotFound},
        {"unknown instance", "svc-x", "unit-z", RefusalKind::InstanceNotFound},
        {"a GPU service on a CPU instance", "svc-x", "unit-c", RefusalKind::ResourceTypeMismatch},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto cloud = worked_example();
        const auto got = cloud.scale(c.service, c.instance, Replicas{1}, kT0);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().kind == c.want);
      }
    }
    auto cloud = worked_example();
    CHECK(to_message(cloud.scale("svc-x", "unit-c", Replicas{1}, kT0).error()) ==
          "service svc-x cannot run on instance unit-c: GPU-I-2 is a GPU type but instance type "
          "cpu-1 is CPU. Scale it on an instance of its own kind");
    CHECK(http_status(RefusalKind::ServiceNotFound) == 404);
  }

  TEST_CASE("cloud: new replicas are ready after the startup delay") {
    struct Case {
      std::string_view name;
      int from, to;
      std::chrono::milliseconds after;
      int want_replicas, want_ready;
      RunStatus want_status;
    };
    // svc-x has 2 on unit-a (ready at kT0); the scale happens at kT0 + 10 s.
    const Case cases[] = {
        {"growth: just before the delay", 2, 4, 29'999ms, 4, 2, RunStatus::Serving},
        {"growth: at the delay", 2, 4, 30s, 4, 4, RunStatus::Serving},
        {"from zero: Deploying until one is ready", 0, 2, 29'999ms, 2, 0, RunStatus::Deploying},
        {"from zero: Serving at the delay", 0, 2, 30s, 2, 2, RunStatus::Serving},
        {"to zero: at once, Serving", 2, 0, 0ms, 0, 0, RunStatus::Serving},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto cloud = worked_example();
        const auto t = kT0 + 10s;
        if (c.from == 0) REQUIRE(cloud.scale("svc-x", "unit-a", Replicas{0}, t).has_value());
        REQUIRE(cloud.scale("svc-x", "unit-a", Replicas{c.to}, t).has_value());
        const auto s = *cloud.service("svc-x", t + c.after);
        CHECK(s.replicas == Replicas{c.want_replicas});
        CHECK(s.ready == Replicas{c.want_ready});
        CHECK(s.run_status == c.want_status);
      }
    }
  }

  TEST_CASE("cloud: scale-down removes replicas still starting first") {
    auto cloud = worked_example();
    REQUIRE(cloud.scale("svc-x", "unit-a", Replicas{4}, kT0 + 10s).has_value());
    REQUIRE(cloud.scale("svc-x", "unit-a", Replicas{3}, kT0 + 11s).has_value());
    const auto s = *cloud.service("svc-x", kT0 + 11s);
    CHECK(s.replicas == Replicas{3});
    CHECK(s.ready == Replicas{2});  // the two from the start stay
  }

  TEST_CASE("cloud: a model update is in force after its window, one at a time") {
    auto cloud = worked_example();
    const auto done = cloud.modify("svc-x", "am-next", "amv-next", kT0);
    REQUIRE(done.has_value());
    CHECK(*done == kT0 + 60s);
    struct Case {
      std::string_view name;
      std::chrono::milliseconds at;
      bool updating;
      std::string_view model_id;
    };
    const Case cases[] = {
        {"during the window the old model serves", 59'999ms, true, "amv-fakever0001"},
        {"at the end of the window the new one", 60s, false, "amv-next"},
    };
    for (const auto& c : cases) {
      const auto s = *cloud.service("svc-x", kT0 + c.at);
      CHECK_MESSAGE(s.model_updating == c.updating, c.name);
      CHECK_MESSAGE(s.spec.model_id == c.model_id, c.name);
    }
    const auto second = cloud.modify("svc-x", "am-other", "amv-other", kT0 + 59'000ms);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().kind == RefusalKind::ModelUpdateInProgress);
    CHECK(second.error().remaining == 1'000ms);
    CHECK(http_status(second.error().kind) == 409);
    CHECK(cloud.modify("svc-x", "am-other", "amv-other", kT0 + 60s).has_value());
    CHECK(cloud.service("svc-x", kT0 + 60s)->spec.model_id == "amv-next");
  }

  TEST_CASE("cloud: traffic is served up to floor(ready x qps) per second") {
    auto cloud = worked_example();
    REQUIRE(cloud.scale("svc-x", "unit-a", Replicas{3}, kT0 - 60s).has_value());
    // 3 ready x 2.5 qps = 7.5: 7 served in second kT0, the 8th rejected; the next second is new.
    int served = 0;
    for (int i = 0; i < 8; ++i) served += cloud.request("svc-x", kT0 + 100ms)->served ? 1 : 0;
    CHECK(served == 7);
    const auto next = cloud.request("svc-x", kT0 + 1s);
    CHECK(next->served);
    CHECK(next->capacity_per_second == 7);
    const auto t0 = kT0.time_since_epoch() / 1s;
    CHECK(*cloud.calls("svc-x", t0, t0 + 1) == CallCounts{.served = 7, .rejected = 1});
    CHECK(*cloud.calls("svc-x", t0, t0 + 2) == CallCounts{.served = 8, .rejected = 1});
    CHECK(cloud.call_totals("svc-x") == CallCounts{.served = 8, .rejected = 1});
    CHECK_FALSE(cloud.request("svc-z", kT0).has_value());
  }

  TEST_CASE("cloud: DescribeServices pages by id from the marker") {
    auto cloud = worked_example();
    auto page = cloud.services({.max_keys = 1}, kT0);
    REQUIRE(page.services.size() == 1);
    CHECK(page.services[0].spec.id == ServiceId{"svc-x"});
    CHECK(page.next_marker == "svc-y");
    page = cloud.services({.marker = "svc-y", .max_keys = 1}, kT0);
    REQUIRE(page.services.size() == 1);
    CHECK(page.next_marker.empty());
    page = cloud.services({.run_status = {RunStatus::Deploying}}, kT0);
    CHECK(page.services.empty());
  }
}

}  // namespace
}  // namespace qfscale::fake
