// Multi-tick scenarios of the engine: the Kubernetes HPA `behavior` examples, the Knative panic
// lifecycle, missing metrics over time, scale-to-zero and wake, and where scale events come from.
// The driver feeds each recommendation back as the next tick's current count unless a row says
// the world did something else.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/policy/engine.h"

#include "unit/policy/engine_support.h"

namespace qfscale::policy {
namespace {

using namespace testing;
using model::Reason;
using model::Replicas;

const ScalingRules kHpaDefaultUp{
    .stabilization_window = 0s,
    .select = Select::Max,
    .policies = {{RateLimitType::Percent, 100, 15s}, {RateLimitType::Replicas, 4, 15s}}};

TEST_SUITE("policy") {
  TEST_CASE("engine: HPA docs, scale-up max(100%, 4 pods) per 15 s goes 1 -> 5 -> 10 -> 20") {
    auto spec = plain();
    spec.scale_up = kHpaDefaultUp;
    Driver d{make(spec), {}};
    // 1000 qps / 5 = 200 wanted. Each tick 15 s apart; the previous change is stamped at the
    // previous tick, exactly 15 s ago, so it is at the period's cutoff and no longer counts:
    //   1: max(ceil(1 x 2) = 2, 1 + 4 = 5) = 5
    //   5: max(10, 9) = 10;  10: max(20, 14) = 20;  20: max(40, 24) = 40
    const int want[] = {5, 10, 20, 40};
    int current = 1;
    for (int i = 0; i < 4; ++i) {
      CAPTURE(i);
      const auto r = d.tick(input(std::chrono::seconds{15 * i}, 1000.0, current));
      CHECK(r.replicas == Replicas{want[i]});
      CHECK(r.reason == Reason::RateLimited);
      current = r.replicas.value;
    }
  }

  TEST_CASE("engine: HPA rate limit with ticks shorter than the period waits out the period") {
    auto spec = plain();
    spec.scale_up = kHpaDefaultUp;
    Driver d{make(spec), {}};
    struct Row {
      std::chrono::seconds t;
      int want;
    };
    // t=0: 1 -> 5 (event +4 stamped at 0).
    // t=5, 10: the event is inside (t - 15, t]: base 5 - 4 = 1 -> limit 5: held.
    // t=15: the event at 0 is at the cutoff 15 - 15 = 0: out; base 5 -> 10.
    const Row rows[] = {{0s, 5}, {5s, 5}, {10s, 5}, {15s, 10}};
    int current = 1;
    for (const auto& row : rows) {
      CAPTURE(row.t.count());
      const auto r = d.tick(input(row.t, 1000.0, current));
      CHECK(r.replicas == Replicas{row.want});
      current = r.replicas.value;
    }
  }

  TEST_CASE("engine: HPA docs, scale-down stabilization 300 s keeps the highest recommendation") {
    auto spec = plain();
    spec.scale_down.stabilization_window = 300s;
    Driver d{make(spec), {}};
    // t=0: 50 qps -> 10. Then demand drops to 20 qps -> 4 each tick (60 s apart).
    CHECK(d.tick(input(0s, 50.0, 10)).replicas == Replicas{10});
    struct Row {
      std::chrono::seconds t;
      int want;
      Reason reason;
    };
    // max over (t - 300, t]: the 10 recorded at 0 counts until t = 300 (cutoff 0 is out).
    const Row rows[] = {{60s, 10, Reason::Stabilized},  {120s, 10, Reason::Stabilized},
                        {240s, 10, Reason::Stabilized}, {299s, 10, Reason::Stabilized},
                        {300s, 4, Reason::ScaleDown},   {360s, 4, Reason::None}};
    int current = 10;
    for (const auto& row : rows) {
      CAPTURE(row.t.count());
      const auto r = d.tick(input(row.t, 20.0, current));
      CHECK(r.replicas == Replicas{row.want});
      CHECK(r.reason == row.reason);
      current = r.replicas.value;
    }
  }

  TEST_CASE("engine: Knative panic enters at 2x, holds, and exits after a calm 60 s window") {
    auto spec = plain();
    spec.metric_window = 60s;
    spec.panic = {.enabled = true, .window = 6s, .threshold = 2.0};
    spec.target.tolerance = 0.1;
    Driver d{make(spec), {}};
    // t = 0..59: 20 qps on 4 replicas, exactly the target: steady at 4.
    for (int t = 0; t < 60; ++t) {
      const auto r = d.tick(input(std::chrono::seconds{t}, 20.0, 4));
      REQUIRE(r.replicas == Replicas{4});
      REQUIRE_FALSE(r.panicking);
    }
    // t = 60: a 140 qps burst. Panic window (54, 60]: (5 x 20 + 140) / 6 = 40 -> ceil(40 / 5) = 8;
    // 8 / 4 = 2 >= 2: panic. Stable window (0, 60]: (59 x 20 + 140) / 60 = 22 -> ratio
    // 22 / 20 = 1.1, inside tolerance 0.1: stable alone would hold 4. Panic takes max(4, 8) = 8.
    auto r = d.tick(input(60s, 140.0, 4));
    CHECK(r.panicking);
    CHECK(r.replicas == Replicas{8});
    CHECK(r.reason == Reason::PanicEntered);
    // t = 61..119: back to 20 qps on 8 replicas. The burst stays in the stable window until 120
    // (stable 22 -> raw ceil(22 / 5) = 5), and leaves the panic window at 66 (panic 20 -> 4):
    // neither may pull the count below the panic high of 8.
    for (int t = 61; t < 120; ++t) {
      CAPTURE(t);
      r = d.tick(input(std::chrono::seconds{t}, 20.0, 8));
      REQUIRE(r.panicking);
      REQUIRE(r.replicas == Replicas{8});
    }
    CHECK(r.reason == Reason::PanicHold);
    // t = 120: 120 - 60 = 60 s since the condition last held: a full window, panic over.
    // Stable (60, 120]: 20 -> raw 4; ratio 20 / 40 = 0.5: outside tolerance: 4.
    r = d.tick(input(120s, 20.0, 8));
    CHECK_FALSE(r.panicking);
    CHECK(r.replicas == Replicas{4});
    CHECK(d.state.panic_max == Replicas{0});
  }

  TEST_CASE("engine: missing metrics over time, Hold versus Fallback") {
    struct Row {
      std::optional<double> qps;
      int hold;
      int fallback;
    };
    // current starts at 6 (30 qps / 5). Fallback: after 2, fallbackReplicas 3.
    const Row rows[] = {
        {30.0, 6, 6},          // a good sample: 6
        {std::nullopt, 6, 6},  // failure 1: both hold
        {std::nullopt, 6, 3},  // failure 2 >= after 2: Fallback goes to 3
        {std::nullopt, 6, 3},  // failure 3
        {10.0, 2, 2},          // metrics back: 10 / 5 = 2 (no stabilization in plain())
    };
    for (auto action : {MetricsFailureAction::Hold, MetricsFailureAction::Fallback}) {
      auto spec = plain();
      spec.on_metrics_failure = {.after = 2, .action = action, .fallback_replicas = Replicas{3}};
      Driver d{make(spec), {}};
      int current = 6;
      int t = 0;
      for (const auto& row : rows) {
        CAPTURE(t);
        const auto r = d.tick(input(std::chrono::seconds{t}, row.qps, current));
        CHECK(r.replicas ==
              Replicas{action == MetricsFailureAction::Hold ? row.hold : row.fallback});
        current = r.replicas.value;
        t += 15;
      }
      CHECK(d.state.metric_failures == 0);
    }
  }

  TEST_CASE("engine: scale to zero after idleFor, stay there, wake on the panic window") {
    auto spec = plain();
    spec.metric_window = 60s;
    spec.panic = {.enabled = true, .window = 6s, .threshold = 2.0};
    spec.replicas.min = Replicas{0};
    spec.scale_to_zero = {.enabled = true, .idle_for = 120s, .activation_qps = 0.5};
    Driver d{make(spec), {}};
    int current = 1;
    // 0 qps from t = 0: idle since 0; 120 s later (t = 120) the service goes to zero.
    for (int t = 0; t <= 130; t += 10) {
      CAPTURE(t);
      const auto r = d.tick(input(std::chrono::seconds{t}, 0.0, current));
      CHECK(r.replicas == Replicas{t >= 120 ? 0 : 1});
      current = r.replicas.value;
    }
    // t = 131..199 at zero, 0 qps: stays at zero.
    for (int t = 131; t < 200; ++t) {
      const auto r = d.tick(input(std::chrono::seconds{t}, 0.0, 0));
      REQUIRE(r.replicas == Replicas{0});
    }
    // t = 200: 3 qps. Stable (140, 200]: 3 / 60 = 0.05 < 0.5, but the panic window (194, 200]:
    // 3 / 6 = 0.5 >= 0.5: activate with raw max(1, ceil(0.05 / 5)) = 1.
    const auto r = d.tick(input(200s, 3.0, 0));
    CHECK(r.replicas == Replicas{1});
    CHECK(r.reason == Reason::Activated);
  }

  TEST_CASE("engine: scale events come from the observed count, whoever changed it") {
    auto spec = plain();
    spec.scale_up = {.policies = {{RateLimitType::Replicas, 4, 60s}}};
    Driver d{make(spec), {}};
    // t=0: 10 qps on 2 -> 2.
    CHECK(d.tick(input(0s, 10.0, 2)).replicas == Replicas{2});
    // An operator scales to 6 by hand. t=10: event +4 stamped at 0, inside (−50, 10]:
    // base 6 - 4 = 2 -> limit 2 + 4 = 6: the demand for ceil(100 / 5) = 20 is held at 6.
    auto r = d.tick(input(10s, 100.0, 6));
    CHECK(r.replicas == Replicas{6});
    CHECK(r.reason == Reason::RateLimited);
    REQUIRE(d.state.scale_events.size() == 1);
    CHECK(d.state.scale_events[0] == ScaleEvent{.at = at(0s), .change = 4});
    // t=70: (10, 70]: the +4 at 0 is out; base 6 -> 10.
    r = d.tick(input(70s, 100.0, 6));
    CHECK(r.replicas == Replicas{10});
    // The allocator gave only 7 of the 10: t=80 observes 7, an event of +1 (not +4) stamped at
    // 70, when the decision was made; base 7 - 1 = 6 -> limit 10.
    r = d.tick(input(80s, 100.0, 7));
    CHECK(r.replicas == Replicas{10});
    CHECK(d.state.scale_events.back() == ScaleEvent{.at = at(70s), .change = 1});
  }

  TEST_CASE("engine: Knative max rates as Percent policies with a period shorter than the tick") {
    // maxScaleUpRate 1000 -> Percent 99900 / 1 s; maxScaleDownRate 2 -> Percent 50 / 1 s.
    auto spec = plain();
    spec.scale_up = {.policies = {{RateLimitType::Percent, 99900, 1s}}};
    spec.scale_down = {.policies = {{RateLimitType::Percent, 50, 1s}}};
    Driver d{make(spec), {}};
    // ticks 2 s apart: each limit is against the current count only.
    // down from 10 at 1 qps (raw 1): floor(10 / 2) = 5, floor(5 / 2) = 2, floor(2 / 2) = 1
    const int want[] = {5, 2, 1};
    int current = 10;
    for (int i = 0; i < 3; ++i) {
      const auto r = d.tick(input(std::chrono::seconds{2 * i}, 1.0, current));
      CHECK(r.replicas == Replicas{want[i]});
      current = r.replicas.value;
    }
    // up from 1 at 500 qps (raw 100): ceil(1 x 1000) = 1000 >= 100: no limit
    CHECK(d.tick(input(6s, 500.0, 1)).replicas == Replicas{100});
  }
}

}  // namespace
}  // namespace qfscale::policy
