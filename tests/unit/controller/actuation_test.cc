// detail::act: ScaleService calls go out concurrently, every down back before any up.

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/qianfan/errors.h"

#include "controller/controller_detail.h"
#include "support/fake_qianfan_api.h"

namespace {

using namespace std::chrono_literals;
using qfscale::capacity::Plan;
using qfscale::capacity::ScaleStep;
using qfscale::model::ActuationOutcome;
using qfscale::model::InstanceId;
using qfscale::model::Replicas;
using qfscale::model::ServiceId;
using qfscale::testing::FakeQianfanApi;

/// Forwards to a FakeQianfanApi, holding every ScaleService until `gate` calls are in flight
/// together (or `bound` passes: then the test fails on the counts, it does not hang). Records the
/// most downs and the most ups in flight at once, and whether an up was sent while a down was still
/// in flight.
class GatedApi final : public qfscale::qianfan::QianfanApi {
 public:
  GatedApi(FakeQianfanApi& inner, int gate, std::chrono::milliseconds bound = 5s)
      : inner_(inner), gate_(gate), bound_(bound) {}

  qfscale::Result<qfscale::qianfan::Ack> scale_service(
      const qfscale::qianfan::ScaleServiceRequest& r) override {
    const bool down = r.replicas < inner_.replicas(r.service, r.instance);
    {
      std::unique_lock lock(mutex_);
      ++in_flight_;
      if (down) ++downs_in_flight_;
      if (!down && downs_in_flight_ > 0) up_during_down_ = true;
      auto& most = down ? max_downs_in_flight_ : max_ups_in_flight_;
      most = std::max(most, down ? downs_in_flight_ : in_flight_ - downs_in_flight_);
      released_ = released_ || in_flight_ >= gate_;
      changed_.notify_all();
      changed_.wait_for(lock, bound_, [&] { return released_; });
    }
    auto ack = inner_.scale_service(r);
    const std::lock_guard lock(mutex_);
    --in_flight_;
    if (down) --downs_in_flight_;
    // The next group (the ups) is gated again.
    if (in_flight_ == 0) released_ = false;
    return ack;
  }
  qfscale::Result<qfscale::qianfan::ServiceInfo> describe_service(const ServiceId& s) override {
    return inner_.describe_service(s);
  }
  qfscale::Result<qfscale::qianfan::ServicePage> describe_services(
      const qfscale::qianfan::DescribeServicesRequest& r) override {
    return inner_.describe_services(r);
  }
  qfscale::Result<qfscale::qianfan::Ack> modify_service(
      const qfscale::qianfan::ModifyServiceRequest& r) override {
    return inner_.modify_service(r);
  }
  qfscale::Result<qfscale::qianfan::ComputeUnitInfo> describe_compute_unit(
      const InstanceId& i) override {
    return inner_.describe_compute_unit(i);
  }
  qfscale::Result<qfscale::qianfan::ServiceMetrics> describe_service_metric(
      const qfscale::qianfan::DescribeServiceMetricRequest& r) override {
    return inner_.describe_service_metric(r);
  }

  int max_downs_in_flight() const {
    const std::lock_guard lock(mutex_);
    return max_downs_in_flight_;
  }
  int max_ups_in_flight() const {
    const std::lock_guard lock(mutex_);
    return max_ups_in_flight_;
  }
  bool up_during_down() const {
    const std::lock_guard lock(mutex_);
    return up_during_down_;
  }

 private:
  FakeQianfanApi& inner_;
  const int gate_;
  const std::chrono::milliseconds bound_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int in_flight_ = 0;
  int downs_in_flight_ = 0;
  int max_downs_in_flight_ = 0;
  int max_ups_in_flight_ = 0;
  bool released_ = false;
  bool up_during_down_ = false;
};

/// Four services at 4 replicas of GPU-I-1 (1 unit) on cu-a (32 units): s0 and s1 go down to 2,
/// s2 and s3 up to 6; 2 + 2 + 6 + 6 = 16 units fit.
struct Scenario {
  FakeQianfanApi api;
  Plan plan;
  Scenario() {
    api.add_instance(InstanceId{"cu-a"}, qfscale::model::ComputeUnits{32});
    for (int i = 0; i < 4; ++i) {
      const ServiceId id{"s" + std::to_string(i)};
      qfscale::qianfan::ServiceInfo info;
      info.service_id = id;
      info.resource_config.type = "GPU-I-1";
      api.add_service(info);
      api.place(id, InstanceId{"cu-a"}, Replicas{4});
      plan.steps.push_back(ScaleStep{.service = id,
                                     .instance = InstanceId{"cu-a"},
                                     .from = Replicas{4},
                                     .to = Replicas{i < 2 ? 2 : 6}});
    }
    plan.downs = 2;
  }
};

}  // namespace

