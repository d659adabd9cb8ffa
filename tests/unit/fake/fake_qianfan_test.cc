#include "qfscale/fake/fake_qianfan.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "unit/fake/fixture.h"

namespace qfscale::fake {
namespace {

using namespace std::chrono_literals;
using testing::check_error;
using testing::Harness;
using testing::json_bool;
using testing::json_double;
using testing::json_has;
using testing::json_int;
using testing::json_string;
using testing::kAlpha;
using testing::kBeta;
using testing::kGamma;
using testing::kUnitA;
using testing::kUnitB;

TEST_SUITE("fake") {
  TEST_CASE("fake: DescribeService returns the documented fields") {
    Harness h;
    const auto r = h.describe(kAlpha);
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type").value_or("").find("application/json") == 0);
    CHECK(json_string(r.body, "/requestId").size() == 36);
    CHECK(r.header("x-bce-request-id") ==
          std::optional<std::string_view>(json_string(r.body, "/requestId")));
    CHECK(json_string(r.body, "/result/serviceId") == kAlpha);
    CHECK(json_string(r.body, "/result/name") == "alpha");
    CHECK(json_string(r.body, "/result/runStatus") == "Serving");
    CHECK(json_string(r.body, "/result/resourceConfig/type") == "GPU-I-2");
    CHECK(json_int(r.body, "/result/resourceConfig/replicasCount") == 1);
    CHECK(json_double(r.body, "/result/resourceConfig/qps") == 5.0);
    CHECK(json_string(r.body, "/result/resourceConfig/region") == "bj");
    CHECK_FALSE(json_bool(r.body, "/result/isModelUpdating"));
    CHECK(json_string(r.body, "/result/modelSetId").rfind("am-", 0) == 0);
    CHECK(json_string(r.body, "/result/modelId").rfind("amv-", 0) == 0);
    CHECK(json_string(r.body, "/result/serviceType") == "chat");
    CHECK(json_string(r.body, "/result/createTime") == "2025-01-02T03:04:05Z");
    CHECK(json_string(r.body, "/result/url") == "http://qianfan.fake/traffic/svco-aaaaaaaaaaa1");
    for (const auto* key : {"/result/baseModel", "/result/description", "/result/chargeType",
                            "/result/payType", "/result/chargeStatus", "/result/creator"}) {
      CAPTURE(key);
      CHECK(json_has(r.body, key));
    }
    // qps with a fraction is sent as such.
    CHECK(json_double(h.describe(kBeta).body, "/result/resourceConfig/qps") == 2.5);
  }

  TEST_CASE("fake: request ids are unique and uuid-shaped") {
    Harness h;
    const auto a = json_string(h.describe(kAlpha).body, "/requestId");
    const auto b = json_string(h.describe(kAlpha).body, "/requestId");
    CHECK(a != b);
    CHECK(a[8] == '-');
    CHECK(a[13] == '-');
    CHECK(a[14] == '4');
    CHECK(a[18] == '-');
    CHECK(a[23] == '-');
  }

  TEST_CASE("fake: ScaleService up, down and to zero on a second instance") {
    // Both instances GPU here, so that alpha may go to unit B (gamma as GPU-I-2 takes the same
    // 2 units per replica).
    Scenario s = testing::test_scenario();
    s.instances[1].type = "gpu-1";
    s.services[2].type = "GPU-I-2";
    Harness h(s);
    auto r = h.scale(kAlpha, kUnitB, 2);
    REQUIRE(r.status == 200);
    CHECK(json_bool(r.body, "/result"));
    CHECK(json_int(h.describe(kAlpha).body, "/result/resourceConfig/replicasCount") == 3);
    auto unit = h.compute_unit(kUnitB);
    REQUIRE(unit.status == 200);
    // gamma 2x2 = 4 units, alpha 2x2 = 4 units: the instance (8) is full.
    CHECK(json_int(unit.body, "/result/computeUnitInstance/availableComputeUnitCount") == 0);
    CHECK(testing::json_array_size(unit.body, "/result/serviceUsageList") == 2);
    CHECK(json_string(unit.body, "/result/serviceUsageList/0/serviceId") == kAlpha);
    CHECK(json_int(unit.body, "/result/serviceUsageList/0/deploymentReplicasCount") == 2);
    CHECK(json_int(unit.body, "/result/serviceUsageList/0/computeUnitCount") == 4);

    // 0 removes the instance from the service.
    REQUIRE(h.scale(kAlpha, kUnitB, 0).status == 200);
    unit = h.compute_unit(kUnitB);
    CHECK(testing::json_array_size(unit.body, "/result/serviceUsageList") == 1);
    CHECK(json_string(unit.body, "/result/serviceUsageList/0/serviceId") == kGamma);
    CHECK(json_int(h.describe(kAlpha).body, "/result/resourceConfig/replicasCount") == 1);
    // Scaling to 0 where the service has nothing is a no-op success.
    CHECK(h.scale(kAlpha, kUnitB, 0).status == 200);
  }

  TEST_CASE("fake: ScaleService refuses a service on an instance of the other resource kind") {
    Harness h;
    // alpha is GPU-I-2, unit B is cpu-1; gamma is CPU-I-2, unit A is gpu-1 (the default type).
    auto r = h.scale(kAlpha, kUnitB, 1);
    check_error(r, 400, "ResourceTypeMismatch");
    CHECK(json_string(r.body, "/message")
              .find("GPU-I-2 is a GPU type but instance type cpu-1 is "
                    "CPU") != std::string::npos);
    check_error(h.scale(kGamma, kUnitA, 1), 400, "ResourceTypeMismatch");
    // Nothing moved: unit B still holds gamma's 2 x 2 units only.
    CHECK(json_int(h.compute_unit(kUnitB).body,
                   "/result/computeUnitInstance/availableComputeUnitCount") == 4);
    CHECK(json_int(h.describe(kAlpha).body, "/result/resourceConfig/replicasCount") == 1);
    // Its own kind is fine.
    CHECK(h.scale(kGamma, kUnitB, 3).status == 200);
  }

  TEST_CASE("fake: ScaleService enforces what the instance has left, exactly") {
    // unit-aaaa0001: capacity 10, foreign 2, beta 1 x GPU-I-4 = 4. What alpha (GPU-I-2) may use
    // there: 10 - 2 - 4 = 4 units, i.e. 2 replicas. Its own current replica does not count.
    struct Case {
      std::string_view name;
      int replicas;
      int want_status;
    };
    const Case cases[] = {
        {.name = "below: 1 x 2 = 2 <= 4", .replicas = 1, .want_status = 200},
        {.name = "at: 2 x 2 = 4 <= 4", .replicas = 2, .want_status = 200},
        {.name = "above: 3 x 2 = 6 > 4", .replicas = 3, .want_status = 400},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      Harness h;
      const auto r = h.scale(kAlpha, kUnitA, c.replicas);
      CHECK(r.status == c.want_status);
      const int want_replicas = c.want_status == 200 ? c.replicas : 1;
      CHECK(json_int(h.describe(kAlpha).body, "/result/resourceConfig/replicasCount") ==
            want_replicas);
    }

    Harness h;
    const auto refused = h.scale(kAlpha, kUnitA, 3);
    check_error(refused, 400, "InsufficientComputeUnits");
    const auto message = json_string(refused.body, "/message");
    CHECK(message.find("instance unit-aaaa0001 has 4 compute units left; 3 replicas of GPU-I-2 "
                       "need 6") != std::string::npos);
    CHECK(message.find("at most 2 replicas") != std::string::npos);

    // beta (GPU-I-4) with alpha at 2: 10 - 2 - 4 = 4 left -> 1 replica fits, 2 (8) do not.
    REQUIRE(h.scale(kAlpha, kUnitA, 2).status == 200);
    CHECK(h.scale(kBeta, kUnitA, 1).status == 200);
    const auto beta_refused = h.scale(kBeta, kUnitA, 2);
    check_error(beta_refused, 400, "InsufficientComputeUnits");
    CHECK(json_string(beta_refused.body, "/message")
              .find("has 4 compute units left; 2 replicas of GPU-I-4 need 8") != std::string::npos);
    // Scale-down always fits and frees units at once: beta 0 leaves 10 - 2 - 4 = 4 for others.
    CHECK(h.scale(kBeta, kUnitA, 0).status == 200);
    CHECK(json_int(h.compute_unit(kUnitA).body,
                   "/result/computeUnitInstance/availableComputeUnitCount") == 4);
  }

  TEST_CASE("fake: ScaleService rejects bad bodies with clear codes") {
    struct Case {
      std::string_view name;
      std::string body;
      int want_status;
      std::string_view want_code;
      std::string_view want_in_message;
    };
    const std::string ids = R"("serviceId":"svco-aaaaaaaaaaa1","instanceId":"unit-aaaa0001")";
    const Case cases[] = {
        {"not JSON", "{\"serviceId\":", 400, "MalformedJSON", "not well-formed"},
        {"array body", "[1,2]", 400, "InvalidHTTPRequest", "JSON object"},
        {"missing count", "{" + ids + "}", 400, "InappropriateJSON",
         "missing required field 'deploymentReplicasCount'"},
        {"missing service", R"({"instanceId":"unit-aaaa0001","deploymentReplicasCount":1})", 400,
         "InappropriateJSON", "missing required field 'serviceId'"},
        {"string count", "{" + ids + R"(,"deploymentReplicasCount":"2"})", 400, "InappropriateJSON",
         "must be an integer, got a string"},
        {"fractional count", "{" + ids + R"(,"deploymentReplicasCount":1.5})", 400,
         "InappropriateJSON", "whole number"},
        {"negative count", "{" + ids + R"(,"deploymentReplicasCount":-1})", 400,
         "InappropriateJSON", "between 0 and"},
        {"numeric service id",
         R"({"serviceId":5,"instanceId":"unit-aaaa0001","deploymentReplicasCount":1})", 400,
         "InappropriateJSON", "must be a string"},
        {"unknown service",
         R"({"serviceId":"svco-zzzzzzzzzzzz","instanceId":"unit-aaaa0001","deploymentReplicasCount":1})",
         404, "ResourceNotFound", "svco-zzzzzzzzzzzz"},
        {"unknown instance",
         R"({"serviceId":"svco-aaaaaaaaaaa1","instanceId":"unit-zzzz9999","deploymentReplicasCount":1})",
         404, "ResourceNotFound", "unit-zzzz9999"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      Harness h;
      const auto r = h.api("ScaleService", c.body);
      check_error(r, c.want_status, c.want_code);
      CHECK(json_string(r.body, "/message").find(c.want_in_message) != std::string::npos);
    }
  }

  TEST_CASE("fake: unknown action, wrong route and wrong method") {
    Harness h;
    auto r = h.api("DeleteEverything", "{}");
    check_error(r, 400, "InvalidURI");
    CHECK(json_string(r.body, "/message").find("DescribeService") != std::string::npos);
    check_error(h.api("DescribeComputeUnit", R"({"instanceId":"unit-aaaa0001"})"), 400,
                "InvalidURI");
    check_error(h.api("DescribeService", R"({"serviceId":"svco-aaaaaaaaaaa1"})", "/v2/computeunit"),
                400, "InvalidURI");
    auto get = testing::signed_request(h.clock, "/v2/service", "DescribeService", "");
    get.method = "GET";
    check_error(h.fake->handle(get), 405, "MethodNotAllowed");
    auto text = testing::signed_request(h.clock, "/v2/service", "DescribeService",
                                        R"({"serviceId":"svco-aaaaaaaaaaa1"})");
    for (auto& x : text.headers) {
      if (x.name == "Content-Type") x.value = "text/plain";
    }
    // Content-Type is signed, so re-sign is needed for the body check; an unsigned change is a
    // signature error first.
    check_error(h.fake->handle(text), 400, "SignatureDoesNotMatch");
  }

  TEST_CASE("fake: signature problems get the BCE auth codes") {
    Harness h;
    const std::string body = R"({"serviceId":"svco-aaaaaaaaaaa1"})";
    const auto good = [&] {
      return testing::signed_request(h.clock, "/v2/service", "DescribeService", body);
    };
    SUBCASE("missing Authorization") {
      auto request = good();
      std::erase_if(request.headers,
                    [](const http::Header& x) { return x.name == "Authorization"; });
      check_error(h.fake->handle(request), 400, "InvalidHTTPAuthHeader");
    }
    SUBCASE("malformed Authorization") {
      auto request = good();
      for (auto& x : request.headers) {
        if (x.name == "Authorization") x.value = "bce-auth-v1/garbage";
      }
      check_error(h.fake->handle(request), 400, "InvalidHTTPAuthHeader");
    }
    SUBCASE("unknown access key") {
      const auto r = h.fake->handle(testing::signed_request(
          h.clock, "/v2/service", "DescribeService", body,
          {.credentials = {.access_key = "ak-nobody", .secret_key = "sk-test-fake-secret"}}));
      check_error(r, 403, "InvalidAccessKeyId");
    }
    SUBCASE("wrong secret key") {
      const auto r = h.fake->handle(
          testing::signed_request(h.clock, "/v2/service", "DescribeService", body,
                                  {.credentials = {.access_key = testing::kCredentials.access_key,
                                                   .secret_key = "sk-wrong-secret-value"}}));
      check_error(r, 400, "SignatureDoesNotMatch");
      // The secret is never echoed.
      CHECK(r.body.find("sk-wrong-secret-value") == std::string::npos);
      CHECK(r.body.find(testing::kCredentials.secret_key) == std::string::npos);
    }
    SUBCASE("signed header changed after signing") {
      auto request = good();
      for (auto& x : request.headers) {
        if (x.name == "Host") x.value = "evil.example:8765";
      }
      check_error(h.fake->handle(request), 400, "SignatureDoesNotMatch");
    }
    SUBCASE("expired: signed 1800 s ago is the edge") {
      // Signed at t with expiration 1800: valid through t + 1800, expired at t + 1801.
      auto request = good();
      h.clock.advance(1800s);
      CHECK(h.fake->handle(request).status == 200);
      h.clock.advance(1s);
      check_error(h.fake->handle(request), 400, "RequestExpired");
    }
  }

  TEST_CASE("fake: a signature made for another host is refused once the fake knows its address") {
    Harness h;
    const std::string body = R"({"serviceId":"svco-aaaaaaaaaaa1"})";
    const auto signed_for = [&](std::string host) {
      return h.fake->handle(testing::signed_request(h.clock, "/v2/service", "DescribeService", body,
                                                    {.host = std::move(host)}));
    };
    // Before serve_at (unit tests that call handle directly) any Host goes.
    CHECK(signed_for("qianfan.baidubce.com").status == 200);

    h.fake->serve_at("127.0.0.1:8765");
    CHECK(signed_for("127.0.0.1:8765").status == 200);
    CHECK(signed_for("LOCALHOST:8765").status == 200);  // host names are case-insensitive
    const auto elsewhere = signed_for("qianfan.baidubce.com");
    check_error(elsewhere, 400, "SignatureDoesNotMatch");
    CHECK(json_string(elsewhere.body, "/message").find("127.0.0.1:8765") != std::string::npos);
    check_error(signed_for("127.0.0.1:9999"), 400, "SignatureDoesNotMatch");
    check_error(signed_for("127.0.0.1"), 400, "SignatureDoesNotMatch");

    SUBCASE("and one that does not sign the Host at all") {
      const auto signed_at = std::chrono::floor<std::chrono::seconds>(testing::kStart);
      http::Request request;
      request.method = "POST";
      request.target = "/v2/service?Action=DescribeService";
      request.headers = {{"Host", "127.0.0.1:8765"},
                         {"Content-Type", "application/json"},
                         {"x-bce-date", bce::format_timestamp(signed_at)}};
      bce::CanonicalInput input{
          .method = "POST", .path = "/v2/service", .query = {{"Action", "DescribeService"}}};
      for (const auto& x : request.headers) input.headers.emplace_back(x.name, x.value);
      const auto signature = bce::sign(testing::kCredentials, input,
                                       {.timestamp = signed_at,
                                        .expiration_seconds = 1800,
                                        .headers_to_sign = {"content-type", "x-bce-date"}});
      request.headers.push_back({"Authorization", signature.authorization});
      request.body = body;
      check_error(h.fake->handle(request), 400, "SignatureDoesNotMatch");
    }
  }

  TEST_CASE("fake: a signature valid for more than an hour is refused, however old") {
    Harness h;
    const std::string body = R"({"serviceId":"svco-aaaaaaaaaaa1"})";
    const auto signed_with = [&](int expiration, util::SystemTime at) {
      return h.fake->handle(testing::signed_request(h.clock, "/v2/service", "DescribeService", body,
                                                    {.at = at, .expiration_seconds = expiration}));
    };
    CHECK(signed_with(3600, testing::kStart).status == 200);
    check_error(signed_with(3601, testing::kStart), 400, "InvalidHTTPAuthHeader");
    // Signed ten years ago for ten years: it has not expired, and still must not pass.
    constexpr int kTenYears = 10 * 365 * 24 * 3600;
    const auto ten_years_ago = testing::kStart - std::chrono::seconds{kTenYears - 60};
    const auto old = signed_with(kTenYears, ten_years_ago);
    check_error(old, 400, "InvalidHTTPAuthHeader");
    CHECK(json_string(old.body, "/message").find("expirationPeriodInSeconds") != std::string::npos);
    // Within the cap the usual expiry rule applies.
    check_error(signed_with(1800, testing::kStart - 1801s), 400, "RequestExpired");
  }

  TEST_CASE("fake: an over-long id is a 400 that quotes neither body nor header") {
    Harness h;
    const std::string huge(70 * 1024, 'x');
    const auto r = h.describe(huge);
    check_error(r, 400, "InappropriateJSON");
    CHECK(json_string(r.body, "/message") == "field 'serviceId' is 71680 bytes long, at most 128");
    for (const auto& header : r.headers) {
      CAPTURE(header.name);
      CHECK(header.value.size() < 200);
    }
    CHECK(r.header("X-Bce-Error-Message") ==
          std::optional<std::string_view>("The JSON you provided was well-formed and valid, but "
                                          "not appropriate for this operation."));
    // 128 is still an id (unknown, so 404); lists are capped too.
    check_error(h.describe(std::string(128, 'x')), 404, "ResourceNotFound");
    check_error(h.api("DescribeServices", R"({"runStatus":[")" + huge + R"("]})"), 400,
                "InappropriateJSON");
  }

  TEST_CASE("fake: error headers carry the code's fixed text, never the request's") {
    Harness h;
    const auto r = h.describe("svco-<script>-unknown");
    check_error(r, 404, "ResourceNotFound");
    CHECK(json_string(r.body, "/message").find("svco-<script>-unknown") != std::string::npos);
    CHECK(r.header("X-Bce-Error-Message") ==
          std::optional<std::string_view>("The resource does not exist."));
  }

  TEST_CASE("fake: new replicas are ready exactly when the startup delay has passed") {
    Harness h;
    // gamma: scale to 0, then to 1 -> no ready replica, one pending: Deploying.
    REQUIRE(h.scale(kGamma, kUnitB, 0).status == 200);
    CHECK(json_string(h.describe(kGamma).body, "/result/runStatus") == "Serving");
    REQUIRE(h.scale(kGamma, kUnitB, 1).status == 200);
    CHECK(json_string(h.describe(kGamma).body, "/result/runStatus") == "Deploying");
    CHECK(json_int(h.describe(kGamma).body, "/result/resourceConfig/replicasCount") == 1);
    h.clock.advance(30s - 1ns);
    CHECK(json_string(h.describe(kGamma).body, "/result/runStatus") == "Deploying");
    CHECK(h.traffic(kGamma).status == 429);  // nothing ready: 0 x 10 qps
    h.clock.advance(1ns);
    CHECK(json_string(h.describe(kGamma).body, "/result/runStatus") == "Serving");
    CHECK(h.traffic(kGamma).status == 200);

    // alpha is Serving with 1 ready; a scale-up to 2 keeps it Serving while the new one starts.
    REQUIRE(h.scale(kAlpha, kUnitA, 2).status == 200);
    CHECK(json_string(h.describe(kAlpha).body, "/result/runStatus") == "Serving");
    auto metrics = h.get("/metrics").body;
    CHECK(metrics.find("qfscale_fake_ready_replicas{service=\"svco-aaaaaaaaaaa1\"} 1\n") !=
          std::string::npos);
    CHECK(metrics.find("qfscale_fake_replicas{service=\"svco-aaaaaaaaaaa1\"} 2\n") !=
          std::string::npos);
    h.clock.advance(30s);
    metrics = h.get("/metrics").body;
    CHECK(metrics.find("qfscale_fake_ready_replicas{service=\"svco-aaaaaaaaaaa1\"} 2\n") !=
          std::string::npos);
  }

  TEST_CASE("fake: scale-down removes starting replicas first and is immediate") {
    Harness h;
    REQUIRE(h.scale(kAlpha, kUnitA, 2).status == 200);  // 1 ready + 1 starting
    REQUIRE(h.scale(kAlpha, kUnitA, 1).status == 200);  // the starting one goes
    const auto metrics = h.get("/metrics").body;
    CHECK(metrics.find("qfscale_fake_ready_replicas{service=\"svco-aaaaaaaaaaa1\"} 1\n") !=
          std::string::npos);
    CHECK(json_string(h.describe(kAlpha).body, "/result/runStatus") == "Serving");
  }

  TEST_CASE("fake: ModifyService opens a model-update window, then switches the model") {
    Harness h;
    const auto before = h.describe(kAlpha).body;
    const auto old_model = json_string(before, "/result/modelId");
    auto r = h.api(
        "ModifyService",
        R"({"serviceId":"svco-aaaaaaaaaaa1","modelSetId":"am-set002","modelId":"amv-ver002"})");
    REQUIRE(r.status == 200);
    CHECK(json_bool(r.body, "/result"));
    auto d = h.describe(kAlpha).body;
    CHECK(json_bool(d, "/result/isModelUpdating"));
    CHECK(json_string(d, "/result/modelId") == old_model);
    h.clock.advance(60s - 1ms);
    CHECK(json_bool(h.describe(kAlpha).body, "/result/isModelUpdating"));
    h.clock.advance(1ms);
    d = h.describe(kAlpha).body;
    CHECK_FALSE(json_bool(d, "/result/isModelUpdating"));
    CHECK(json_string(d, "/result/modelSetId") == "am-set002");
    CHECK(json_string(d, "/result/modelId") == "amv-ver002");

    check_error(h.api("ModifyService",
                      R"({"serviceId":"svco-aaaaaaaaaaa1","modelSetId":"x","modelId":"amv-1"})"),
                400, "InappropriateJSON");
    check_error(h.api("ModifyService", R"({"serviceId":"svco-aaaaaaaaaaa1","modelSetId":"am-1"})"),
                400, "InappropriateJSON");
  }

  TEST_CASE("fake: a second ModifyService during a model update is refused, the first kept") {
    Harness h;
    REQUIRE(
        h.api(
             "ModifyService",
             R"({"serviceId":"svco-aaaaaaaaaaa1","modelSetId":"am-set002","modelId":"amv-ver002"})")
            .status == 200);
    h.clock.advance(20s);
    auto r = h.api(
        "ModifyService",
        R"({"serviceId":"svco-aaaaaaaaaaa1","modelSetId":"am-set003","modelId":"amv-ver003"})");
    check_error(r, 409, "ModelUpdateInProgress");
    CHECK(json_string(r.body, "/message").find("40000 ms") != std::string::npos);
    // The first update's window is unchanged: it ends 60 s after it began, with its target.
    h.clock.advance(40s - 1ms);
    CHECK(json_bool(h.describe(kAlpha).body, "/result/isModelUpdating"));
    h.clock.advance(1ms);
    auto d = h.describe(kAlpha).body;
    CHECK_FALSE(json_bool(d, "/result/isModelUpdating"));
    CHECK(json_string(d, "/result/modelId") == "amv-ver002");
    // Once it is done, the next update is accepted.
    CHECK(
        h.api(
             "ModifyService",
             R"({"serviceId":"svco-aaaaaaaaaaa1","modelSetId":"am-set003","modelId":"amv-ver003"})")
            .status == 200);
  }

  TEST_CASE("fake: inventory lists instances, then services with replicas per instance") {
    Harness h;
    REQUIRE(h.scale(kGamma, kUnitB, 3).status == 200);
    const std::vector<std::string> want = {
        "instance unit-aaaa0001 type gpu-1 capacity 10 used 8",
        "instance unit-bbbb0002 type cpu-1 capacity 8 used 6",
        "service svco-aaaaaaaaaaa1 type GPU-I-2 replicas unit-aaaa0001=1",
        "service svco-bbbbbbbbbbb2 type GPU-I-4 replicas unit-aaaa0001=1",
        "service svco-ccccccccccc3 type CPU-I-2 replicas unit-bbbb0002=3",
    };
    CHECK(h.fake->inventory() == want);
  }

  TEST_CASE("fake: DescribeServices pages with markers and filters") {
    Harness h;
    auto page = h.api("DescribeServices", R"({"maxKeys":2})").body;
    CHECK(testing::json_array_size(page, "/result/serviceList") == 2);
    CHECK(json_string(page, "/result/serviceList/0/serviceId") == kAlpha);
    CHECK(json_string(page, "/result/serviceList/1/serviceId") == kBeta);
    CHECK(json_bool(page, "/result/isTruncated"));
    CHECK(json_int(page, "/result/maxKeys") == 2);
    const auto next = json_string(page, "/result/nextMarker");
    CHECK(next == kGamma);
    page = h.api("DescribeServices", R"({"maxKeys":2,"marker":")" + next + "\"}").body;
    CHECK(testing::json_array_size(page, "/result/serviceList") == 1);
    CHECK(json_string(page, "/result/serviceList/0/serviceId") == kGamma);
    CHECK_FALSE(json_bool(page, "/result/isTruncated"));
    CHECK_FALSE(json_has(page, "/result/nextMarker"));

    // Defaults (an empty body is {}), name filter, runStatus and serviceType filters.
    CHECK(testing::json_array_size(h.api("DescribeServices", "").body, "/result/serviceList") == 3);
    page = h.api("DescribeServices", R"({"name":"ALP"})").body;
    CHECK(testing::json_array_size(page, "/result/serviceList") == 1);
    REQUIRE(h.scale(kGamma, kUnitB, 0).status == 200);
    REQUIRE(h.scale(kGamma, kUnitB, 1).status == 200);
    page = h.api("DescribeServices", R"({"runStatus":["Deploying"]})").body;
    CHECK(testing::json_array_size(page, "/result/serviceList") == 1);
    CHECK(json_string(page, "/result/serviceList/0/serviceId") == kGamma);
    page = h.api("DescribeServices", R"({"serviceType":["completions"]})").body;
    CHECK(testing::json_array_size(page, "/result/serviceList") == 1);
    page = h.api("DescribeServices", R"({"pageReverse":true,"maxKeys":1})").body;
    CHECK(json_string(page, "/result/serviceList/0/serviceId") == kGamma);
    CHECK(json_string(page, "/result/nextMarker") == kBeta);

    check_error(h.api("DescribeServices", R"({"maxKeys":101})"), 400, "InappropriateJSON");
    check_error(h.api("DescribeServices", R"({"maxKeys":0})"), 400, "InappropriateJSON");
    check_error(h.api("DescribeServices", R"({"runStatus":"Serving"})"), 400, "InappropriateJSON");
    check_error(h.api("DescribeServices", R"({"runStatus":["Sleeping"]})"), 400,
                "InappropriateJSON");
  }

  TEST_CASE("fake: DescribeComputeUnit reports capacity and usage") {
    Harness h;
    const auto r = h.compute_unit(kUnitA);
    REQUIRE(r.status == 200);
    CHECK(json_string(r.body, "/result/computeUnitInstance/instanceId") == kUnitA);
    CHECK(json_string(r.body, "/result/computeUnitInstance/region") == "bj");
    CHECK(json_string(r.body, "/result/computeUnitInstance/type") == "gpu-1");
    CHECK(json_string(r.body, "/result/computeUnitInstance/status") == "Running");
    CHECK(json_int(r.body, "/result/computeUnitInstance/computeUnitCount") == 10);
    // 10 - foreign 2 - alpha 2 - beta 4 = 2.
    CHECK(json_int(r.body, "/result/computeUnitInstance/availableComputeUnitCount") == 2);
    CHECK(testing::json_array_size(r.body, "/result/serviceUsageList") == 2);
    CHECK(json_string(r.body, "/result/serviceUsageList/1/serviceId") == kBeta);
    CHECK(json_int(r.body, "/result/serviceUsageList/1/computeUnitCount") == 4);
    check_error(h.compute_unit("unit-nope0000"), 404, "ResourceNotFound");
  }

  TEST_CASE("fake: the traffic endpoint serves ready replicas x qps per second") {
    Harness h;
    // alpha: 1 ready x 5 qps = 5 per second.
    for (int i = 0; i < 5; ++i) CHECK(h.traffic(kAlpha).status == 200);
    const auto rejected = h.traffic(kAlpha);
    CHECK(rejected.status == 429);
    CHECK(rejected.body.find("\"error_code\":18") != std::string::npos);
    h.clock.advance(999ms);  // still the same wall-clock second
    CHECK(h.traffic(kAlpha).status == 429);
    h.clock.advance(1ms);  // next second
    CHECK(h.traffic(kAlpha).status == 200);
    // beta: 1 ready x 2.5 qps = floor(2.5) = 2 per second.
    CHECK(h.traffic(kBeta).status == 200);
    CHECK(h.traffic(kBeta).status == 200);
    CHECK(h.traffic(kBeta).status == 429);
    CHECK(h.traffic("svco-nope00000000").status == 404);

    const auto metrics = h.get("/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.header("Content-Type").value_or("").find("text/plain") == 0);
    const auto& m = metrics.body;
    CHECK(m.find("# TYPE qfscale_fake_requests_total counter\n") != std::string::npos);
    CHECK(
        m.find(
            "qfscale_fake_requests_total{service=\"svco-aaaaaaaaaaa1\",outcome=\"served\"} 6\n") !=
        std::string::npos);
    CHECK(m.find("qfscale_fake_requests_total{service=\"svco-aaaaaaaaaaa1\",outcome=\"rejected\"} "
                 "2\n") != std::string::npos);
    CHECK(m.find("qfscale_fake_capacity_qps{service=\"svco-bbbbbbbbbbb2\"} 2\n") !=
          std::string::npos);
    CHECK(
        m.find(
            "qfscale_fake_instance_capacity_compute_units{compute_unit=\"unit-aaaa0001\"} 10\n") !=
        std::string::npos);
    CHECK(m.find("qfscale_fake_instance_used_compute_units{compute_unit=\"unit-aaaa0001\"} 8\n") !=
          std::string::npos);

    // DescribeServiceMetric counts the same requests over [start, end).
    // Requests were at 03:04:05 (5 served, 2 rejected) and 03:04:06 (1 served).
    auto r = h.api(
        "DescribeServiceMetric",
        R"({"serviceIds":["svco-aaaaaaaaaaa1"],"startTime":"2025-01-02T03:04:05Z","endTime":"2025-01-02T03:04:07Z"})");
    REQUIRE(r.status == 200);
    CHECK(json_string(r.body, "/result/startTime") == "2025-01-02T03:04:05Z");
    CHECK(json_string(r.body, "/result/serviceList/0/serviceName") == "alpha");
    CHECK(json_int(r.body, "/result/serviceList/0/appList/0/metric/callTotal") == 8);
    CHECK(json_int(r.body, "/result/serviceList/0/appList/0/metric/succeedCallTotal") == 6);
    CHECK(json_int(r.body, "/result/serviceList/0/appList/0/metric/failureCallTotal") == 2);
    r = h.api(
        "DescribeServiceMetric",
        R"({"serviceId":"svco-aaaaaaaaaaa1","startTime":"2025-01-02T03:04:06Z","endTime":"2025-01-02T03:04:07Z"})");
    CHECK(json_int(r.body, "/result/serviceList/0/appList/0/metric/callTotal") == 1);
    check_error(
        h.api(
            "DescribeServiceMetric",
            R"({"serviceIds":["svco-aaaaaaaaaaa1"],"startTime":"yesterday","endTime":"2025-01-02T03:04:07Z"})"),
        400, "InappropriateJSON");
    check_error(
        h.api(
            "DescribeServiceMetric",
            R"({"serviceIds":["svco-aaaaaaaaaaa1"],"startTime":"2025-01-02T03:04:07Z","endTime":"2025-01-02T03:04:07Z"})"),
        400, "InappropriateJSON");
    check_error(h.api("DescribeServiceMetric",
                      R"({"startTime":"2025-01-02T03:04:05Z","endTime":"2025-01-02T03:04:07Z"})"),
                400, "InappropriateJSON");
  }

  TEST_CASE("fake: API requests are counted by action and code") {
    Harness h;
    (void)h.describe(kAlpha);
    (void)h.describe("svco-zzzzzzzzzzzz");
    const auto m = h.get("/metrics").body;
    CHECK(m.find("qfscale_fake_api_requests_total{action=\"DescribeService\",code=\"OK\"} 1\n") !=
          std::string::npos);
    CHECK(m.find("qfscale_fake_api_requests_total{action=\"DescribeService\",code="
                 "\"ResourceNotFound\"} 1\n") != std::string::npos);
  }

  TEST_CASE("fake: injected error rate 1.0 always returns that code") {
    struct Case {
      std::string_view code;
      int status;
    };
    const Case cases[] = {
        {"InternalError", 500}, {"RequestLimitExceeded", 429}, {"ServiceUnavailable", 503}};
    for (const auto& c : cases) {
      CAPTURE(c.code);
      Harness h;
      ActionFaults f;
      f.error_rates = {{std::string(c.code), 1.0}};
      h.fake->set_faults(Faults{.actions = {{"DescribeService", f}}});
      for (int i = 0; i < 20; ++i) {
        const auto r = h.describe(kAlpha);
        check_error(r, c.status, c.code);
        // Only throttling says when to come back: 1 s, as the throttleQps window does.
        CHECK(r.header("Retry-After") == (c.code == "RequestLimitExceeded"
                                              ? std::optional<std::string_view>("1")
                                              : std::nullopt));
      }
      // Other actions are untouched.
      CHECK(h.compute_unit(kUnitA).status == 200);
    }
  }

  TEST_CASE("fake: latency, drops and throttling") {
    Harness h;
    ActionFaults slow;
    slow.latency = 250ms;
    ActionFaults drop;
    drop.drop_rate = 1.0;
    ActionFaults throttled;
    throttled.throttle_qps = 2;
    h.fake->set_faults(Faults{
        .actions = {{"DescribeService", slow}, {"DescribeComputeUnit", drop}, {"*", throttled}}});
    auto r = h.describe(kAlpha);
    CHECK(r.status == 200);
    CHECK(r.delay == 250ms);
    CHECK_FALSE(r.drop_connection);
    r = h.compute_unit(kUnitA);
    CHECK(r.drop_connection);
    // "*" applies to ScaleService: 2 per second, the 3rd is throttled, the next second is fine.
    // Retry-After is the whole seconds until the window resets, rounded up: at .999 s the reset
    // is 1 ms away and the answer is still 1.
    h.clock.advance(999ms);
    CHECK(h.scale(kAlpha, kUnitA, 1).status == 200);
    const auto served = h.scale(kAlpha, kUnitA, 1);
    CHECK(served.status == 200);
    CHECK_FALSE(served.header("Retry-After").has_value());
    const auto limited = h.scale(kAlpha, kUnitA, 1);
    check_error(limited, 429, "RequestLimitExceeded");
    CHECK(limited.header("Retry-After") == std::optional<std::string_view>("1"));
    h.clock.advance(1ms);
    CHECK(h.scale(kAlpha, kUnitA, 1).status == 200);
    const auto m = h.get("/metrics").body;
    CHECK(m.find("action=\"DescribeComputeUnit\",code=\"dropped\"} 1") != std::string::npos);
  }

  TEST_CASE("fake: fault decisions follow the seed") {
    const auto run = [] {
      Harness h;
      ActionFaults f;
      f.error_rates = {{"InternalError", 0.5}};
      h.fake->set_faults(Faults{.actions = {{"*", f}}});
      std::string outcomes;
      for (int i = 0; i < 64; ++i) outcomes += h.describe(kAlpha).status == 200 ? '.' : 'x';
      return outcomes;
    };
    const auto first = run();
    CHECK(first == run());
    CHECK(first.find('.') != std::string::npos);
    CHECK(first.find('x') != std::string::npos);
  }

  TEST_CASE("fake: /admin/faults shows, sets and clears faults") {
    Harness h;
    CHECK(h.get("/admin/faults").body == "{}");
    http::Request post;
    post.method = "POST";
    post.target = "/admin/faults";
    post.body = R"({"ScaleService":{"errors":{"InternalError":1},"latency":"20ms"}})";
    auto r = h.fake->handle(post);
    REQUIRE(r.status == 200);
    CHECK(json_string(r.body, "/ScaleService/latency") == "20ms");
    check_error(h.scale(kAlpha, kUnitA, 1), 500, "InternalError");
    CHECK(h.get("/admin/faults").body == r.body);

    post.body = R"({"ScaleService":{"errors":{"Boom":1}}})";
    r = h.fake->handle(post);
    CHECK(r.status == 400);
    CHECK(json_string(r.body, "/message").find("POST /admin/faults:1:") != std::string::npos);
    CHECK(json_string(r.body, "/message").find("unknown error code 'Boom'") != std::string::npos);

    http::Request del;
    del.method = "DELETE";
    del.target = "/admin/faults";
    CHECK(h.fake->handle(del).status == 200);
    CHECK(h.fake->faults().empty());
    CHECK(h.scale(kAlpha, kUnitA, 1).status == 200);
  }

  TEST_CASE("fake: other routes") {
    Harness h;
    CHECK(h.get("/healthz").status == 200);
    CHECK(h.get("/nowhere").status == 404);
  }

  TEST_CASE("fake: create refuses invalid scenarios and missing credentials") {
    util::ManualClock clock;
    auto s = testing::test_scenario();
    CHECK_FALSE(FakeQianfan::create(s, clock).has_value());  // no credentials
    s.credentials = testing::kCredentials;
    s.services[0].qps = 0;
    const auto created = FakeQianfan::create(s, clock);
    REQUIRE_FALSE(created.has_value());
    CHECK(created.error().code == ErrorCode::InvalidInput);
    CHECK(created.error().message.find("services[0].qps") != std::string::npos);
  }

  TEST_CASE("fake: the default scenario validates and serves") {
    auto s = default_scenario();
    CHECK(validate(s).empty());
    CHECK(s.services.size() >= 3);
    Harness h(s);
    CHECK(h.describe("svco-chatsmall001").status == 200);
    CHECK(json_string(h.describe("svco-chatlarge001").body, "/result/resourceConfig/type") ==
          "GPU-I-4");
  }

  TEST_CASE("fake: generated credentials are fresh and non-empty") {
    const auto a = generate_credentials();
    const auto b = generate_credentials();
    CHECK(a.access_key.size() >= 16);
    CHECK(a.secret_key.size() >= 32);
    CHECK(a.access_key != b.access_key);
    CHECK(a.secret_key != b.secret_key);
  }
}

}  // namespace
}  // namespace qfscale::fake
