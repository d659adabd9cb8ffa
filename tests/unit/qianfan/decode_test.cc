#include "qianfan/decode.h"

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/qianfan/types.h"

#include "unit/qianfan/fixtures.h"

namespace qfscale::qianfan {
namespace {

using test::fixture_reply;
using test::kNow;
using test::reply;

// A valid DescribeService result with `resource` spliced in as resourceConfig and `extra` fields
// appended, so each row changes exactly one thing.
std::string service_body(std::string_view resource, std::string_view extra = "") {
  return std::string(
             R"({"requestId":"r-1","result":{"serviceId":"svco-1","runStatus":"Serving",)") +
         R"("resourceConfig":)" + std::string(resource) + std::string(extra) + "}}";
}
constexpr std::string_view kGoodResource = R"({"type":"GPU-I-2","replicasCount":3,"qps":5})";

TEST_SUITE("qianfan") {
  TEST_CASE("decode: DescribeService recorded reply maps every documented field") {
    const auto got =
        detail::decode_describe_service(fixture_reply("describe_service_ok.json"), kNow);
    REQUIRE(got.has_value());
    const ServiceInfo want{
        .service_id = model::ServiceId{"svco-ktth9mkb5cqn"},
        .base_model = "ERNIE-Speed-8K",
        .model_set_id = "am-bg7n2rn2gsbb",
        .model_id = "amv-nsjesf4ez6q5",
        .name = "support-bot",
        .description = "客服机器人 \"v2\"",
        .url = "https://qianfan.baidubce.com/v2/chat/completions",
        .service_type = "chat",
        .run_status_text = "Serving",
        .run_status = model::RunStatus::Serving,
        .charge_type = "ComputingUnit",
        .pay_type = "Postpay",
        .charge_status = "Normal",
        .resource_config = {.region = "bj",
                            .type = "GPU-I-2",
                            .replicas = model::Replicas{3},
                            .qps = 5.0},
        .is_model_updating = false,
        .creator = "ops-admin",
        .create_time = "2024-11-20T08:15:30Z",
    };
    CHECK(*got == want);
  }

  TEST_CASE("decode: SDK-mock shape without isModelUpdating, with null description and 2.5 qps") {
    const auto got = detail::decode_describe_service(
        fixture_reply("describe_service_sdk_mock_shape.json"), kNow);
    REQUIRE(got.has_value());
    CHECK(got->run_status == model::RunStatus::Deploying);
    CHECK_FALSE(got->is_model_updating);
    CHECK(got->description.empty());
    CHECK(got->resource_config.qps == doctest::Approx(2.5));
    CHECK(got->resource_config.replicas == model::Replicas{1});
    CHECK(got->model_id == "am-old001");  // the older naming is taken literally, not remapped
  }

  TEST_CASE("decode: isModelUpdating true is decoded") {
    const auto got =
        detail::decode_describe_service(fixture_reply("describe_service_updating.json"), kNow);
    REQUIRE(got.has_value());
    CHECK(got->is_model_updating);
    CHECK(got->resource_config.qps == doctest::Approx(7.5));
  }

  TEST_CASE("decode: quirk - a key with a trailing space is not the documented key") {
    // The doc example's "qps " is treated as absent: qps is required, so the reply is refused,
    // and the message names the near miss so an operator sees why.
    const auto got = detail::decode_describe_service(
        fixture_reply("describe_service_key_trailing_space.json"), kNow);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == ErrorCode::Remote);
    CHECK(got.error().request_id == "7d1e2a3b-1111-4c2d-8e9f-222233334444");
    const std::string msg = got.error().to_string();
    CHECK(msg.find("result.resourceConfig.qps") != std::string::npos);
    CHECK(msg.find("\"qps \"") != std::string::npos);
  }