TEST_SUITE("controller") {
  TEST_CASE("act: calls go out concurrently, and every down is back before any up is sent") {
    Scenario s;
    GatedApi gated(s.api, 2);  // both downs must be in flight together, then both ups
    const qfscale::util::ManualClock clock;
    const auto acted = qfscale::controller::detail::act(gated, clock, s.plan, false, 4);
    CHECK(gated.max_downs_in_flight() == 2);
    CHECK(gated.max_ups_in_flight() == 2);
    CHECK_FALSE(gated.up_during_down());
    REQUIRE(acted.calls.size() == 4);
    REQUIRE(acted.api_calls.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      CHECK(acted.calls[i].outcome == ActuationOutcome::Applied);
      CHECK(acted.calls[i].to == s.plan.steps[i].to);  // in plan order
      CHECK(s.api.replicas(s.plan.steps[i].service, InstanceId{"cu-a"}) == s.plan.steps[i].to);
    }
  }

  TEST_CASE("act: concurrency 1 sends one call at a time") {
    // Each call waits up to 100 ms for a second one to join it; at concurrency 1 none may.
    Scenario s;
    GatedApi gated(s.api, 2, 100ms);
    const qfscale::util::ManualClock clock;
    const auto acted = qfscale::controller::detail::act(gated, clock, s.plan, false, 1);
    CHECK(gated.max_downs_in_flight() == 1);
    CHECK(gated.max_ups_in_flight() == 1);
    CHECK(acted.api_calls.size() == 4);
  }

  TEST_CASE("act: a failed down skips the ups on its instance, whatever the concurrency") {
    for (const int concurrency : {1, 4}) {
      CAPTURE(concurrency);
      Scenario s;
      s.api.fail_next_for(qfscale::testing::QianfanAction::ScaleService, "s1",
                          qfscale::util::make_error(qfscale::ErrorCode::Transient, "timeout"));
      const qfscale::util::ManualClock clock;
      const auto acted = qfscale::controller::detail::act(s.api, clock, s.plan, false, concurrency);
      CHECK(acted.calls[0].outcome == ActuationOutcome::Applied);
      CHECK(acted.calls[1].outcome == ActuationOutcome::Failed);
      CHECK(acted.calls[2].outcome == ActuationOutcome::Skipped);
      CHECK(acted.calls[3].outcome == ActuationOutcome::Skipped);
      CHECK(acted.calls[2].error.find("not sent: a scale-down on cu-a failed") == 0);
      CHECK(acted.api_calls.size() == 2);  // only what was sent
      CHECK(s.api.count(qfscale::testing::QianfanAction::ScaleService) == 2);
    }
  }

  TEST_CASE("act: a refused down skips the ups on its instance only") {
    // cu-a: s0 down (refused), s1 up; cu-b: s2 up. Only s1's up depends on the refused units.
    FakeQianfanApi api;
    api.add_instance(InstanceId{"cu-a"}, qfscale::model::ComputeUnits{32});
    api.add_instance(InstanceId{"cu-b"}, qfscale::model::ComputeUnits{32});
    Plan plan;
    const std::array<std::tuple<const char*, const char*, int, int>, 3> steps = {
        {{"s0", "cu-a", 4, 2}, {"s1", "cu-a", 4, 6}, {"s2", "cu-b", 4, 6}}};
    for (const auto& [service, instance, from, to] : steps) {
      qfscale::qianfan::ServiceInfo info;
      info.service_id = ServiceId{service};
      info.resource_config.type = "GPU-I-1";
      api.add_service(info);
      api.place(ServiceId{service}, InstanceId{instance}, Replicas{from});
      plan.steps.push_back(ScaleStep{.service = ServiceId{service},
                                     .instance = InstanceId{instance},
                                     .from = Replicas{from},
                                     .to = Replicas{to}});
    }
    plan.downs = 1;
    auto refused = qfscale::util::make_error(qfscale::ErrorCode::Remote, "no units left");
    refused.remote_code = qfscale::qianfan::kInsufficientComputeUnits;
    api.fail_next_for(qfscale::testing::QianfanAction::ScaleService, "s0", refused);
    const qfscale::util::ManualClock clock;
    const auto acted = qfscale::controller::detail::act(api, clock, plan, false, 4);
    CHECK(acted.calls[0].outcome == ActuationOutcome::Refused);
    CHECK(acted.calls[1].outcome == ActuationOutcome::Skipped);
    CHECK(acted.calls[2].outcome == ActuationOutcome::Applied);
    CHECK(api.replicas(ServiceId{"s2"}, InstanceId{"cu-b"}) == Replicas{6});
    CHECK(api.replicas(ServiceId{"s1"}, InstanceId{"cu-a"}) == Replicas{4});
  }

  TEST_CASE("act: dry-run sends nothing") {
    Scenario s;
    const qfscale::util::ManualClock clock;
    const auto acted = qfscale::controller::detail::act(s.api, clock, s.plan, true, 4);
    CHECK(acted.api_calls.empty());
    CHECK(s.api.count(qfscale::testing::QianfanAction::ScaleService) == 0);
    for (const auto& call : acted.calls) CHECK(call.outcome == ActuationOutcome::DryRun);
  }
}
