// The controller under API faults, metric outages and reloads. Every test asserts the
// exact ScaleService calls the fake received: a fault may delay a scale, never make a wrong or
// duplicate one.

#include <doctest/doctest.h>

#include "qfscale/controller/controller.h"
#include "qfscale/qianfan/errors.h"

#include "unit/controller/fixture.h"

namespace qfscale::controller::test {
namespace {

using telemetry::ApiAction;
using telemetry::ApiCode;

Error api_error(ErrorCode code, std::string message, std::string remote_code = {},
                int http_status = 0) {
  Error e = util::make_error(code, std::move(message));
  e.remote_code = std::move(remote_code);
  e.http_status = http_status;
  return e;
}

Error capacity_refusal() {
  return api_error(ErrorCode::Remote, "not enough compute units",
                   std::string(qianfan::kInsufficientComputeUnits), 400);
}

std::vector<ApiCode> codes_of(const telemetry::TickReport& r, ApiAction action) {
  std::vector<ApiCode> out;
  for (const auto& c : r.api_calls) {
    if (c.action == action) out.push_back(c.code);
  }
  return out;
}

/// cu-x: 10 units, 1 per replica; svc-a runs 6, svc-b 4 (both steady at t=0: 30 qps -> 6,
/// 20 qps -> 4). Then a wants 2 (10 qps) and b wants 8 (40 qps): a's down must come first.
void shared_instance(Harness& h) {
  h.add_instance("cu-x", 10);
  h.add_service("svc-a", {"cu-x"}, kNoWindow, "CPU-I-1");
  h.add_service("svc-b", {"cu-x"}, kNoWindow, "CPU-I-1");
  h.place("svc-a", "cu-x", 6);
  h.place("svc-b", "cu-x", 4);
  h.start();
  h.qps.set(ServiceId{"svc-a"}, 30);
  h.qps.set(ServiceId{"svc-b"}, 20);
  h.tick_at(0s);
  REQUIRE(h.new_scales() == "");
  h.qps.set(ServiceId{"svc-a"}, 10);
  h.qps.set(ServiceId{"svc-b"}, 40);
}

TEST_SUITE("controller") {
  TEST_CASE("controller: a failed DescribeService leaves that service alone for the tick") {
    struct Case {
      std::string_view name;
      Error error;
      ApiCode want;
    };
    const Case cases[] = {
        {.name = "timeout",
         .error = api_error(ErrorCode::Transient, "timed out after 10s"),
         .want = ApiCode::Transport},
        {.name = "503 without a body",
         .error = api_error(ErrorCode::Transient, "HTTP 503", "", 503),
         .want = ApiCode::Transport},
        {.name = "500 InternalError",
         .error = api_error(ErrorCode::Transient, "oops", "InternalError", 500),
         .want = ApiCode::InternalError},
        {.name = "throttled",
         .error = api_error(ErrorCode::Transient, "slow down", "RequestLimitExceeded", 429),
         .want = ApiCode::RequestLimitExceeded},
        {.name = "access denied",
         .error = api_error(ErrorCode::Remote, "no", "AccessDenied", 403),
         .want = ApiCode::AccessDenied},
        {.name = "undecodable reply",
         .error = api_error(ErrorCode::Remote, "malformed DescribeService reply", "", 200),
         .want = ApiCode::BadReply},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        Harness h;
        shared_instance(h);
        const auto before = h.controller->states().at(ServiceId{"svc-a"});
        h.api.fail_next_for(QianfanAction::DescribeService, "svc-a", c.error);
        auto r = h.tick_at(15s);
        // a's 6 units stay a's, so b may not grow past 10 - 6 = 4: no call at all.
        CHECK(h.new_scales() == "");
        const auto& a = decision(r, "svc-a");
        CHECK(a.reason == Reason::ObserveFailed);
        CHECK(a.outcome == ActuationOutcome::Skipped);
        CHECK(a.current == Replicas{6});  // from DescribeComputeUnit
        CHECK(a.granted == Replicas{6});
        CHECK(a.steps.empty());
        CHECK(h.controller->states().at(ServiceId{"svc-a"}) == before);
        const auto& b = decision(r, "svc-b");
        CHECK(b.granted == Replicas{4});
        CHECK(b.unmet == Replicas{4});
        CHECK(codes_of(r, ApiAction::DescribeService) == std::vector{c.want, ApiCode::Ok});
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].stage == telemetry::TickStage::Observe);
        CHECK(r.errors[0].code == telemetry::tick_error_code(c.want));
        CHECK(r.errors[0].message.find("svc-a") != std::string::npos);
        CHECK(a.errors == std::vector{r.errors[0].message});
        CHECK_FALSE(r.services[0].observed);
        CHECK(r.services[1].observed);
        CHECK(r.success);  // one service of two could not be observed

        // Next tick observes afresh: down first, then up.
        r = h.tick_at(30s);
        CHECK(h.new_scales() == "svc-a@cu-x=2 svc-b@cu-x=8");
      }
    }
  }

  TEST_CASE("controller: every DescribeService failing makes the tick unsuccessful") {
    Harness h;
    shared_instance(h);
    h.api.fail_next(QianfanAction::DescribeService, api_error(ErrorCode::Transient, "down"), 2);
    const auto r = h.tick_at(15s);
    CHECK(h.new_scales() == "");
    CHECK_FALSE(r.success);
    CHECK(r.errors.size() == 2);
  }

  TEST_CASE("controller: every DescribeComputeUnit failing makes the tick unsuccessful") {
    Harness h;
    shared_instance(h);
    h.api.fail_next(QianfanAction::DescribeComputeUnit, api_error(ErrorCode::Transient, "down"));
    const auto r = h.tick_at(15s);
    CHECK(h.new_scales() == "");
    CHECK(decision(r, "svc-a").reason == Reason::ObserveFailed);
    CHECK(decision(r, "svc-b").reason == Reason::ObserveFailed);
    CHECK(r.instances.empty());
    CHECK_FALSE(r.success);
  }

  TEST_CASE("controller: a failed DescribeComputeUnit freezes the services that may use it") {
    Harness h;
    h.add_instance("cu-x", 40);
    h.add_instance("cu-y", 40);
    h.add_service("svc-a", {"cu-x"});
    h.add_service("svc-c", {"cu-y", "cu-x"});  // may use cu-x too
    h.add_service("svc-d", {"cu-y"});
    h.start();
    for (auto s : {"svc-a", "svc-c", "svc-d"}) h.qps.set(ServiceId{s}, 10);  // 2 each
    h.api.fail_next_for(QianfanAction::DescribeComputeUnit, "cu-x",
                        api_error(ErrorCode::Transient, "bad gateway", "InternalError", 502));
    auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "svc-d@cu-y=2");
    CHECK(decision(r, "svc-a").reason == Reason::ObserveFailed);
    CHECK(decision(r, "svc-c").reason == Reason::ObserveFailed);
    CHECK(codes_of(r, ApiAction::DescribeComputeUnit) ==
          std::vector{ApiCode::InternalError, ApiCode::Ok});
    REQUIRE(r.instances.size() == 1);
    CHECK(r.instances[0].instance == InstanceId{"cu-y"});
    CHECK(r.success);
    r = h.tick_at(15s);
    CHECK(h.new_scales() == "svc-a@cu-x=2 svc-c@cu-y=2");
  }

  TEST_CASE("controller: a throttled ScaleService is sent once and re-planned next tick") {
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    h.place("svc-a", "cu-a", 2);
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 50);
    h.api.fail_next(QianfanAction::ScaleService,
                    api_error(ErrorCode::Transient, "slow down", "RequestLimitExceeded", 429));
    auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "svc-a@cu-a=10");
    const auto& d = decision(r, "svc-a");
    CHECK(calls_of(d) == "cu-a:2->10:failed");
    CHECK(d.calls[0].error.find("slow down") != std::string::npos);
    CHECK(d.outcome == ActuationOutcome::Failed);
    CHECK(codes_of(r, ApiAction::ScaleService) == std::vector{ApiCode::RequestLimitExceeded});
    CHECK(r.success);
    // The cause is an error of the act stage, in the report and the decision.
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].stage == telemetry::TickStage::Act);
    CHECK(r.errors[0].code == telemetry::TickErrorCode::RequestLimitExceeded);
    CHECK(r.errors[0].message.find("slow down") != std::string::npos);
    CHECK(d.errors == std::vector{r.errors[0].message});
    r = h.tick_at(15s);
    CHECK(h.new_scales() == "svc-a@cu-a=10");
    CHECK(decision(r, "svc-a").outcome == ActuationOutcome::Applied);
    r = h.tick_at(30s);
    CHECK(h.new_scales() == "");
  }

  TEST_CASE("controller: a capacity refusal is re-planned from a fresh observation") {
    // cu-a: 40 units. The plan asks for 10 x 2 = 20; meanwhile someone else takes 30 units and
    // the console refuses. Next tick sees 10 units left: 5 replicas.
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_foreign_service("svc-other");
    h.add_service("svc-a", {"cu-a"});
    h.place("svc-a", "cu-a", 2);
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 50);
    h.api.fail_next_for(QianfanAction::ScaleService, "svc-a", capacity_refusal());
    auto r = h.tick_at(0s);
    CHECK(h.new_scales() == "svc-a@cu-a=10");
    CHECK(calls_of(decision(r, "svc-a")) == "cu-a:2->10:refused");
    CHECK(decision(r, "svc-a").outcome == ActuationOutcome::Refused);
    h.place("svc-other", "cu-a", 13);  // 26 units; with a's 4: 30 used, 10 left
    r = h.tick_at(15s);
    // 2 replicas held + 10 free units / 2 units = 5 more: 7 replicas, unmet 10 - 7 = 3.
    CHECK(h.new_scales() == "svc-a@cu-a=7");
    CHECK(decision(r, "svc-a").unmet == Replicas{3});
    CHECK(h.replicas("svc-a", "cu-a") == 7);
  }

  TEST_CASE("controller: a failed scale-down blocks the scale-ups on its instance only") {
    Harness h;
    h.add_instance("cu-y", 10);
    h.add_service("svc-c", {"cu-y"}, kNoWindow, "CPU-I-1");
    h.place("svc-c", "cu-y", 2);
    h.qps.set(ServiceId{"svc-c"}, 10);  // 2: steady
    shared_instance(h);                 // starts the controller
    h.qps.set(ServiceId{"svc-c"}, 20);  // 2 -> 4 on cu-y
    h.api.fail_next_for(QianfanAction::ScaleService, "svc-a",
                        api_error(ErrorCode::Transient, "connection reset"));
    auto r = h.tick_at(15s);
    // a's down failed: b's up on cu-x is not sent; c's up on cu-y is.
    CHECK(h.new_scales() == "svc-a@cu-x=2 svc-c@cu-y=4");
    CHECK(calls_of(decision(r, "svc-a")) == "cu-x:6->2:failed");
    const auto& b = decision(r, "svc-b");
    CHECK(calls_of(b) == "cu-x:4->8:skipped");
    CHECK(b.calls[0].error.find("not sent") != std::string::npos);
    CHECK(b.outcome == ActuationOutcome::Skipped);
    CHECK(decision(r, "svc-c").outcome == ActuationOutcome::Applied);
    CHECK(h.replicas("svc-b", "cu-x") == 4);
    r = h.tick_at(30s);
    CHECK(h.new_scales() == "svc-a@cu-x=2 svc-b@cu-x=8");
  }

  TEST_CASE("controller: a metric source outage holds every service") {
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"}, kNoWindow);
    h.place("svc-a", "cu-a", 10);
    h.start();
    h.qps.set(ServiceId{"svc-a"}, 10);  // would be 2
    h.qps.outage(demand::FailureKind::Transport);
    // onMetricsFailure {after: 3, action: Hold}: held before and after the 3rd failed tick.
    for (int i = 0; i < 5; ++i) {
      CAPTURE(i);
      const auto r = h.tick_at(std::chrono::seconds{15 * i});
      CHECK(h.new_scales() == "");
      const auto& d = decision(r, "svc-a");
      CHECK_FALSE(d.qps.has_value());
      CHECK(d.recommended == Replicas{10});
      CHECK(d.reason == Reason::MetricsMissing);
      CHECK(r.metric_errors == std::vector{telemetry::MetricSourceErrorKind::Unreachable});
      CHECK_FALSE(r.success);
    }
    h.qps.restore();
    const auto r = h.tick_at(75s);
    CHECK(h.new_scales() == "svc-a@cu-a=2");
    CHECK(r.success);
  }

  TEST_CASE("controller: metric failures map to the metric source error kinds") {
    struct Case {
      demand::FailureKind kind;
      telemetry::MetricSourceErrorKind want;
    };
    using K = demand::FailureKind;
    using W = telemetry::MetricSourceErrorKind;
    const Case cases[] = {
        {K::Transport, W::Unreachable}, {K::Missing, W::Missing},    {K::Stale, W::Stale},
        {K::HttpStatus, W::BadReply},   {K::Malformed, W::BadReply}, {K::QueryError, W::BadReply},
        {K::NotFinite, W::BadReply},    {K::Negative, W::BadReply},
    };
    for (const auto& c : cases) {
      CAPTURE(demand::to_string(c.kind));
      Harness h;
      h.add_instance("cu-a", 40);
      h.add_service("svc-a", {"cu-a"});
      h.add_service("svc-b", {"cu-a"});
      h.start();
      h.qps.set(ServiceId{"svc-a"}, 10);
      h.qps.fail(ServiceId{"svc-b"}, c.kind);
      const auto r = h.tick_at(0s);
      CHECK(r.metric_errors == std::vector{c.want});
      CHECK(r.success);  // one service still has metrics
    }
  }

  TEST_CASE("controller: reload keeps the state of services that remain") {
    Harness h;
    h.add_instance("cu-a", 40);
    h.add_service("svc-a", {"cu-a"});
    h.add_service("svc-b", {"cu-a"});
    h.start();
    REQUIRE(h.sink.configs.size() == 1);
    CHECK(h.sink.configs[0].services == std::vector{ServiceId{"svc-a"}, ServiceId{"svc-b"}});
    h.qps.set(ServiceId{"svc-a"}, 10);
    h.qps.set(ServiceId{"svc-b"}, 10);
    h.tick_at(0s);
    const auto a_state = h.controller->states().at(ServiceId{"svc-a"});

    Config next = h.config;
    next.services.erase(next.services.begin() + 1);  // drop svc-b
    auto c = next.services[0];
    c.id = ServiceId{"svc-c"};
    next.services.push_back(c);
    h.add_foreign_service("svc-c");
    REQUIRE(h.controller->reload(next).has_value());
    CHECK(h.controller->states().size() == 1);
    CHECK(h.controller->states().at(ServiceId{"svc-a"}) == a_state);
    REQUIRE(h.sink.configs.size() == 2);
    CHECK(h.sink.configs[1].success);
    CHECK(h.sink.configs[1].services == std::vector{ServiceId{"svc-a"}, ServiceId{"svc-c"}});
    const auto r = h.tick_at(15s);
    REQUIRE(r.services.size() == 2);
    CHECK(r.services[1].decision.service == ServiceId{"svc-c"});
    CHECK(h.controller->states().contains(ServiceId{"svc-c"}));

    // An inconsistent config is refused and the old one stays.
    Config bad = next;
    bad.services.push_back(bad.services[0]);  // svc-a twice
    const auto refused = h.controller->reload(bad);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message.find("svc-a is listed twice") != std::string::npos);
    CHECK(h.controller->config().services.size() == 2);
    REQUIRE(h.sink.configs.size() == 3);
    CHECK_FALSE(h.sink.configs[2].success);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
