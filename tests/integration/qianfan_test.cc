// The real Qianfan client (make_qianfan_client over http::make_client) against the real fake
// (FakeQianfan's router on http::start_server at 127.0.0.1:0), over HTTP and HTTPS with the test
// CA. One ManualClock drives the fake and the client, so signatures, startup delays and model
// updates are deterministic; retries wait through a recording sleep function and never sleep.
// Faults come from the scenario or from /admin/faults with rates 0 or 1 only.

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/bce/signer.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/qianfan/errors.h"
#include "qfscale/qianfan/types.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/random.h"

#include "support/test_tls.h"
#include "support/within.h"

namespace qfscale::qianfan {
namespace {

using namespace std::chrono_literals;
using model::ComputeUnits;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;
using std::chrono::milliseconds;
using testing::within;

constexpr std::string_view kAlpha = "svco-alpha0000001";  // GPU-I-2, qps 5, 1 replica on A
constexpr std::string_view kBeta = "svco-beta00000002";   // GPU-I-4, qps 2.5, 1 replica on A
constexpr std::string_view kGamma = "svco-gamma0000003";  // CPU-I-2, qps 10, 2 replicas on B
constexpr std::string_view kUnitA = "unit-gpua0001";      // 10 units, 2 foreign
constexpr std::string_view kUnitB = "unit-cpub0002";      // 8 units

/// 2025-01-02T03:04:05Z
constexpr util::SystemTime kStart{std::chrono::seconds{1735787045}};

// Test-only key pair; never a real credential.
const bce::Credentials kCredentials{.access_key = "ak-qianfan-integration",
                                    .secret_key = "sk-qianfan-integration-secret"};

/// unit-gpua0001: capacity 10 = foreign 2 + alpha 1 x 2 + beta 1 x 4, so 2 units free and 4 left
/// for alpha (its own 2 count as reusable). unit-cpub0002: capacity 8 = gamma 2 x 2.
fake::Scenario scenario() {
  fake::Scenario s;
  s.credentials = kCredentials;
  s.startup_delay = 30s;
  s.model_update_duration = 60s;
  s.allowed_clock_skew = 300s;
  s.seed = 11;
  s.instances = {
      fake::InstanceSpec{
          .id = InstanceId{kUnitA}, .capacity = ComputeUnits{10}, .foreign_usage = ComputeUnits{2}},
      fake::InstanceSpec{.id = InstanceId{kUnitB}, .type = "cpu-1", .capacity = ComputeUnits{8}},
  };
  s.services = {
      fake::ServiceSpec{.id = ServiceId{kAlpha},
                        .name = "alpha",
                        .type = "GPU-I-2",
                        .qps = 5,
                        .deployments = {{InstanceId{kUnitA}, Replicas{1}}}},
      fake::ServiceSpec{.id = ServiceId{kBeta},
                        .name = "beta",
                        .type = "GPU-I-4",
                        .qps = 2.5,
                        .deployments = {{InstanceId{kUnitA}, Replicas{1}}}},
      fake::ServiceSpec{.id = ServiceId{kGamma},
                        .name = "gamma",
                        .type = "CPU-I-2",
                        .qps = 10,
                        .service_type = "completions",
                        .deployments = {{InstanceId{kUnitB}, Replicas{2}}}},
  };
  return s;
}

/// Records every wait the client asks for, and lets a test act between attempts (e.g. clear a
/// fault before the last try). Never sleeps.
class SleepRecorder {
 public:
  /// Called with the 1-based number of the wait just recorded.
  std::function<void(std::size_t)> after_wait;

