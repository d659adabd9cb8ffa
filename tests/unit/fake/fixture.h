#pragma once

// Shared by the fake's unit tests: a small scenario, a fake on a ManualClock, requests signed
// with bce::sign exactly as the client signs them, and JSON-pointer reads of replies.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <doctest/doctest.h>
#include <simdjson.h>

#include "qfscale/bce/signer.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/message.h"
#include "qfscale/util/clock.h"

namespace qfscale::fake::testing {

inline constexpr std::string_view kAlpha = "svco-aaaaaaaaaaa1";  // GPU-I-2, qps 5
inline constexpr std::string_view kBeta = "svco-bbbbbbbbbbb2";   // GPU-I-4, qps 2.5
inline constexpr std::string_view kGamma = "svco-ccccccccccc3";  // CPU-I-2, qps 10
inline constexpr std::string_view kUnitA = "unit-aaaa0001";      // 10 units, 2 foreign
inline constexpr std::string_view kUnitB = "unit-bbbb0002";      // 8 units

/// unit-aaaa0001: capacity 10 = foreign 2 + alpha 1x2 + beta 1x4, so 2 units free.
/// unit-bbbb0002: capacity 8 = gamma 2x2, so 4 units free.
inline Scenario test_scenario() {
  using model::ComputeUnits;
  using model::InstanceId;
  using model::Replicas;
  using model::ServiceId;
  Scenario s;
  s.startup_delay = std::chrono::seconds{30};
  s.model_update_duration = std::chrono::seconds{60};
  s.seed = 7;
  s.instances = {
      InstanceSpec{
          .id = InstanceId{kUnitA}, .capacity = ComputeUnits{10}, .foreign_usage = ComputeUnits{2}},
      InstanceSpec{.id = InstanceId{kUnitB}, .type = "cpu-1", .capacity = ComputeUnits{8}},
  };
  s.services = {
      ServiceSpec{.id = ServiceId{kAlpha},
                  .name = "alpha",
                  .type = "GPU-I-2",
                  .qps = 5,
                  .deployments = {{InstanceId{kUnitA}, Replicas{1}}}},
      ServiceSpec{.id = ServiceId{kBeta},
                  .name = "beta",
                  .type = "GPU-I-4",
                  .qps = 2.5,
                  .deployments = {{InstanceId{kUnitA}, Replicas{1}}}},
      ServiceSpec{.id = ServiceId{kGamma},
                  .name = "gamma",
                  .type = "CPU-I-2",
                  .qps = 10,
                  .service_type = "completions",
                  .deployments = {{InstanceId{kUnitB}, Replicas{2}}}},
  };
  return s;
}

inline const bce::Credentials kCredentials{.access_key = "ak-fake-unit-test",
                                           .secret_key = "sk-fake-unit-test-secret"};

/// 2025-01-02T03:04:05Z
inline constexpr util::SystemTime kStart{std::chrono::seconds{1735787045}};

struct SignOptions {
  bce::Credentials credentials = kCredentials;
  std::string host = "127.0.0.1:8765";
  std::optional<util::SystemTime> at;  ///< signing time; the clock's now when empty
  int expiration_seconds = 1800;
};

inline http::Request signed_request(const util::Clock& clock, std::string_view route,
                                    std::string_view action, std::string body,
                                    const SignOptions& options = {}) {
  const auto at = std::chrono::floor<std::chrono::seconds>(options.at.value_or(clock.system_now()));
  http::Request request;
  request.method = "POST";
  request.target = std::string(route) + "?Action=" + std::string(action);
  request.headers = {{"Host", options.host},
                     {"Content-Type", "application/json"},
                     {"Content-Length", std::to_string(body.size())},
                     {"x-bce-date", bce::format_timestamp(at)}};
  bce::CanonicalInput input{
      .method = "POST", .path = std::string(route), .query = {{"Action", std::string(action)}}};
  for (const auto& h : request.headers) input.headers.emplace_back(h.name, h.value);
  const auto signature =
      bce::sign(options.credentials, input,
                bce::SigningOptions{
                    .timestamp = at,
                    .expiration_seconds = options.expiration_seconds,
                    .headers_to_sign = {"content-length", "content-type", "host", "x-bce-date"}});
  request.headers.push_back({"Authorization", signature.authorization});
  request.body = std::move(body);
  return request;
}

struct Harness {
  util::ManualClock clock{kStart};
  std::unique_ptr<FakeQianfan> fake;

