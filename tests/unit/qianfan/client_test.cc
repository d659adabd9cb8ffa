#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/qianfan/api.h"

#include "qianfan/client_impl.h"
#include "qianfan/util.h"
#include "support/fake_http_client.h"
#include "unit/qianfan/fixtures.h"

namespace qfscale::qianfan {
namespace {

using namespace std::chrono_literals;
using test::FixedRandom;
using test::read_fixture;

constexpr std::string_view kAk = "ak-test-0123456789abcdef";
constexpr std::string_view kSk = "sk-test-fedcba9876543210";

util::SystemTime at_2025_01_02_030405() {
  using namespace std::chrono;
  return sys_days{year{2025} / January / 2} + hours{3} + minutes{4} + seconds{5};
}

// Records the waits instead of sleeping; optionally moves a ManualClock forward by each wait.
struct RecordingSleep {
  std::mutex mutex;
  std::vector<std::chrono::milliseconds> waits;
  util::ManualClock* clock = nullptr;

  SleepFunction function() {
    return [this](std::chrono::milliseconds d) {
      const std::lock_guard lock(mutex);
      waits.push_back(d);
      if (clock != nullptr) clock->advance(d);
    };
  }
};

struct Harness {
  util::ManualClock clock{at_2025_01_02_030405()};
  util::Random random{42};
  testing::FakeHttpClient http;
  RecordingSleep sleep;
  std::unique_ptr<QianfanApi> api;