  TEST_CASE("decode: quirk - an optional key with a trailing space is ignored") {
    const auto got = detail::decode_describe_service(
        reply(200, service_body(kGoodResource, R"(,"name ":"x")")), kNow);
    REQUIRE(got.has_value());
    CHECK(got->name.empty());
  }

  TEST_CASE("decode: quirk - Python True is not JSON and is refused with a clear error") {
    const auto got =
        detail::decode_ack(fixture_reply("scale_service_python_true.json"), "ScaleService", kNow);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == ErrorCode::Remote);
    const std::string msg = got.error().to_string();
    CHECK(msg.find("not valid JSON") != std::string::npos);
    CHECK(msg.find("True") != std::string::npos);
  }

  TEST_CASE("decode: DescribeService type and presence rules") {
    struct Case {
      std::string_view name;
      std::string body;
      std::string_view want_in_message;  // empty = must decode
    };
    const Case cases[] = {
        {.name = "baseline decodes", .body = service_body(kGoodResource), .want_in_message = ""},
        {.name = "qps as string",
         .body = service_body(R"({"type":"GPU-I-2","replicasCount":3,"qps":"5"})"),
         .want_in_message = "result.resourceConfig.qps: expected a number, got a string"},
        {.name = "replicasCount decimal",
         .body = service_body(R"({"type":"GPU-I-2","replicasCount":3.0,"qps":5})"),
         .want_in_message = "replicasCount: expected an integer, got a decimal number"},
        {.name = "replicasCount negative",
         .body = service_body(R"({"type":"GPU-I-2","replicasCount":-1,"qps":5})"),
         .want_in_message = "must not be negative"},
        {.name = "replicasCount above int range",
         .body = service_body(R"({"type":"GPU-I-2","replicasCount":2147483648,"qps":5})"),
         .want_in_message = "out of range"},
        {.name = "replicasCount at int max",
         .body = service_body(R"({"type":"GPU-I-2","replicasCount":2147483647,"qps":5})"),
         .want_in_message = ""},
        {.name = "qps negative",
         .body = service_body(R"({"type":"GPU-I-2","replicasCount":3,"qps":-0.5})"),
         .want_in_message = "non-negative"},
        {.name = "type missing",
         .body = service_body(R"({"replicasCount":3,"qps":5})"),
         .want_in_message = "result.resourceConfig.type: required field is missing"},
        {.name = "resourceConfig missing",
         .body = R"({"result":{"serviceId":"svco-1","runStatus":"Serving"}})",
         .want_in_message = "result.resourceConfig: required field is missing"},
        {.name = "resourceConfig is an array",
         .body = service_body("[]"),
         .want_in_message = "expected an object, got an array"},
        {.name = "isModelUpdating as string",
         .body = service_body(kGoodResource, R"(,"isModelUpdating":"false")"),
         .want_in_message = "isModelUpdating: expected true or false, got a string"},
        {.name = "isModelUpdating null means absent",
         .body = service_body(kGoodResource, R"(,"isModelUpdating":null)"),
         .want_in_message = ""},
        {.name = "serviceId empty",
         .body = R"({"result":{"serviceId":"","runStatus":"Serving","resourceConfig":{}}})",
         .want_in_message = "serviceId: must not be empty"},
        {.name = "runStatus missing",
         .body = R"({"result":{"serviceId":"svco-1","resourceConfig":{}}})",
         .want_in_message = "result.runStatus: required field is missing"},
        {.name = "result missing",
         .body = R"({"requestId":"r"})",
         .want_in_message = "result: required field is missing"},
        {.name = "result is true",
         .body = R"({"result":true})",
         .want_in_message = "result: expected an object, got a boolean"},
        {.name = "top level array",
         .body = "[1]",
         .want_in_message = "expected a JSON object, got an array"},
        {.name = "empty body", .body = "", .want_in_message = "not valid JSON"},
        {.name = "truncated body",
         .body = R"({"result":{"serviceId":"svco-1")",
         .want_in_message = "not valid JSON"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto got = detail::decode_describe_service(reply(200, c.body), kNow);
      CHECK(got.has_value() == c.want_in_message.empty());
      if (!got) {
        CHECK(got.error().code == ErrorCode::Remote);
        CHECK(got.error().http_status == 200);
        CHECK_MESSAGE(got.error().message.find(c.want_in_message) != std::string::npos,
                      got.error().message);
      }
    }
  }

  TEST_CASE("decode: unknown runStatus keeps the text and maps to Unknown") {
    const auto got = detail::decode_describe_service(
        reply(200, R"({"result":{"serviceId":"svco-1","runStatus":"Paused","resourceConfig":)" +
                       std::string(kGoodResource) + "}}"),
        kNow);
    REQUIRE(got.has_value());
    CHECK(got->run_status == model::RunStatus::Unknown);
    CHECK(got->run_status_text == "Paused");
  }

  TEST_CASE("decode: ScaleService and ModifyService acknowledgements") {
    const auto scale =
        detail::decode_ack(fixture_reply("scale_service_ok.json"), "ScaleService", kNow);
    REQUIRE(scale.has_value());
    CHECK(scale->request_id == "c0ffee00-3333-4d4e-8f00-444455556666");
    const auto modify =
        detail::decode_ack(fixture_reply("modify_service_ok.json"), "ModifyService", kNow);
    REQUIRE(modify.has_value());
    CHECK(modify->request_id == "d00dfeed-4444-4e5f-9a01-555566667777");

    const auto refused = detail::decode_ack(reply(200, R"({"requestId":"r-9","result":false})"),
                                            "ScaleService", kNow);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::Remote);
    CHECK(refused.error().request_id == "r-9");

    const auto stringly =
        detail::decode_ack(reply(200, R"({"result":"true"})"), "ScaleService", kNow);
    REQUIRE_FALSE(stringly.has_value());
    CHECK(stringly.error().message.find("expected true, got a string") != std::string::npos);
  }

