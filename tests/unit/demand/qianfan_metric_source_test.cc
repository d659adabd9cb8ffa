#include "qfscale/demand/qianfan_metric_source.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "support/fake_qianfan_api.h"

namespace qfscale::demand {
namespace {

using namespace std::chrono_literals;
using model::ServiceId;
using testing::FakeQianfanApi;
using testing::QianfanAction;

/// 2023-11-14T22:13:20Z, a whole second.
const util::SystemTime kNow{1'700'000'000s};

/// Wraps FakeQianfanApi to record DescribeServiceMetric requests (the fake records only that a
/// call happened) and, when `reply` is set, to answer with it instead.
class RecordingApi final : public qianfan::QianfanApi {
 public:
  FakeQianfanApi fake;
  std::optional<qianfan::ServiceMetrics> reply;
  std::vector<qianfan::DescribeServiceMetricRequest> requests;

  Result<qianfan::ServiceInfo> describe_service(const ServiceId& s) override {
    return fake.describe_service(s);
  }
  Result<qianfan::ServicePage> describe_services(
      const qianfan::DescribeServicesRequest& r) override {
    return fake.describe_services(r);
  }
  Result<qianfan::Ack> scale_service(const qianfan::ScaleServiceRequest& r) override {
    return fake.scale_service(r);
  }
  Result<qianfan::Ack> modify_service(const qianfan::ModifyServiceRequest& r) override {
    return fake.modify_service(r);
  }
  Result<qianfan::ComputeUnitInfo> describe_compute_unit(const model::InstanceId& i) override {
    return fake.describe_compute_unit(i);
  }
  Result<qianfan::ServiceMetrics> describe_service_metric(
      const qianfan::DescribeServiceMetricRequest& r) override {
    requests.push_back(r);
    if (reply) return *reply;
    return fake.describe_service_metric(r);
  }

  void add(std::string_view id, std::int64_t calls) {
    qianfan::ServiceInfo info;
    info.service_id = ServiceId{id};
    info.name = std::string(id);
    fake.add_service(std::move(info));
    fake.set_call_total(ServiceId{id}, calls);
  }
};

std::unique_ptr<QpsSource> make_source(RecordingApi& api, QianfanMetricConfig config = {}) {
  auto source = make_qianfan_metric_source(config, api);
  REQUIRE_MESSAGE(source.has_value(), source.error().to_string());
  return std::move(*source);
}

Error remote_error(ErrorCode code, int status, std::string_view remote_code) {
  Error e = util::make_error(code, "DescribeServiceMetric: refused");
  e.http_status = status;
  e.remote_code = std::string(remote_code);
  return e;
}

TEST_SUITE("demand") {
  TEST_CASE("qianfan metric: qps is callTotal over the window in seconds") {
    struct Case {
      std::string_view name;
      std::int64_t calls;
      std::chrono::seconds window;
      double want;
    };
    const Case cases[] = {
        {.name = "600 calls / 60 s = 10 qps", .calls = 600, .window = 60s, .want = 10.0},
        {.name = "a real zero is a sample", .calls = 0, .window = 60s, .want = 0.0},
        {.name = "1 call / 60 s", .calls = 1, .window = 60s, .want = 1.0 / 60.0},
        {.name = "7 calls / 1 s window = 7 qps", .calls = 7, .window = 1s, .want = 7.0},
        {.name = "86400 calls / 24 h = 1 qps", .calls = 86'400, .window = 24h, .want = 1.0},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        RecordingApi api;
        api.add("svco-a", c.calls);
        auto source = make_source(api, {.window = c.window});
        const ServiceId ids[] = {ServiceId{"svco-a"}};
        const auto got = source->read(ids, kNow);
        REQUIRE(got.size() == 1);
        REQUIRE(got[0].has_value());
        CHECK(got[0]->qps == doctest::Approx(c.want));
        CHECK(got[0]->timestamp == kNow);
        CHECK(got[0]->span == c.window);  // the value is the mean over the window
      }
    }
  }

  TEST_CASE("qianfan metric: one call for all services over [now - window, now) at whole seconds") {
    struct Case {
      std::string_view name;
      util::SystemTime now;
      util::SystemTime want_end;
    };
    const Case cases[] = {
        {.name = "whole second: end is now", .now = kNow, .want_end = kNow},
        {.name = "1 ms after: rounds down", .now = kNow + 1ms, .want_end = kNow},
        {.name = "1 ms before the next second: still rounds down",
         .now = kNow + 999ms,
         .want_end = kNow},
        {.name = "1 ms before: the previous second", .now = kNow - 1ms, .want_end = kNow - 1s},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        RecordingApi api;
        api.add("svco-a", 120);
        api.add("svco-b", 30);
        auto source = make_source(api, {.window = 60s});
        const ServiceId ids[] = {ServiceId{"svco-a"}, ServiceId{"svco-b"}};
        const auto got = source->read(ids, c.now);
        REQUIRE(api.requests.size() == 1);
        CHECK(api.requests[0].services == std::vector<ServiceId>{ids[0], ids[1]});
        CHECK(api.requests[0].end == c.want_end);
        CHECK(api.requests[0].start == c.want_end - 60s);
        REQUIRE(got.size() == 2);
        REQUIRE(got[0].has_value());
        REQUIRE(got[1].has_value());
        CHECK(got[0]->qps == doctest::Approx(2.0));  // 120 / 60
        CHECK(got[1]->qps == doctest::Approx(0.5));  // 30 / 60
        CHECK(got[0]->timestamp == c.want_end);      // stamped with the window end
      }
    }
  }

  TEST_CASE("qianfan metric: a service absent from the reply is missing, others are read") {
    RecordingApi api;
    api.add("svco-a", 60);
    // svco-gone is not known to the fake, which leaves it out of serviceList.
    auto source = make_source(api);
    const ServiceId ids[] = {ServiceId{"svco-a"}, ServiceId{"svco-gone"}, ServiceId{"svco-a"}};
    const auto got = source->read(ids, kNow);
    REQUIRE(got.size() == 3);
    REQUIRE(got[0].has_value());
    CHECK(got[0]->qps == doctest::Approx(1.0));
    REQUIRE_FALSE(got[1].has_value());
    CHECK(got[1].error().kind == FailureKind::Missing);
    CHECK(got[1].error().message.find("svco-gone") != std::string::npos);
    CHECK(got[2] == got[0]);  // a repeated id gets the same reading...
    REQUIRE(api.requests.size() == 1);
    CHECK(api.requests[0].services.size() == 2);  // ...and is asked for once
  }

  TEST_CASE("qianfan metric: every failure kind, for every service of the call, never a zero") {
    struct Case {
      std::string_view name;
      Error error;
      FailureKind want;
      int want_status = 0;
      std::string_view want_type;
    };
    const Case cases[] = {
        {.name = "connect refused after retries -> transport",
         .error = util::make_error(ErrorCode::Transient, "connect to 127.0.0.1:1: refused"),
         .want = FailureKind::Transport},
        {.name = "AccessDenied 403 -> query_error with the code",
         .error = remote_error(ErrorCode::Remote, 403, "AccessDenied"),
         .want = FailureKind::QueryError,
         .want_status = 403,
         .want_type = "AccessDenied"},
        {.name = "throttled 429 with a code -> query_error",
         .error = remote_error(ErrorCode::Transient, 429, "RequestLimitExceeded"),
         .want = FailureKind::QueryError,
         .want_status = 429,
         .want_type = "RequestLimitExceeded"},
        {.name = "error code in a 200 body -> query_error",
         .error = remote_error(ErrorCode::Remote, 200, "InvalidParameter"),
         .want = FailureKind::QueryError,
         .want_status = 200,
         .want_type = "InvalidParameter"},
        {.name = "502 without a code -> http_status",
         .error = remote_error(ErrorCode::Transient, 502, ""),
         .want = FailureKind::HttpStatus,
         .want_status = 502},
        {.name = "404 without a code -> http_status",
         .error = remote_error(ErrorCode::Remote, 404, ""),
         .want = FailureKind::HttpStatus,
         .want_status = 404},
        {.name = "undecodable 200 -> malformed",
         .error = remote_error(ErrorCode::Remote, 200, ""),
         .want = FailureKind::Malformed,
         .want_status = 200},
        {.name = "request refused before sending -> query_error",
         .error = util::make_error(ErrorCode::InvalidInput, "serviceIds[] must not be empty"),
         .want = FailureKind::QueryError,
         .want_type = "invalid_input"},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        RecordingApi api;
        api.add("svco-a", 600);
        api.add("svco-b", 600);
        api.fake.fail_next(QianfanAction::DescribeServiceMetric, c.error);
        auto source = make_source(api);
        const ServiceId ids[] = {ServiceId{"svco-a"}, ServiceId{"svco-b"}};
        const auto got = source->read(ids, kNow);
        REQUIRE(got.size() == 2);
        for (const auto& reading : got) {
          REQUIRE_FALSE(reading.has_value());
          CHECK(reading.error().kind == c.want);
          CHECK(reading.error().http_status == c.want_status);
          CHECK(reading.error().error_type == c.want_type);
          CHECK(reading.error().message.find(c.error.message) != std::string::npos);
        }
        CHECK(failure_from_error(c.error).kind == c.want);
        // The fault was one call: the next tick reads again.
        const auto next = source->read(ids, kNow + 10s);
        REQUIRE(next[0].has_value());
        CHECK(next[0]->qps == doctest::Approx(10.0));
      }
    }
  }