  explicit Harness(std::string base_url = "https://qianfan.baidubce.com", RetryPolicy retry = {},
                   int expiration = 1800) {
    ClientConfig config{
        .credentials = {.access_key = std::string(kAk), .secret_key = std::string(kSk)},
        .base_url = std::move(base_url),
        .signature_expiration_seconds = expiration,
        .retry = retry,
    };
    auto made = make_qianfan_client(std::move(config), http, clock, random, sleep.function());
    REQUIRE(made.has_value());
    api = std::move(*made);
  }
  [[nodiscard]] http::ClientRequest only_request() const {
    const auto requests = http.requests();
    REQUIRE(requests.size() == 1);
    return requests[0];
  }
};

std::string header(const http::ClientRequest& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (h.name == name) return h.value;
  }
  return "<absent>";
}

TEST_SUITE("qianfan") {
  TEST_CASE("client: DescribeService request is exactly the signed docs/QIANFAN-API.md vector") {
    Harness h;
    h.http.push_json(200, read_fixture("describe_service_ok.json"));
    const auto got = h.api->describe_service(model::ServiceId{"svco-abc123xyz"});
    REQUIRE(got.has_value());
    const auto r = h.only_request();
    CHECK(r.method == "POST");
    CHECK(r.url == "https://qianfan.baidubce.com/v2/service?Action=DescribeService");
    CHECK(r.body == R"({"serviceId":"svco-abc123xyz"})");
    CHECK(header(r, "Content-Type") == "application/json");
    CHECK(header(r, "Host") == "qianfan.baidubce.com");
    CHECK(header(r, "Content-Length") == "30");
    CHECK(header(r, "x-bce-date") == "2025-01-02T03:04:05Z");
    CHECK(header(r, "Authorization") ==
          "bce-auth-v1/ak-test-0123456789abcdef/2025-01-02T03:04:05Z/1800/"
          "content-length;content-type;host;x-bce-date/"
          "bff14b27d521b24d248f99246b2a479be58472c1a7a80fdcd362646a6f9c1187");
    for (const auto& hd : r.headers) CHECK(hd.value.find(kSk) == std::string::npos);
  }

  TEST_CASE("client: ScaleService to a loopback port signs host with the port") {
    Harness h("http://127.0.0.1:8765/");  // trailing slash trimmed
    h.http.push_json(200, read_fixture("scale_service_ok.json"));
    const auto got = h.api->scale_service({.service = model::ServiceId{"svco-abc123xyz"},
                                           .instance = model::InstanceId{"cu-inst-0001"},
                                           .replicas = model::Replicas{2}});
    REQUIRE(got.has_value());
    CHECK(got->request_id == "c0ffee00-3333-4d4e-8f00-444455556666");
    const auto r = h.only_request();
    CHECK(r.url == "http://127.0.0.1:8765/v2/service?Action=ScaleService");
    CHECK(
        r.body ==
        R"({"serviceId":"svco-abc123xyz","instanceId":"cu-inst-0001","deploymentReplicasCount":2})");
    CHECK(header(r, "Host") == "127.0.0.1:8765");
    CHECK(header(r, "Content-Length") == "86");
    CHECK(header(r, "Authorization")
              .ends_with("/57695c7169c017ddeefd7be2421f3013bd385339b579f22dafb792af6b126e53"));
  }

  TEST_CASE("client: a fencing token rides on ScaleService and ModifyService, unsigned") {
    Harness h;
    h.http.push_json(200, read_fixture("scale_service_ok.json"));
    h.http.push_json(200, read_fixture("scale_service_ok.json"));
    h.http.push_json(200, read_fixture("scale_service_ok.json"));
    REQUIRE(h.api
                ->scale_service({.service = model::ServiceId{"svco-1"},
                                 .instance = model::InstanceId{"cu-1"},
                                 .replicas = model::Replicas{2},
                                 .fencing_token = 1234})
                .has_value());
    REQUIRE(h.api
                ->modify_service({.service = model::ServiceId{"svco-1"},
                                  .model_set_id = "am-1",
                                  .model_id = "amv-1",
                                  .fencing_token = 1235})
                .has_value());
    REQUIRE(h.api
                ->scale_service({.service = model::ServiceId{"svco-1"},
                                 .instance = model::InstanceId{"cu-1"},
                                 .replicas = model::Replicas{2}})
                .has_value());
    const auto requests = h.http.requests();
    REQUIRE(requests.size() == 3);
    CHECK(header(requests[0], "x-qfscale-fencing-token") == "1234");
    CHECK(header(requests[1], "x-qfscale-fencing-token") == "1235");
    CHECK(header(requests[2], "x-qfscale-fencing-token") == "<absent>");
    // Not among the signed headers: Qianfan ignores it and a signature stays valid without it.
    CHECK(header(requests[0], "Authorization").find("fencing") == std::string::npos);
  }

  TEST_CASE("client: ModifyService with a 300 s signature expiration") {
    Harness h("https://qianfan.baidubce.com", {}, 300);
    h.http.push_json(200, read_fixture("modify_service_ok.json"));
    const auto got = h.api->modify_service({.service = model::ServiceId{"svco-abc123xyz"},
                                            .model_set_id = "am-set001",
                                            .model_id = "amv-ver002"});
    REQUIRE(got.has_value());
    const auto r = h.only_request();
    CHECK(r.body ==
          R"({"serviceId":"svco-abc123xyz","modelSetId":"am-set001","modelId":"amv-ver002"})");
    CHECK(header(r, "Content-Length") == "78");
    CHECK(header(r, "Authorization") ==
          "bce-auth-v1/ak-test-0123456789abcdef/2025-01-02T03:04:05Z/300/"
          "content-length;content-type;host;x-bce-date/"
          "c6fc0c9afe5a754dd6d55fb2f7dab324dc79f8d0ce8b26552f759865a82fb65d");
  }

  TEST_CASE("client: compute-unit, metric and list requests use their routes and bodies") {
    Harness h("https://qianfan.baidubce.com/prefix");
    h.http.push_json(200, read_fixture("describe_compute_unit_ok.json"));
    h.http.push_json(200, read_fixture("describe_service_metric_ok.json"));
    h.http.push_json(200, read_fixture("describe_services_page1.json"));
    h.http.push_json(200, read_fixture("describe_services_last.json"));

    REQUIRE(h.api->describe_compute_unit(model::InstanceId{"unit-gdqb1Fot"}).has_value());
    const auto start = at_2025_01_02_030405() - 5min + 300ms;  // sub-second part is dropped
    REQUIRE(h.api
                ->describe_service_metric({.services = {model::ServiceId{"svco-ktth9mkb5cqn"}},
                                           .start = start,
                                           .end = at_2025_01_02_030405()})
                .has_value());
    REQUIRE(h.api->describe_services({.max_keys = 2, .run_status = {"Serving"}}).has_value());
    REQUIRE(h.api->describe_services({.marker = "svco-upd8modl0001", .max_keys = 2}).has_value());

    const auto rs = h.http.requests();
    REQUIRE(rs.size() == 4);
    CHECK(rs[0].url ==
          "https://qianfan.baidubce.com/prefix/v2/computeunit?Action=DescribeComputeUnit");
    CHECK(rs[0].body == R"({"instanceId":"unit-gdqb1Fot"})");
    CHECK(rs[1].url ==
          "https://qianfan.baidubce.com/prefix/v2/service?Action=DescribeServiceMetric");
    CHECK(rs[1].body == R"({"serviceIds":["svco-ktth9mkb5cqn"],"startTime":"2025-01-02T02:59:05Z",)"
                        R"("endTime":"2025-01-02T03:04:05Z"})");
    CHECK(rs[2].body == R"({"maxKeys":2,"runStatus":["Serving"]})");
    CHECK(rs[3].body == R"({"marker":"svco-upd8modl0001","maxKeys":2})");
  }

  TEST_CASE("client: strings in bodies are JSON-escaped; invalid UTF-8 is refused unsent") {
    Harness h;
    h.http.push_json(200, read_fixture("modify_service_ok.json"));
    REQUIRE(h.api
                ->modify_service({.service = model::ServiceId{"svco-\"q\"\\"},
                                  .model_set_id = "am-\n\t\x01",
                                  .model_id = "amv-模型"})
                .has_value());
    CHECK(h.only_request().body ==
          "{\"serviceId\":\"svco-\\\"q\\\"\\\\\",\"modelSetId\":\"am-\\n\\t\\u0001\","
          "\"modelId\":\"amv-模型\"}");

    const auto bad = h.api->describe_service(model::ServiceId{std::string("svco-\xff")});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == ErrorCode::InvalidInput);
    CHECK(h.http.request_count() == 1);
  }