  [[nodiscard]] SleepFunction function() {
    return [this](milliseconds d) {
      std::size_t n = 0;
      {
        const std::lock_guard lock(mu_);
        waits_.push_back(d);
        n = waits_.size();
      }
      if (after_wait) after_wait(n);
    };
  }
  [[nodiscard]] std::vector<milliseconds> waits() const {
    const std::lock_guard lock(mu_);
    return waits_;
  }
  void clear() {
    const std::lock_guard lock(mu_);
    waits_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::vector<milliseconds> waits_;
};

enum class Trust { TestCa, UntrustedCa };

struct StackOptions {
  bool tls = false;
  Trust trust = Trust::TestCa;
  fake::Scenario scenario = qianfan::scenario();
  RetryPolicy retry{.max_attempts = 4, .base_delay = 200ms, .max_delay = 5'000ms};
  milliseconds request_timeout{10'000};  // bounds every exchange in these tests
};

/// Fake on a ManualClock behind a real server; the real client; an admin HTTP client (always
/// trusting the test CA) for /traffic, /metrics and /admin/faults.
struct Stack {
  util::ManualClock clock{kStart};
  std::unique_ptr<fake::FakeQianfan> fake;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Client> admin;
  std::unique_ptr<http::Client> http;
  std::string base;
  util::Random random{42};
  SleepRecorder sleeps;
  StackOptions options;
  std::unique_ptr<QianfanApi> api;

  explicit Stack(StackOptions o = {}) : options(std::move(o)) {
    auto created = fake::FakeQianfan::create(options.scenario, clock);
    REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.error().to_string()));
    fake = std::move(*created);

    http::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    if (options.tls) server_options.tls = test::test_pki().server_tls();
    auto started = http::start_server(server_options, fake->router());
    REQUIRE_MESSAGE(started.has_value(), (started ? "" : started.error().to_string()));
    server = std::move(*started);
    fake->serve_at(server->address());  // the client's signed Host must name this server
    base = fmt::format("{}://{}", options.tls ? "https" : "http", server->address());

    admin = make_http(test::test_pki().ca_file);
    http = make_http(options.trust == Trust::TestCa ? test::test_pki().ca_file
                                                    : test::test_pki().untrusted_ca_file);
    api = client(kCredentials, clock);
  }
  ~Stack() {
    api.reset();
    server->stop();
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  Stack(Stack&&) = delete;
  Stack& operator=(Stack&&) = delete;

  [[nodiscard]] std::unique_ptr<http::Client> make_http(const std::string& ca_file) const {
    http::ClientOptions client_options;
    client_options.connect_timeout = 10s;
    client_options.request_timeout = options.request_timeout;
    if (options.tls) client_options.ca_file = ca_file;
    auto made = http::make_client(client_options);
    REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error().to_string()));
    return std::move(*made);
  }

  /// Another client on the same HTTP client, random and sleep recorder.
  [[nodiscard]] std::unique_ptr<QianfanApi> client(const bce::Credentials& credentials,
                                                   const util::Clock& client_clock) {
    ClientConfig config;
    config.credentials = credentials;
    config.base_url = base;
    config.retry = options.retry;
    config.request_timeout = options.request_timeout;
    auto made =
        make_qianfan_client(std::move(config), *http, client_clock, random, sleeps.function());
    REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error().to_string()));
    return std::move(*made);
  }

  Result<http::Response> plain(std::string method, std::string_view path, std::string body = {}) {
    http::ClientRequest request;
    request.method = std::move(method);
    request.url = base + std::string(path);
    request.body = std::move(body);
    if (!request.body.empty()) request.headers.push_back({"Content-Type", "application/json"});
    return admin->send(request);
  }

  void set_faults(std::string json) {
    auto r = plain("POST", "/admin/faults", std::move(json));
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
    REQUIRE_MESSAGE(r->status == 200, r->body);
  }
  void clear_faults() {
    auto r = plain("DELETE", "/admin/faults");
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
    REQUIRE(r->status == 200);
  }

  /// Sends `n` requests to the traffic endpoint; returns {served (200), rejected (429)}.
  std::pair<int, int> traffic(std::string_view service, int n) {
    int served = 0;
    int rejected = 0;
    for (int i = 0; i < n; ++i) {
      auto r = plain("POST", fmt::format("/traffic/{}", service), "{}");
      REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
      if (r->status == 200) {
        ++served;
      } else {
        CHECK(r->status == 429);
        ++rejected;
      }
    }
    return {served, rejected};
  }

  /// The fake's count of console API requests for `action` answered with `code` ("OK",
  /// "dropped", or an error code), read from /metrics.
  std::uint64_t api_count(std::string_view action, std::string_view code) {
    auto r = plain("GET", "/metrics");
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
    const std::string key =
        fmt::format("qfscale_fake_api_requests_total{{action=\"{}\",code=\"{}\"}} ", action, code);
    const auto at = r->body.find(key);
    if (at == std::string::npos) return 0;
    std::uint64_t n = 0;
    const char* first = r->body.data() + at + key.size();
    const auto parsed = std::from_chars(first, r->body.data() + r->body.size(), n);
    REQUIRE(parsed.ec == std::errc{});
    return n;
  }
};

/// Every wait is within the full-jitter bound of its attempt: [0, min(max, base * 2^k)].
void check_full_jitter(const std::vector<milliseconds>& waits, const RetryPolicy& retry) {
  for (std::size_t k = 0; k < waits.size(); ++k) {
    CAPTURE(k);
    const auto bound = std::min(retry.max_delay, retry.base_delay * (std::int64_t{1} << k));
    CHECK(waits[k] >= 0ms);
    CHECK(waits[k].count() <= bound.count());
  }
}

