#include <doctest/doctest.h>

#include "support/fake_qianfan_api.h"

namespace qfscale::testing {
namespace {

using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;

qianfan::ServiceInfo service(std::string_view id, std::string_view type) {
  qianfan::ServiceInfo s;
  s.service_id = ServiceId{id};
  s.name = std::string(id);
  s.run_status = model::RunStatus::Serving;
  s.run_status_text = "Serving";
  s.resource_config.type = std::string(type);
  s.resource_config.qps = 5;
  return s;
}

TEST_SUITE("qianfan") {
  TEST_CASE("fake api: ScaleService enforces instance capacity and updates replicas") {
    FakeQianfanApi api;
    api.add_instance(InstanceId{"unit-1"}, ComputeUnits{8});
    api.add_service(service("svco-a", "GPU-I-2"));
    api.add_service(service("svco-b", "GPU-I-4"));
    api.place(ServiceId{"svco-b"}, InstanceId{"unit-1"}, Replicas{1});  // 4 units used
    CHECK(api.free_units(InstanceId{"unit-1"}) == ComputeUnits{4});

    // 2 replicas x 2 units = 4 = exactly what is left
    auto ok = api.scale_service({.service = ServiceId{"svco-a"},
                                 .instance = InstanceId{"unit-1"},
                                 .replicas = Replicas{2}});
    REQUIRE(ok.has_value());
    CHECK_FALSE(ok->request_id.empty());
    CHECK(api.free_units(InstanceId{"unit-1"}) == ComputeUnits{0});
    CHECK(api.describe_service(ServiceId{"svco-a"})->resource_config.replicas == Replicas{2});

    // 3 x 2 = 6 > 4 available to svco-a (its own 4 are counted as free for the new count)
    auto refused = api.scale_service({.service = ServiceId{"svco-a"},
                                      .instance = InstanceId{"unit-1"},
                                      .replicas = Replicas{3}});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::Remote);
    CHECK(refused.error().remote_code == "InsufficientComputeUnits");
    CHECK(api.replicas(ServiceId{"svco-a"}, InstanceId{"unit-1"}) == Replicas{2});

    // to zero frees the units
    REQUIRE(api.scale_service({.service = ServiceId{"svco-a"},
                               .instance = InstanceId{"unit-1"},
                               .replicas = Replicas{0}})
                .has_value());
    CHECK(api.free_units(InstanceId{"unit-1"}) == ComputeUnits{4});

    const auto cu = api.describe_compute_unit(InstanceId{"unit-1"});
    REQUIRE(cu.has_value());
    CHECK(cu->instance.compute_unit_count == ComputeUnits{8});
    REQUIRE(cu->usage.size() == 1);
    CHECK(cu->usage[0].compute_unit_count == ComputeUnits{4});
    CHECK(api.count(QianfanAction::ScaleService) == 3);
    CHECK(api.calls().back().action == QianfanAction::DescribeComputeUnit);
  }

  TEST_CASE("fake api: unknown ids, injected faults, paging, ModifyService") {
    util::ManualClock clock{util::SystemTime{std::chrono::seconds{1'704'067'200}}};
    FakeQianfanApi api(clock);
    CHECK(api.describe_service(ServiceId{"svco-x"}).error().remote_code == "ResourceNotFound");
    for (const char* id : {"svco-a", "svco-b", "svco-c"}) api.add_service(service(id, "GPU-I-2"));

    Error throttled = util::make_error(ErrorCode::Transient, "slow down");
    throttled.remote_code = "RequestLimitExceeded";
    api.fail_next(QianfanAction::DescribeService, throttled, 2);
    CHECK(api.describe_service(ServiceId{"svco-a"}).error().remote_code == "RequestLimitExceeded");
    CHECK(api.describe_service(ServiceId{"svco-a"}).error().retryable());
    CHECK(api.describe_service(ServiceId{"svco-a"}).has_value());
    CHECK(api.count(QianfanAction::DescribeService) == 4);

    auto page = api.describe_services({.max_keys = 2});
    REQUIRE(page.has_value());
    CHECK(page->services.size() == 2);
    CHECK(page->is_truncated);
    auto last = api.describe_services({.marker = page->next_marker, .max_keys = 2});
    REQUIRE(last.has_value());
    REQUIRE(last->services.size() == 1);
    CHECK(last->services[0].service_id == ServiceId{"svco-c"});
    CHECK_FALSE(last->is_truncated);

    REQUIRE(api.modify_service(
                   {.service = ServiceId{"svco-b"}, .model_set_id = "am-2", .model_id = "amv-3"})
                .has_value());
    // The old model serves until the 60 s window ends.
    auto b = api.service(ServiceId{"svco-b"});
    REQUIRE(b.has_value());
    CHECK(b->model_id == "amv-fakever0001");
    CHECK(b->to_snapshot().model_updating);
    clock.advance(std::chrono::seconds{60});
    b = api.service(ServiceId{"svco-b"});
    CHECK(b->model_id == "amv-3");
    CHECK_FALSE(b->to_snapshot().model_updating);
  }
}

}  // namespace
}  // namespace qfscale::testing