  TEST_CASE("client: invalid requests fail before anything is sent") {
    Harness h;
    CHECK(h.api->describe_service(model::ServiceId{""}).error().code == ErrorCode::InvalidInput);
    CHECK(h.api
              ->scale_service({.service = model::ServiceId{"svco-1"},
                               .instance = model::InstanceId{"unit-1"},
                               .replicas = model::Replicas{-1}})
              .error()
              .code == ErrorCode::InvalidInput);
    CHECK(h.api->scale_service({.service = model::ServiceId{"svco-1"}}).error().code ==
          ErrorCode::InvalidInput);
    CHECK(h.api->describe_service_metric({}).error().code == ErrorCode::InvalidInput);
    CHECK(h.api->describe_services({.max_keys = -1}).error().code == ErrorCode::InvalidInput);
    CHECK(h.http.request_count() == 0);
  }

  TEST_CASE("client: base URL from config, else environment, else default") {
    const char* saved = std::getenv(kBaseUrlEnv);  // NOLINT(concurrency-mt-unsafe)
    const std::optional<std::string> restore =
        saved != nullptr ? std::optional<std::string>(saved) : std::nullopt;

    ::unsetenv(kBaseUrlEnv);  // NOLINT(concurrency-mt-unsafe)
    CHECK(resolve_base_url("").value() == "https://qianfan.baidubce.com");
    ::setenv(kBaseUrlEnv, "http://127.0.0.1:8765//", 1);  // NOLINT(concurrency-mt-unsafe)
    CHECK(resolve_base_url("").value() == "http://127.0.0.1:8765");
    CHECK(resolve_base_url("https://example.test:9443/").value() == "https://example.test:9443");
    {
      Harness h("");  // the client itself picks up the environment
      h.http.push_json(200, read_fixture("describe_service_ok.json"));
      REQUIRE(h.api->describe_service(model::ServiceId{"svco-abc123xyz"}).has_value());
      CHECK(h.only_request().url == "http://127.0.0.1:8765/v2/service?Action=DescribeService");
    }
    ::setenv(kBaseUrlEnv, "", 1);  // NOLINT(concurrency-mt-unsafe)
    CHECK(resolve_base_url("").value() == "https://qianfan.baidubce.com");

    CHECK(resolve_base_url("ftp://x").error().code == ErrorCode::InvalidInput);
    CHECK(resolve_base_url("qianfan.baidubce.com").error().code == ErrorCode::InvalidInput);
    CHECK(resolve_base_url("https://h/?a=b").error().code == ErrorCode::InvalidInput);

    if (restore) {
      ::setenv(kBaseUrlEnv, restore->c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    } else {
      ::unsetenv(kBaseUrlEnv);  // NOLINT(concurrency-mt-unsafe)
    }
  }

  TEST_CASE("client: missing credentials are a config error") {
    util::ManualClock clock;
    util::Random random{1};
    testing::FakeHttpClient http;
    auto made = make_qianfan_client(ClientConfig{.base_url = "https://qianfan.baidubce.com"}, http,
                                    clock, random);
    REQUIRE_FALSE(made.has_value());
    CHECK(made.error().code == ErrorCode::InvalidInput);
    CHECK(made.error().message.find("QIANFAN_ACCESS_KEY") != std::string::npos);
  }

  TEST_CASE("retry: transient failures then success") {
    Harness h;
    h.sleep.clock = &h.clock;
    h.http.push_json(503, R"({"requestId":"r1","code":"InternalError","message":"busy"})");
    h.http.push_transport_error("connect to qianfan.baidubce.com:443 timed out");
    h.http.push_json(200, read_fixture("describe_service_ok.json"));
    const auto got = h.api->describe_service(model::ServiceId{"svco-ktth9mkb5cqn"});
    REQUIRE(got.has_value());
    CHECK(h.http.request_count() == 3);
    CHECK(h.sleep.waits.size() == 2);
    // Each attempt is signed afresh: the clock moved by the first wait before the second request.
    const auto rs = h.http.requests();
    const auto first = header(rs[0], "x-bce-date");
    CHECK(first == "2025-01-02T03:04:05Z");
    CHECK(header(rs[0], "Authorization").find(first) != std::string::npos);
    CHECK(header(rs[2], "Authorization").find(header(rs[2], "x-bce-date")) != std::string::npos);
  }

  TEST_CASE("retry: gives up after max attempts with the last error") {
    Harness h("https://qianfan.baidubce.com", RetryPolicy{.max_attempts = 3});
    h.http.push_json(503, R"({"requestId":"r1","code":"InternalError","message":"one"})");
    h.http.push_json(500, R"({"requestId":"r2","code":"InternalError","message":"two"})");
    h.http.push_json(429, R"({"requestId":"r3","code":"RequestLimitExceeded","message":"three"})");
    h.http.push_json(200, read_fixture("describe_service_ok.json"));  // never reached
    const auto got = h.api->describe_service(model::ServiceId{"svco-1"});
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == ErrorCode::Transient);
    CHECK(got.error().remote_code == "RequestLimitExceeded");
    CHECK(got.error().request_id == "r3");
    CHECK(got.error().http_status == 429);
    CHECK(got.error().to_string().find("DescribeService svco-1 (3 attempts)") != std::string::npos);
    CHECK(h.http.request_count() == 3);
    CHECK(h.http.pending() == 1);
    CHECK(h.sleep.waits.size() == 2);
    CHECK(got.error().to_string().find(kSk) == std::string::npos);
  }