const ServiceUsage* usage_of(const ComputeUnitInfo& info, std::string_view service) {
  for (const auto& u : info.usage) {
    if (u.service_id.value == service) return &u;
  }
  return nullptr;
}

struct Transport {
  std::string_view name;
  bool tls;
};
constexpr Transport kTransports[] = {{.name = "http", .tls = false},
                                     {.name = "https", .tls = true}};

#define QFS_REQUIRE_OK(r) REQUIRE_MESSAGE((r).has_value(), ((r) ? "" : (r).error().to_string()))

void check_every_action(Stack& s) {
  QianfanApi& api = *s.api;

  // DescribeService: every decoded field matches the scenario.
  auto alpha = api.describe_service(ServiceId{kAlpha});
  QFS_REQUIRE_OK(alpha);
  CHECK(alpha->service_id.value == kAlpha);
  CHECK(alpha->name == "alpha");
  CHECK(alpha->description == "alpha (qfscale fake)");
  CHECK(alpha->base_model == "ERNIE-Speed-8K");
  CHECK(alpha->model_set_id == "am-fakeset0001");
  CHECK(alpha->model_id == "amv-fakever0001");
  CHECK(alpha->url == fmt::format("http://qianfan.fake/traffic/{}", kAlpha));
  CHECK(alpha->service_type == "chat");
  CHECK(alpha->run_status == model::RunStatus::Serving);
  CHECK(alpha->run_status_text == "Serving");
  CHECK(alpha->charge_type == "ComputingUnit");
  CHECK(alpha->pay_type == "Postpay");
  CHECK(alpha->resource_config ==
        ResourceConfig{.region = "bj", .type = "GPU-I-2", .replicas = Replicas{1}, .qps = 5});
  CHECK_FALSE(alpha->is_model_updating);
  CHECK(alpha->creator == "qfscale-fake");
  CHECK(alpha->create_time == "2025-01-02T03:04:05Z");
  auto beta = api.describe_service(ServiceId{kBeta});
  QFS_REQUIRE_OK(beta);
  CHECK(beta->resource_config.qps == doctest::Approx(2.5));
  CHECK(beta->resource_config.type == "GPU-I-4");

  // DescribeComputeUnit: capacity and the services' usage (foreign usage is not listed, but
  // what is left after it is: 10 - 2 foreign - 2 - 4 = 2).
  auto unit_a = api.describe_compute_unit(InstanceId{kUnitA});
  QFS_REQUIRE_OK(unit_a);
  CHECK(unit_a->instance == ComputeUnitInstance{.instance_id = InstanceId{kUnitA},
                                                .region = "bj",
                                                .type = "gpu-1",
                                                .status = "Running",
                                                .compute_unit_count = ComputeUnits{10},
                                                .available_compute_unit_count = ComputeUnits{2}});
  CHECK(unit_a->usage ==
        std::vector<ServiceUsage>{{ServiceId{kAlpha}, Replicas{1}, ComputeUnits{2}},
                                  {ServiceId{kBeta}, Replicas{1}, ComputeUnits{4}}});
  CHECK(unit_a->used() == ComputeUnits{6});
  auto unit_b = api.describe_compute_unit(InstanceId{kUnitB});
  QFS_REQUIRE_OK(unit_b);
  CHECK(unit_b->instance.type == "cpu-1");
  CHECK(unit_b->usage ==
        std::vector<ServiceUsage>{{ServiceId{kGamma}, Replicas{2}, ComputeUnits{4}}});

  // DescribeServices: three services, two per page, sorted by id.
  std::vector<std::string> listed;
  std::vector<ServicePage> pages;
  DescribeServicesRequest page_request{.max_keys = 2};
  for (int guard = 0; guard < 10; ++guard) {
    auto page = api.describe_services(page_request);
    QFS_REQUIRE_OK(page);
    for (const auto& service : page->services) listed.push_back(service.service_id.value);
    pages.push_back(*page);
    if (!page->is_truncated) break;
    page_request.marker = page->next_marker;
  }
  REQUIRE(pages.size() == 2);
  CHECK(pages[0].is_truncated);
  CHECK(pages[0].next_marker == kGamma);
  CHECK_FALSE(pages[1].is_truncated);
  CHECK(pages[1].next_marker.empty());
  CHECK(listed ==
        std::vector<std::string>{std::string(kAlpha), std::string(kBeta), std::string(kGamma)});
  CHECK(pages[0].services[0] == *alpha);  // a list entry decodes like DescribeService
  auto one_page = api.describe_services({});
  QFS_REQUIRE_OK(one_page);
  CHECK(one_page->services.size() == 3);  // default maxKeys 10
  CHECK_FALSE(one_page->is_truncated);

  // DescribeServiceMetric after traffic. beta serves floor(1 ready x 2.5 qps) = 2 per second:
  // second t0: 4 requests -> 2 served, 2 rejected; second t0+1: 3 -> 2 served, 1 rejected.
  const auto t0 = std::chrono::floor<std::chrono::seconds>(s.clock.system_now());
  CHECK(s.traffic(kBeta, 4) == std::pair{2, 2});
  s.clock.advance(1s);
  CHECK(s.traffic(kBeta, 3) == std::pair{2, 1});
  auto metrics = api.describe_service_metric(DescribeServiceMetricRequest{
      .services = {ServiceId{kBeta}, ServiceId{kGamma}}, .start = t0, .end = t0 + 2s});
  QFS_REQUIRE_OK(metrics);
  CHECK(metrics->start_time == bce::format_timestamp(t0));
  CHECK(metrics->end_time == bce::format_timestamp(t0 + 2s));
  REQUIRE(metrics->services.size() == 2);
  CHECK(metrics->services[0].service_id.value == kBeta);
  CHECK(metrics->services[0].service_name == "beta");
  REQUIRE(metrics->services[0].apps.size() == 1);
  CHECK(metrics->services[0].apps[0].app_id == 1);
  CHECK(metrics->services[0].apps[0].metric ==
        CallMetric{.succeed_call_total = 4, .failure_call_total = 3, .call_total = 7});
  CHECK(metrics->services[0].call_total() == 7);
  CHECK(metrics->services[1].service_id.value == kGamma);
  CHECK(metrics->services[1].call_total() == 0);
  // [t0+1, t0+2) holds the second second only: 2 served + 1 rejected.
  auto later = api.describe_service_metric(DescribeServiceMetricRequest{
      .services = {ServiceId{kBeta}}, .start = t0 + 1s, .end = t0 + 2s});
  QFS_REQUIRE_OK(later);
  REQUIRE(later->services.size() == 1);
  CHECK(later->services[0].apps.at(0).metric ==
        CallMetric{.succeed_call_total = 2, .failure_call_total = 1, .call_total = 3});

  // ScaleService, then DescribeService and DescribeComputeUnit reflect it.
  auto scaled = api.scale_service(ScaleServiceRequest{
      .service = ServiceId{kGamma}, .instance = InstanceId{kUnitB}, .replicas = Replicas{4}});
  QFS_REQUIRE_OK(scaled);
  CHECK_FALSE(scaled->request_id.empty());
  auto gamma = api.describe_service(ServiceId{kGamma});
  QFS_REQUIRE_OK(gamma);
  CHECK(gamma->resource_config.replicas == Replicas{4});
  CHECK(gamma->run_status == model::RunStatus::Serving);  // 2 ready while 2 start
  unit_b = api.describe_compute_unit(InstanceId{kUnitB});
  QFS_REQUIRE_OK(unit_b);
  CHECK(unit_b->usage ==
        std::vector<ServiceUsage>{{ServiceId{kGamma}, Replicas{4}, ComputeUnits{8}}});
  CHECK(unit_b->free() == ComputeUnits{0});

  // ModifyService: isModelUpdating until the clock reaches the 60 s update window's end.
  auto modified = api.modify_service(ModifyServiceRequest{
      .service = ServiceId{kAlpha}, .model_set_id = "am-newset0002", .model_id = "amv-newver0002"});
  QFS_REQUIRE_OK(modified);
  CHECK_FALSE(modified->request_id.empty());
  struct Step {
    std::string_view name;
    std::chrono::seconds advance;  // from the previous row
    bool updating;
  };
  const Step steps[] = {
      {.name = "just after ModifyService", .advance = 0s, .updating = true},
      {.name = "59 s later, 1 s before the window ends", .advance = 59s, .updating = true},
      {.name = "60 s later, at the window's end", .advance = 1s, .updating = false},
  };
  for (const auto& step : steps) {
    CAPTURE(step.name);
    s.clock.advance(step.advance);
    auto info = api.describe_service(ServiceId{kAlpha});
    QFS_REQUIRE_OK(info);
    CHECK(info->is_model_updating == step.updating);
    CHECK(info->model_set_id == (step.updating ? "am-fakeset0001" : "am-newset0002"));
    CHECK(info->model_id == (step.updating ? "amv-fakever0001" : "amv-newver0002"));
  }
  CHECK(s.sleeps.waits().empty());  // nothing was retried
}