  explicit Harness(Scenario scenario = test_scenario()) {
    scenario.credentials = kCredentials;
    auto created = FakeQianfan::create(std::move(scenario), clock);
    REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.error().to_string()));
    fake = std::move(*created);
  }

  http::Response api(std::string_view action, std::string body,
                     std::string_view route = "/v2/service") {
    return fake->handle(signed_request(clock, route, action, std::move(body)));
  }
  http::Response describe(std::string_view service) {
    return api("DescribeService", R"({"serviceId":")" + std::string(service) + "\"}");
  }
  http::Response scale(std::string_view service, std::string_view instance, int replicas) {
    return api("ScaleService", R"({"serviceId":")" + std::string(service) + R"(","instanceId":")" +
                                   std::string(instance) + R"(","deploymentReplicasCount":)" +
                                   std::to_string(replicas) + "}");
  }
  http::Response compute_unit(std::string_view instance) {
    return api("DescribeComputeUnit", R"({"instanceId":")" + std::string(instance) + "\"}",
               "/v2/computeunit");
  }
  http::Response traffic(std::string_view service) {
    http::Request request;
    request.method = "POST";
    request.target = "/traffic/" + std::string(service);
    return fake->handle(request);
  }
  http::Response get(std::string target) {
    http::Request request;
    request.target = std::move(target);
    return fake->handle(request);
  }
};

/// The element at a JSON pointer ("/result/runStatus"); fails the test when absent.
inline simdjson::dom::element at(simdjson::dom::parser& parser, const std::string& body,
                                 std::string_view pointer) {
  simdjson::dom::element root;
  REQUIRE_MESSAGE(parser.parse(body).get(root) == simdjson::SUCCESS, body);
  simdjson::dom::element value;
  const std::string where = std::string(pointer) + " in " + body;
  REQUIRE_MESSAGE(root.at_pointer(pointer).get(value) == simdjson::SUCCESS, where);
  return value;
}

inline std::string json_string(const std::string& body, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::string_view text;
  REQUIRE(at(parser, body, pointer).get_string().get(text) == simdjson::SUCCESS);
  return std::string(text);
}

inline std::int64_t json_int(const std::string& body, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::int64_t value = 0;
  REQUIRE(at(parser, body, pointer).get_int64().get(value) == simdjson::SUCCESS);
  return value;
}

inline double json_double(const std::string& body, std::string_view pointer) {
  simdjson::dom::parser parser;
  double value = 0;
  REQUIRE(at(parser, body, pointer).get_double().get(value) == simdjson::SUCCESS);
  return value;
}

inline bool json_bool(const std::string& body, std::string_view pointer) {
  simdjson::dom::parser parser;
  bool value = false;
  REQUIRE(at(parser, body, pointer).get_bool().get(value) == simdjson::SUCCESS);
  return value;
}

inline bool json_has(const std::string& body, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::element value;
  return root.at_pointer(pointer).get(value) == simdjson::SUCCESS;
}

inline std::size_t json_array_size(const std::string& body, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  REQUIRE(at(parser, body, pointer).get_array().get(array) == simdjson::SUCCESS);
  return array.size();
}

/// Checks the BCE error envelope: status, body code, headers.
inline void check_error(const http::Response& response, int status, std::string_view code) {
  CHECK(response.status == status);
  CHECK(json_string(response.body, "/code") == code);
  CHECK_FALSE(json_string(response.body, "/message").empty());
  CHECK(json_string(response.body, "/requestId").size() == 36);
  CHECK(response.header("X-Bce-Error-Code") == std::optional<std::string_view>(code));
  CHECK(response.header("X-Bce-Error-Message").has_value());
  CHECK(response.header("x-bce-request-id") ==
        std::optional<std::string_view>(json_string(response.body, "/requestId")));
}

}  // namespace qfscale::fake::testing