  TEST_CASE("retry: a Remote refusal or an undecodable reply is not retried") {
    struct Case {
      std::string_view name;
      int status;
      std::string body;
    };
    const Case cases[] = {
        {.name = "AccessDenied", .status = 403, .body = read_fixture("error_access_denied.json")},
        {.name = "capacity refusal",
         .status = 400,
         .body = R"({"requestId":"c","code":"InsufficientComputeUnits","message":"no units"})"},
        {.name = "Python True",
         .status = 200,
         .body = read_fixture("scale_service_python_true.json")},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      Harness h;
      h.http.push_json(c.status, c.body);
      h.http.push_json(200, read_fixture("scale_service_ok.json"));
      const auto got = h.api->scale_service({.service = model::ServiceId{"svco-1"},
                                             .instance = model::InstanceId{"unit-1"},
                                             .replicas = model::Replicas{1}});
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error().code == ErrorCode::Remote);
      CHECK(h.http.request_count() == 1);
      CHECK(h.sleep.waits.empty());
    }
  }

  TEST_CASE("retry: one attempt means no retry") {
    Harness h("https://qianfan.baidubce.com", RetryPolicy{.max_attempts = 1});
    h.http.push_transport_error("connection refused");
    const auto got = h.api->describe_compute_unit(model::InstanceId{"unit-1"});
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == ErrorCode::Transient);
    CHECK(got.error().to_string().find("attempts") == std::string::npos);
    CHECK(h.http.request_count() == 1);
  }

  TEST_CASE("retry: full-jitter delays stay within min(cap, base * 2^attempt)") {
    // base 100 ms, cap 1000 ms: bounds 100, 200, 400, 800, 1000, 1000, ...
    const RetryPolicy policy{.max_attempts = 8, .base_delay = 100ms, .max_delay = 1000ms};
    const std::int64_t bounds[] = {100, 200, 400, 800, 1000, 1000, 1000};
    Harness h("https://qianfan.baidubce.com", policy);
    for (int i = 0; i < 8; ++i) h.http.push_json(503, "");
    REQUIRE_FALSE(h.api->describe_service(model::ServiceId{"svco-1"}).has_value());
    REQUIRE(h.sleep.waits.size() == 7);
    std::int64_t total = 0;
    for (std::size_t i = 0; i < 7; ++i) {
      CAPTURE(i);
      CHECK(h.sleep.waits[i].count() >= 0);
      CHECK(h.sleep.waits[i].count() <= bounds[i]);
      total += h.sleep.waits[i].count();
    }
    // Jitter, not a fixed schedule: seed 42 does not hit every bound exactly.
    CHECK(total < 100 + 200 + 400 + 800 + 3 * 1000);

    // The formula at the ends of the unit interval: u = 0 -> 0; u -> 1 -> the bound itself.
    testing::FakeHttpClient http;
    util::ManualClock clock;
    FixedRandom zero(0.0);
    FixedRandom almost_one(0.999999);
    FixedRandom half(0.5);
    const ClientConfig config{.credentials = {.access_key = "a", .secret_key = "s"},
                              .retry = policy};
    QianfanClientImpl at_zero(config, "https://h", http, clock, zero, {});
    QianfanClientImpl at_one(config, "https://h", http, clock, almost_one, {});
    QianfanClientImpl at_half(config, "https://h", http, clock, half, {});
    for (int attempt = 0; attempt < 7; ++attempt) {
      CAPTURE(attempt);
      const auto bound = bounds[attempt];
      CHECK(at_zero.backoff(attempt) == 0ms);
      CHECK(at_one.backoff(attempt) == std::chrono::milliseconds{bound});
      // floor(0.5 * (bound + 1)): 100 -> 50, 1000 -> 500
      CHECK(at_half.backoff(attempt) == std::chrono::milliseconds{(bound + 1) / 2});
    }
    CHECK(at_one.backoff(62) == 1000ms);  // no overflow far past the cap
  }
}

}  // namespace
}  // namespace qfscale::qianfan