  TEST_CASE("decode: DescribeComputeUnit reads availableComputeUnitCount when it is sent") {
    const auto got = detail::decode_describe_compute_unit(
        reply(200,
              R"({"result":{"computeUnitInstance":{"instanceId":"unit-gdqb1Fot",)"
              R"("computeUnitCount":16,"availableComputeUnitCount":4},"serviceUsageList":[]}})"),
        kNow);
    REQUIRE(got.has_value());
    CHECK(got->instance.available_compute_unit_count == model::ComputeUnits{4});
    const auto negative = detail::decode_describe_compute_unit(
        reply(200, R"({"result":{"computeUnitInstance":{"instanceId":"unit-gdqb1Fot",)"
                   R"("computeUnitCount":16,"availableComputeUnitCount":-1}}})"),
        kNow);
    REQUIRE_FALSE(negative.has_value());
    CHECK(negative.error().message.find("availableComputeUnitCount") != std::string::npos);
  }

  TEST_CASE("decode: DescribeComputeUnit with usage, and without a usage list") {
    const auto got =
        detail::decode_describe_compute_unit(fixture_reply("describe_compute_unit_ok.json"), kNow);
    REQUIRE(got.has_value());
    CHECK(got->instance == ComputeUnitInstance{.instance_id = model::InstanceId{"unit-gdqb1Fot"},
                                               .region = "bj",
                                               .type = "gpu-1",
                                               .status = "Running",
                                               .compute_unit_count = model::ComputeUnits{16}});
    CHECK_FALSE(got->instance.available_compute_unit_count.has_value());  // not sent
    REQUIRE(got->usage.size() == 2);
    CHECK(got->usage[0] == ServiceUsage{.service_id = model::ServiceId{"svco-ktth9mkb5cqn"},
                                        .deployment_replicas_count = model::Replicas{3},
                                        .compute_unit_count = model::ComputeUnits{6}});
    CHECK(got->usage[1].service_id == model::ServiceId{"svco-upd8modl0001"});
    // 16 capacity - (6 + 4) used = 6 free
    CHECK(got->used() == model::ComputeUnits{10});
    CHECK(got->free() == model::ComputeUnits{6});

    const auto unused = detail::decode_describe_compute_unit(
        fixture_reply("describe_compute_unit_unused.json"), kNow);
    REQUIRE(unused.has_value());
    CHECK(unused->usage.empty());
    CHECK(unused->instance.status == "Creating");
    CHECK(unused->free() == model::ComputeUnits{8});

    const auto bad = detail::decode_describe_compute_unit(
        reply(200,
              R"({"result":{"computeUnitInstance":{"instanceId":"unit-1","computeUnitCount":4},)"
              R"("serviceUsageList":[{"serviceId":"svco-1","deploymentReplicasCount":1}]}})"),
        kNow);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.find("result.serviceUsageList[0].computeUnitCount") !=
          std::string::npos);
  }

  TEST_CASE("decode: DescribeServiceMetric sums call totals per service") {
    const auto got = detail::decode_describe_service_metric(
        fixture_reply("describe_service_metric_ok.json"), kNow);
    REQUIRE(got.has_value());
    CHECK(got->start_time == "2025-01-02T03:00:00Z");
    CHECK(got->end_time == "2025-01-02T03:05:00Z");
    REQUIRE(got->services.size() == 1);
    const ServiceMetric& s = got->services[0];
    CHECK(s.service_id == model::ServiceId{"svco-ktth9mkb5cqn"});
    CHECK(s.service_name == "support-bot");
    REQUIRE(s.apps.size() == 2);
    CHECK(s.apps[0].app_id == 101);
    CHECK(s.apps[0].metric == CallMetric{.input_tokens_total = 52000,
                                         .output_tokens_total = 18000,
                                         .tokens_total = 70000,
                                         .succeed_call_total = 1480,
                                         .failure_call_total = 20,
                                         .call_total = 1500});
    CHECK(s.call_total() == 1530);  // 1500 + 30

    const auto bad = detail::decode_describe_service_metric(
        reply(200, R"({"result":{"serviceList":[{"serviceId":"svco-1","appList":[{"appId":"7",)"
                   R"("metric":{}}]}]}})"),
        kNow);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.find("appList[0].appId: expected an integer") != std::string::npos);
  }

  TEST_CASE("decode: DescribeServices pages follow nextMarker only while truncated") {
    const auto first =
        detail::decode_describe_services(fixture_reply("describe_services_page1.json"), kNow);
    REQUIRE(first.has_value());
    CHECK(first->is_truncated);
    CHECK(first->next_marker == "svco-upd8modl0001");
    REQUIRE(first->services.size() == 2);
    CHECK(first->services[1].resource_config.replicas == model::Replicas{3});

    const auto last =
        detail::decode_describe_services(fixture_reply("describe_services_last.json"), kNow);
    REQUIRE(last.has_value());
    CHECK_FALSE(last->is_truncated);
    CHECK(last->next_marker.empty());
    REQUIRE(last->services.size() == 1);
    CHECK(last->services[0].run_status == model::RunStatus::Serving);

    const auto endless = detail::decode_describe_services(
        reply(200, R"({"result":{"isTruncated":true,"serviceList":[]}})"), kNow);
    REQUIRE_FALSE(endless.has_value());
    CHECK(endless.error().message.find("nextMarker") != std::string::npos);
  }

  TEST_CASE("decode: an error envelope wins over decoding") {
    const auto got =
        detail::decode_describe_service(fixture_reply("error_access_denied.json", 403), kNow);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().remote_code == "AccessDenied");
    CHECK(got.error().request_id == "e7700001-5555-4f60-8b12-666677778888");
    CHECK(got.error().http_status == 403);
  }
}

}  // namespace
}  // namespace qfscale::qianfan