  TEST_CASE("qianfan metric: replies that cannot be trusted are typed failures") {
    RecordingApi api;
    auto source = make_source(api);
    qianfan::ServiceMetric twice{.service_id = ServiceId{"svco-a"},
                                 .apps = {{.app_id = 1, .metric = {.call_total = 60}}}};
    qianfan::ServiceMetric negative{.service_id = ServiceId{"svco-b"},
                                    .apps = {{.app_id = 1, .metric = {.call_total = 10}},
                                             {.app_id = 2, .metric = {.call_total = -20}}}};
    // Apps are summed: 50 + 70 = 120 calls / 60 s = 2 qps; no apps at all = no calls.
    qianfan::ServiceMetric two_apps{.service_id = ServiceId{"svco-c"},
                                    .apps = {{.app_id = 1, .metric = {.call_total = 50}},
                                             {.app_id = 2, .metric = {.call_total = 70}}}};
    qianfan::ServiceMetric no_apps{.service_id = ServiceId{"svco-d"}};
    api.reply = qianfan::ServiceMetrics{.services = {twice, negative, two_apps, twice, no_apps}};
    const ServiceId ids[] = {ServiceId{"svco-a"}, ServiceId{"svco-b"}, ServiceId{"svco-c"},
                             ServiceId{"svco-d"}, ServiceId{""}};
    const auto got = source->read(ids, kNow);
    REQUIRE(got.size() == 5);
    REQUIRE_FALSE(got[0].has_value());
    CHECK(got[0].error().kind == FailureKind::Malformed);  // listed twice: ambiguous
    REQUIRE_FALSE(got[1].has_value());
    CHECK(got[1].error().kind == FailureKind::Negative);  // 10 - 20 = -10
    REQUIRE(got[2].has_value());
    CHECK(got[2]->qps == doctest::Approx(2.0));
    REQUIRE(got[3].has_value());
    CHECK(got[3]->qps == 0.0);
    REQUIRE_FALSE(got[4].has_value());
    CHECK(got[4].error().kind == FailureKind::QueryError);
    REQUIRE(api.requests.size() == 1);
    CHECK(api.requests[0].services.size() == 4);  // the empty id is never sent
  }