namespace qfscale::qianfan {
namespace {

TEST_SUITE("qianfan") {
  TEST_CASE("client: base URL split gives the Host header and the signed path prefix") {
    struct Case {
      std::string_view url;
      std::string_view host;  // empty = invalid
      std::string_view prefix;
    };
    const Case cases[] = {
        {.url = "https://qianfan.baidubce.com", .host = "qianfan.baidubce.com", .prefix = ""},
        {.url = "https://qianfan.baidubce.com:443/", .host = "qianfan.baidubce.com", .prefix = ""},
        {.url = "http://127.0.0.1:80", .host = "127.0.0.1", .prefix = ""},
        {.url = "http://127.0.0.1:443", .host = "127.0.0.1:443", .prefix = ""},
        {.url = "https://h:8443/a/b//", .host = "h:8443", .prefix = "/a/b"},
        {.url = "http://[::1]:8765", .host = "[::1]:8765", .prefix = ""},
        {.url = "http://[::1]", .host = "[::1]", .prefix = ""},
        {.url = "https://user:pw@h", .host = "", .prefix = ""},
        {.url = "https://h:", .host = "", .prefix = ""},
        {.url = "https://h:70000", .host = "", .prefix = ""},
        {.url = "https://:443", .host = "", .prefix = ""},
        {.url = "https://h x", .host = "", .prefix = ""},
    };
    for (const auto& c : cases) {
      CAPTURE(c.url);
      const auto got = detail::split_base_url(c.url);
      CHECK(got.has_value() == !c.host.empty());
      if (got) {
        CHECK(got->host_header == c.host);
        CHECK(got->path_prefix == c.prefix);
      } else {
        CHECK(got.error().code == ErrorCode::InvalidInput);
      }
    }
  }

  TEST_CASE("client: a base URL with user info is refused without quoting the password") {
    const auto got = resolve_base_url("https://user:hunter2@h.example");
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().message.find("https://user:***@h.example") != std::string::npos);
    CHECK(got.error().message.find("hunter2") == std::string::npos);
    CHECK(got.error().message.find("has user info") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::qianfan