struct AuthCase {
  std::string_view name;
  bce::Credentials credentials;
  std::chrono::seconds client_offset;  // client clock minus the fake's
  int want_status;                     // 0: success
  std::string_view want_code;
};

void check_auth(Stack& s) {
  // The fake accepts a signature for 1800 s after its timestamp (now > ts + 1800 expires) and a
  // timestamp at most 300 s ahead of its clock (ts > now + 300 expires).
  const AuthCase cases[] = {
      {.name = "right key pair, same clock", .credentials = kCredentials, .client_offset = 0s},
      {.name = "wrong secret key",
       .credentials = {.access_key = kCredentials.access_key, .secret_key = "sk-not-the-secret"},
       .client_offset = 0s,
       .want_status = 400,
       .want_code = kSignatureDoesNotMatch},
      {.name = "unknown access key",
       .credentials = {.access_key = "ak-nobody", .secret_key = kCredentials.secret_key},
       .client_offset = 0s,
       .want_status = 403,
       .want_code = kInvalidAccessKeyId},
      {.name = "client 1800 s behind: expires exactly now, still valid",
       .credentials = kCredentials,
       .client_offset = -1800s},
      {.name = "client 1801 s behind: expired 1 s ago",
       .credentials = kCredentials,
       .client_offset = -1801s,
       .want_status = 400,
       .want_code = kRequestExpired},
      {.name = "client 300 s ahead: at the allowed skew",
       .credentials = kCredentials,
       .client_offset = 300s},
      {.name = "client 301 s ahead: beyond the allowed skew",
       .credentials = kCredentials,
       .client_offset = 301s,
       .want_status = 400,
       .want_code = kRequestExpired},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    s.sleeps.clear();
    util::ManualClock client_clock{s.clock.system_now() + c.client_offset};
    auto client = s.client(c.credentials, client_clock);
    const auto before = c.want_code.empty() ? 0 : s.api_count("DescribeService", c.want_code);
    auto r = client->describe_service(ServiceId{kAlpha});
    if (c.want_status == 0) {
      CHECK_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
      continue;
    }
    CHECK_FALSE(r.has_value());
    if (r) continue;
    const Error& e = r.error();
    CHECK(e.code == ErrorCode::Remote);
    CHECK(e.remote_code == c.want_code);
    CHECK(e.http_status == c.want_status);
    CHECK_FALSE(e.request_id.empty());
    CHECK(e.message.find(e.request_id) != std::string::npos);
    CHECK_FALSE(advice(e).empty());
    // Neither the secret we sent nor the fake's appears in what the error prints.
    CHECK(e.to_string().find(kCredentials.secret_key) == std::string::npos);
    CHECK(e.to_string().find(c.credentials.secret_key) == std::string::npos);
    CHECK(s.sleeps.waits().empty());  // Remote: not retried
    CHECK(s.api_count("DescribeService", c.want_code) == before + 1);
  }
}