  TEST_CASE("qianfan metric: services are split into calls of at most max_services_per_call") {
    struct Case {
      std::string_view name;
      std::size_t services;
      std::size_t per_call;
      std::vector<std::size_t> want_calls;
    };
    const Case cases[] = {
        {.name = "at the limit: one call", .services = 100, .per_call = 100, .want_calls = {100}},
        {.name = "one above: two calls", .services = 101, .per_call = 100, .want_calls = {100, 1}},
        {.name = "below: one call", .services = 99, .per_call = 100, .want_calls = {99}},
        {.name = "250 by 100", .services = 250, .per_call = 100, .want_calls = {100, 100, 50}},
        {.name = "one per call", .services = 3, .per_call = 1, .want_calls = {1, 1, 1}},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        RecordingApi api;
        std::vector<ServiceId> ids;
        for (std::size_t i = 0; i < c.services; ++i) {
          ids.push_back(ServiceId{fmt::format("svco-{:04}", i)});
          api.add(ids.back().value, static_cast<std::int64_t>(i) * 60);  // i qps
        }
        auto source = make_source(api, {.window = 60s, .max_services_per_call = c.per_call});
        const auto got = source->read(ids, kNow);
        std::vector<std::size_t> calls;
        for (const auto& r : api.requests) calls.push_back(r.services.size());
        CHECK(calls == c.want_calls);
        REQUIRE(got.size() == c.services);
        for (std::size_t i = 0; i < c.services; ++i) {
          REQUIRE(got[i].has_value());
          CHECK(got[i]->qps == doctest::Approx(static_cast<double>(i)));
        }
      }
    }
  }

