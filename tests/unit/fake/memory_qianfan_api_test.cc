// The in-memory QianfanApi and the HTTP fake over the same scenario answer alike: one model of
// "ScaleService refused for capacity", whichever front the call takes.

#include "qfscale/fake/memory_qianfan_api.h"

#include <string>

#include <doctest/doctest.h>

#include "fixture.h"

namespace qfscale::fake::testing {
namespace {

using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;

MemoryQianfanApi memory_api(const util::Clock& clock) {
  auto s = test_scenario();
  return MemoryQianfanApi(
      Cloud(std::move(s.instances), std::move(s.services),
            {.startup_delay = s.startup_delay, .model_update_duration = s.model_update_duration},
            clock.system_now()),
      clock);
}

TEST_SUITE("fake") {
  TEST_CASE("memory api: refusals carry the HTTP fake's code, status and message") {
    struct Case {
      std::string_view name, service, instance;
      int replicas;
      int status;
      std::string_view code;
    };
    // unit-aaaa0001: 10 units, foreign 2, beta 4, alpha 1 x 2: alpha may have 4 units = 2.
    const Case cases[] = {
        {"just fits", kAlpha, kUnitA, 2, 200, ""},
        {"one replica more", kAlpha, kUnitA, 3, 400, "InsufficientComputeUnits"},
        {"GPU service on the CPU instance", kAlpha, kUnitB, 1, 400, "ResourceTypeMismatch"},
        {"unknown instance", kAlpha, "unit-zzzz9999", 1, 404, "ResourceNotFound"},
        {"unknown service", "svco-zzzzzzzzzzz9", kUnitA, 1, 404, "ResourceNotFound"},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        Harness http;
        auto memory = memory_api(http.clock);
        const auto reply = http.scale(c.service, c.instance, c.replicas);
        const auto got = memory.scale_service({.service = ServiceId{c.service},
                                               .instance = InstanceId{c.instance},
                                               .replicas = Replicas{c.replicas}});
        CHECK(reply.status == c.status);
        if (c.status == 200) {
          CHECK(got.has_value());
          CHECK(memory.describe_service(ServiceId{c.service})->resource_config.replicas ==
                Replicas{c.replicas});
          continue;
        }
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == ErrorCode::Remote);
        CHECK(got.error().http_status == c.status);
        CHECK(got.error().remote_code == c.code);
        CHECK(got.error().message == json_string(reply.body, "/message"));
      }
    }
  }

  TEST_CASE("memory api: DescribeComputeUnit reports hidden units as the HTTP fake does") {
    Harness http;
    auto memory = memory_api(http.clock);
    const auto reply = http.compute_unit(kUnitA);
    const auto got = memory.describe_compute_unit(InstanceId{kUnitA});
    REQUIRE(got.has_value());
    CHECK(got->instance.compute_unit_count.value ==
          json_int(reply.body, "/result/computeUnitInstance/computeUnitCount"));
    CHECK(got->instance.available_compute_unit_count ==
          ComputeUnits{static_cast<int>(
              json_int(reply.body, "/result/computeUnitInstance/availableComputeUnitCount"))});
    CHECK(got->used() == ComputeUnits{6});  // alpha 2 + beta 4; the foreign 2 are not listed
  }

  TEST_CASE("memory api: a service reads the same over both fronts") {
    Harness http;
    auto memory = memory_api(http.clock);
    REQUIRE(memory
                .scale_service({.service = ServiceId{kAlpha},
                                .instance = InstanceId{kUnitA},
                                .replicas = Replicas{2}})
                .has_value());
    REQUIRE(http.scale(kAlpha, kUnitA, 2).status == 200);
    const auto reply = http.describe(kAlpha);
    const auto got = memory.describe_service(ServiceId{kAlpha});
    REQUIRE(got.has_value());
    CHECK(got->run_status_text == json_string(reply.body, "/result/runStatus"));
    CHECK(got->resource_config.replicas.value ==
          json_int(reply.body, "/result/resourceConfig/replicasCount"));
    CHECK(got->is_model_updating == json_bool(reply.body, "/result/isModelUpdating"));
    CHECK(got->create_time == json_string(reply.body, "/result/createTime"));
    CHECK(got->url == json_string(reply.body, "/result/url"));
  }
}

}  // namespace
}  // namespace qfscale::fake::testing