TEST_SUITE("qianfan") {
  TEST_CASE("qianfan: every action succeeds against the fake over HTTP and HTTPS") {
    for (const auto& t : kTransports) {
      SUBCASE(std::string(t.name).c_str()) {
        Stack s({.tls = t.tls});
        CHECK(s.server->tls() == t.tls);
        check_every_action(s);
      }
    }
  }

  TEST_CASE("qianfan: auth failures are Remote errors with the fake's code, not retried") {
    for (const auto& t : kTransports) {
      SUBCASE(std::string(t.name).c_str()) {
        Stack s({.tls = t.tls});
        check_auth(s);
      }
    }
  }

  TEST_CASE("qianfan: a server certificate the client does not trust fails once, for good") {
    Stack s({.tls = true,
             .trust = Trust::UntrustedCa,
             .retry = {.max_attempts = 4, .base_delay = 200ms, .max_delay = 5'000ms}});
    auto r = s.api->describe_service(ServiceId{kAlpha});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::InvalidInput);
    CHECK_MESSAGE(r.error().message.find("certificate verify failed") != std::string::npos,
                  r.error().message);
    CHECK(r.error().message.find("check the CA file (caFile)") != std::string::npos);
    CHECK(r.error().http_status == 0);
    // One attempt: no "(N attempts)" context and no backoff wait before a second one.
    CHECK(r.error().to_string().find("attempts)") == std::string::npos);
    CHECK(s.sleeps.waits().empty());
    CHECK(advice(r.error()).find("retry later") == std::string_view::npos);
    CHECK(s.api_count("DescribeService", "OK") == 0);  // nothing reached the fake's handler
  }

  TEST_CASE("qianfan: a capacity refusal is recognised, explained and not retried") {
    Stack s;
    QianfanApi& api = *s.api;
    // Left for alpha on unit A: 10 - 2 foreign - 4 (beta) = 4 units = 2 replicas of GPU-I-2.
    // 3 replicas need 6: refused, and the message gives both numbers.
    auto refused = api.scale_service(ScaleServiceRequest{
        .service = ServiceId{kAlpha}, .instance = InstanceId{kUnitA}, .replicas = Replicas{3}});
    REQUIRE_FALSE(refused.has_value());
    const Error& e = refused.error();
    CHECK(is_capacity_refusal(e));
    CHECK(e.code == ErrorCode::Remote);
    CHECK(e.http_status == 400);
    CHECK(e.remote_code == kInsufficientComputeUnits);
    CHECK_FALSE(e.request_id.empty());
    CHECK_MESSAGE(e.message.find("has 4 compute units left") != std::string::npos, e.message);
    CHECK_MESSAGE(e.message.find("need 6") != std::string::npos, e.message);
    CHECK_MESSAGE(e.message.find("at most 2 replicas") != std::string::npos, e.message);
    CHECK(s.sleeps.waits().empty());
    CHECK(s.api_count("ScaleService", kInsufficientComputeUnits) == 1);
    CHECK(s.api_count("ScaleService", "OK") == 0);
    auto unchanged = api.describe_service(ServiceId{kAlpha});
    QFS_REQUIRE_OK(unchanged);
    CHECK(unchanged->resource_config.replicas == Replicas{1});

    // Exactly what is left fits: 2 replicas x 2 units = 4.
    auto fits = api.scale_service(ScaleServiceRequest{
        .service = ServiceId{kAlpha}, .instance = InstanceId{kUnitA}, .replicas = Replicas{2}});
    QFS_REQUIRE_OK(fits);

    // 0 removes the instance from the service.
    auto removed = api.scale_service(ScaleServiceRequest{
        .service = ServiceId{kAlpha}, .instance = InstanceId{kUnitA}, .replicas = Replicas{0}});
    QFS_REQUIRE_OK(removed);
    auto unit = api.describe_compute_unit(InstanceId{kUnitA});
    QFS_REQUIRE_OK(unit);
    CHECK(usage_of(*unit, kAlpha) == nullptr);
    CHECK(unit->usage.size() == 1);
    auto alpha = api.describe_service(ServiceId{kAlpha});
    QFS_REQUIRE_OK(alpha);
    CHECK(alpha->resource_config.replicas == Replicas{0});
    CHECK(s.sleeps.waits().empty());
  }

  TEST_CASE("qianfan: an unknown service or instance is Remote ResourceNotFound, not retried") {
    Stack s;
    auto service = s.api->describe_service(ServiceId{"svco-nosuchthing"});
    REQUIRE_FALSE(service.has_value());
    CHECK(service.error().code == ErrorCode::Remote);
    CHECK(service.error().remote_code == "ResourceNotFound");
    CHECK(service.error().http_status == 404);
    CHECK_FALSE(service.error().request_id.empty());
    auto instance = s.api->describe_compute_unit(InstanceId{"unit-nosuch00"});
    REQUIRE_FALSE(instance.has_value());
    CHECK(instance.error().remote_code == "ResourceNotFound");
    auto scale = s.api->scale_service(ScaleServiceRequest{.service = ServiceId{kAlpha},
                                                          .instance = InstanceId{"unit-nosuch00"},
                                                          .replicas = Replicas{1}});
    REQUIRE_FALSE(scale.has_value());
    CHECK(scale.error().remote_code == "ResourceNotFound");
    CHECK_FALSE(is_capacity_refusal(scale.error()));
    CHECK(s.sleeps.waits().empty());
  }

  TEST_CASE("qianfan: ready capacity grows only after the startup delay") {
    Stack s;
    // alpha: 1 ready replica x 5 qps = 5 requests per second of the manual clock.
    CHECK(s.traffic(kAlpha, 12) == std::pair{5, 7});
    auto scaled = s.api->scale_service(ScaleServiceRequest{
        .service = ServiceId{kAlpha}, .instance = InstanceId{kUnitA}, .replicas = Replicas{2}});
    QFS_REQUIRE_OK(scaled);
    auto info = s.api->describe_service(ServiceId{kAlpha});
    QFS_REQUIRE_OK(info);
    CHECK(info->resource_config.replicas == Replicas{2});
    CHECK(info->run_status == model::RunStatus::Serving);

    struct Step {
      std::string_view name;
      std::chrono::seconds advance;  // from the previous row
      std::pair<int, int> want;      // served, rejected out of 12
    };
    const Step steps[] = {
        {.name = "1 s after the scale-up: still 1 ready", .advance = 1s, .want = {5, 7}},
        {.name = "29 s after: 1 s before the 30 s delay ends", .advance = 28s, .want = {5, 7}},
        {.name = "30 s after: 2 ready x 5 qps", .advance = 1s, .want = {10, 2}},
    };
    for (const auto& step : steps) {
      CAPTURE(step.name);
      s.clock.advance(step.advance);
      CHECK(s.traffic(kAlpha, 12) == step.want);
    }
  }

  TEST_CASE("qianfan: InternalError on every attempt but the last is retried with full jitter") {
    for (const auto& t : kTransports) {
      SUBCASE(std::string(t.name).c_str()) {
        fake::Scenario sc = scenario();
        sc.faults.actions = {
            {"DescribeService", fake::ActionFaults{.error_rates = {{"InternalError", 1.0}}}}};
        Stack s({.tls = t.tls, .scenario = sc});
        // max_attempts 4: attempts 1-3 get 500 InternalError; the scenario's fault is lifted
        // during the third wait, so attempt 4 succeeds.
        s.sleeps.after_wait = [&s](std::size_t n) {
          if (n == 3) s.fake->set_faults({});
        };
        auto r = s.api->describe_service(ServiceId{kAlpha});
        QFS_REQUIRE_OK(r);
        CHECK(r->service_id.value == kAlpha);
        const auto waits = s.sleeps.waits();
        CHECK(waits.size() == 3);
        // Bounds: [0, 200], [0, 400], [0, 800] ms.
        check_full_jitter(waits, s.options.retry);
        CHECK(s.api_count("DescribeService", kInternalError) == 3);
        CHECK(s.api_count("DescribeService", "OK") == 1);
      }
    }
  }

  TEST_CASE("qianfan: persistent throttling gives up after max attempts with the last error") {
    for (const auto& t : kTransports) {
      SUBCASE(std::string(t.name).c_str()) {
        Stack s({.tls = t.tls});
        s.set_faults(R"({"*":{"errors":{"RequestLimitExceeded":1}}})");
        auto r = s.api->describe_compute_unit(InstanceId{kUnitA});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::Transient);
        CHECK(r.error().remote_code == kRequestLimitExceeded);
        CHECK(r.error().http_status == 429);
        CHECK_FALSE(r.error().request_id.empty());
        CHECK_MESSAGE(r.error().to_string().find("(4 attempts)") != std::string::npos,
                      r.error().to_string());
        // None after the last attempt. The fake's Retry-After: 1 is a floor under the jittered
        // backoff, whose bounds here are 200, 400 and 800 ms: every wait is exactly 1 s.
        CHECK(s.sleeps.waits() == std::vector<milliseconds>(3, 1'000ms));
        CHECK(r.error().retry_after == std::optional<milliseconds>(1'000ms));
        CHECK(s.api_count("DescribeComputeUnit", kRequestLimitExceeded) == 4);

        // The error returned is the last attempt's, not the first's: 500 InternalError three
        // times, then 429 RequestLimitExceeded.
        s.sleeps.clear();
        s.set_faults(R"({"*":{"errors":{"InternalError":1}}})");
        s.sleeps.after_wait = [&s](std::size_t n) {
          if (n == 3) s.set_faults(R"({"*":{"errors":{"RequestLimitExceeded":1}}})");
        };
        auto last = s.api->describe_service(ServiceId{kAlpha});
        REQUIRE_FALSE(last.has_value());
        CHECK(last.error().remote_code == kRequestLimitExceeded);
        CHECK(last.error().http_status == 429);
        CHECK(s.sleeps.waits().size() == 3);
        CHECK(s.api_count("DescribeService", kInternalError) == 3);
        CHECK(s.api_count("DescribeService", kRequestLimitExceeded) == 1);
      }
    }
  }

  TEST_CASE("qianfan: a dropped connection is Transient and the retry succeeds") {
    for (const auto& t : kTransports) {
      SUBCASE(std::string(t.name).c_str()) {
        Stack s({.tls = t.tls});
        s.set_faults(R"({"ScaleService":{"dropRate":1}})");
        s.sleeps.after_wait = [&s](std::size_t n) {
          if (n == 1) s.clear_faults();
        };
        auto r = s.api->scale_service(ScaleServiceRequest{
            .service = ServiceId{kGamma}, .instance = InstanceId{kUnitB}, .replicas = Replicas{3}});
        QFS_REQUIRE_OK(r);
        CHECK(s.sleeps.waits().size() == 1);
        check_full_jitter(s.sleeps.waits(), s.options.retry);
        // The API client's first request used a fresh connection, so the HTTP client did not
        // resend it on its own: one drop, then one success.
        CHECK(s.api_count("ScaleService", "dropped") == 1);
        CHECK(s.api_count("ScaleService", "OK") == 1);
        auto gamma = s.api->describe_service(ServiceId{kGamma});
        QFS_REQUIRE_OK(gamma);
        CHECK(gamma->resource_config.replicas == Replicas{3});

        // With retries disabled the drop itself is returned.
        s.set_faults(R"({"ScaleService":{"dropRate":1}})");
        s.sleeps.after_wait = nullptr;
        s.sleeps.clear();
        ClientConfig config;
        config.credentials = kCredentials;
        config.base_url = s.base;
        config.retry.max_attempts = 1;
        auto single = make_qianfan_client(config, *s.http, s.clock, s.random, s.sleeps.function());
        QFS_REQUIRE_OK(single);
        auto dropped = (*single)->scale_service(ScaleServiceRequest{
            .service = ServiceId{kGamma}, .instance = InstanceId{kUnitB}, .replicas = Replicas{2}});
        REQUIRE_FALSE(dropped.has_value());
        CHECK(dropped.error().code == ErrorCode::Transient);
        CHECK(dropped.error().http_status == 0);
        CHECK(s.sleeps.waits().empty());
      }
    }
  }

  TEST_CASE("qianfan: a reply slower than the request timeout is a Transient timeout") {
    for (const auto& t : kTransports) {
      SUBCASE(std::string(t.name).c_str()) {
        Stack s({.tls = t.tls,
                 .retry = {.max_attempts = 2, .base_delay = 200ms, .max_delay = 5'000ms},
                 .request_timeout = 200ms});
        s.set_faults(R"({"DescribeService":{"latency":"20s"}})");
        const auto began = std::chrono::steady_clock::now();
        auto r = within(15s, [&] { return s.api->describe_service(ServiceId{kAlpha}); });
        const auto took = std::chrono::steady_clock::now() - began;
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::Transient);
        CHECK_MESSAGE(r.error().message.find("timed out after 200 ms") != std::string::npos,
                      r.error().message);
        CHECK(r.error().to_string().find("(2 attempts)") != std::string::npos);
        CHECK(s.sleeps.waits().size() == 1);
        CHECK(took >= 400ms);  // two attempts of 200 ms each; the recorded wait did not sleep
        CHECK(took < 10s);
        // The fake still answers other actions promptly on the same client.
        auto unit = within(15s, [&] { return s.api->describe_compute_unit(InstanceId{kUnitA}); });
        QFS_REQUIRE_OK(unit);
        // Stopping the server must not wait for the 20 s of injected latency either.
        within(10s, [&] { s.server->stop(); });
      }
    }
  }

  TEST_CASE("qianfan: one client shared by several threads") {
    Stack s({.tls = true});
    constexpr int kThreads = 4;
    constexpr int kPerThread = 20;
    std::vector<int> ok(kThreads, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&s, &ok, i] {
        for (int j = 0; j < kPerThread; ++j) {
          // Each thread scales gamma on unit B to 1..4 replicas (at most 8 units: always fits)
          // and reads it back.
          const auto replicas = Replicas{1 + (i + j) % 4};
          auto scaled = s.api->scale_service(ScaleServiceRequest{
              .service = ServiceId{kGamma}, .instance = InstanceId{kUnitB}, .replicas = replicas});
          auto read = s.api->describe_service(ServiceId{kGamma});
          if (scaled && read) ++ok[static_cast<std::size_t>(i)];
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (const int n : ok) CHECK(n == kPerThread);
    CHECK(s.api_count("ScaleService", "OK") == std::uint64_t{kThreads} * kPerThread);
    CHECK(s.sleeps.waits().empty());
  }
}

}  // namespace
}  // namespace qfscale::qianfan