  TEST_CASE("qianfan metric: a failed call fails only its own services") {
    RecordingApi api;
    api.add("svco-a", 60);
    api.add("svco-b", 120);
    api.fake.fail_next(QianfanAction::DescribeServiceMetric,
                       util::make_error(ErrorCode::Transient, "timeout"));
    auto source = make_source(api, {.window = 60s, .max_services_per_call = 1});
    const ServiceId ids[] = {ServiceId{"svco-a"}, ServiceId{"svco-b"}};
    const auto got = source->read(ids, kNow);
    REQUIRE_FALSE(got[0].has_value());
    CHECK(got[0].error().kind == FailureKind::Transport);
    REQUIRE(got[1].has_value());
    CHECK(got[1]->qps == doctest::Approx(2.0));
  }

  TEST_CASE("qianfan metric: an unknown id refusing the call is retried one by one") {
    RecordingApi api;
    api.add("svco-a", 60);
    api.add("svco-b", 120);
    api.add("svco-c", 180);
    // The batch and then svco-a alone are refused as unknown; b and c are read alone.
    api.fake.fail_next(QianfanAction::DescribeServiceMetric,
                       remote_error(ErrorCode::Remote, 404, "ResourceNotFound"), 2);
    auto source = make_source(api);
    const ServiceId ids[] = {ServiceId{"svco-a"}, ServiceId{"svco-b"}, ServiceId{"svco-c"}};
    const auto got = source->read(ids, kNow);
    CHECK(api.requests.size() == 4);  // 1 batch + 3 singles
    REQUIRE_FALSE(got[0].has_value());
    CHECK(got[0].error().kind == FailureKind::Missing);
    REQUIRE(got[1].has_value());
    CHECK(got[1]->qps == doctest::Approx(2.0));
    REQUIRE(got[2].has_value());
    CHECK(got[2]->qps == doctest::Approx(3.0));
  }

  TEST_CASE("qianfan metric: config validation names the field and the range") {
    struct Case {
      std::string_view name;
      QianfanMetricConfig config;
      bool ok;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "window 0s is below 1s",
         .config = {.window = 0s},
         .ok = false,
         .want = "metrics.qianfan.window"},
        {.name = "window 1s at the minimum", .config = {.window = 1s}, .ok = true},
        {.name = "window 24h at the maximum", .config = {.window = 24h}, .ok = true},
        {.name = "window 24h+1s above",
         .config = {.window = 24h + 1s},
         .ok = false,
         .want = "must be 1s to 24h"},
        {.name = "zero services per call",
         .config = {.max_services_per_call = 0},
         .ok = false,
         .want = "maxServicesPerCall"},
        {.name = "one service per call", .config = {.max_services_per_call = 1}, .ok = true},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        const auto status = validate(c.config);
        CHECK(status.has_value() == c.ok);
        if (!c.ok) {
          CHECK(status.error().code == ErrorCode::InvalidInput);
          CHECK(status.error().message.find(c.want) != std::string::npos);
          RecordingApi api;
          CHECK_FALSE(make_qianfan_metric_source(c.config, api).has_value());
        }
      }
    }
  }
}

}  // namespace
}  // namespace qfscale::demand
