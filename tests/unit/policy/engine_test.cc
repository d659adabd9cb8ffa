// Stage-by-stage table tests of the recommendation engine. Each table isolates one stage with
// plain() (see engine_support.h) and has rows at, just below and just above its thresholds; the
// comments carry the arithmetic. Unless a row says otherwise: replica_qps 10 x utilization 0.5 =
// 5 qps per replica.

#include "qfscale/policy/engine.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "unit/policy/engine_support.h"

namespace qfscale::policy {
namespace {

using namespace testing;
using model::Reason;
using model::Replicas;
using model::Stage;

TEST_SUITE("policy") {
  TEST_CASE("engine: every tick records one step per stage, in stage order") {
    Driver d{make(plain()), {}};
    const auto r = d.tick(input(0s, 20.0, 1));
    REQUIRE(r.steps.size() == model::kAllStages.size());
    for (std::size_t i = 0; i < r.steps.size(); ++i)
      CHECK(r.steps[i].stage == model::kAllStages[i]);
    CHECK(r.steps.back().output == r.replicas);
  }

  TEST_CASE("engine: raw desired is ceil(qps / (replica_qps x utilization)), at least 1") {
    struct Case {
      std::string_view name;
      double qps;
      double replica_qps = 10;
      double utilization = 0.5;
      int want;
      Reason reason;  // current is 1
    };
    const Case cases[] = {
        // 20 / (10 x 0.5) = 4 exactly
        {.name = "exactly 4 replicas", .qps = 20, .want = 4, .reason = Reason::ScaleUp},
        // 20.01 / 5 = 4.002 -> 5
        {.name = "just above 4", .qps = 20.01, .want = 5, .reason = Reason::ScaleUp},
        // 19.99 / 5 = 3.998 -> 4
        {.name = "just below 4", .qps = 19.99, .want = 4, .reason = Reason::ScaleUp},
        // 5 / 5 = 1 = current
        {.name = "one replica", .qps = 5, .want = 1, .reason = Reason::None},
        // ceil(0) = 0, but zero is only a scale-to-zero decision: max(1, 0) = 1
        {.name = "zero demand keeps one", .qps = 0, .want = 1, .reason = Reason::None},
        {.name = "tiny demand", .qps = 0.001, .want = 1, .reason = Reason::None},
        // 1.1 / (0.1 x 1) is 11.000000000000002 in doubles; a naive ceil would say 12
        {.name = "binary rounding does not add a replica",
         .qps = 1.1,
         .replica_qps = 0.1,
         .utilization = 1.0,
         .want = 11,
         .reason = Reason::ScaleUp},
        // 21 / (10 x 0.7) = 3
        {.name = "utilization 0.7",
         .qps = 21,
         .utilization = 0.7,
         .want = 3,
         .reason = Reason::ScaleUp},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.target.utilization = c.utilization;
      const auto r = recommend(make(spec), input(0s, c.qps, 1, c.replica_qps), {}).recommendation;
      CHECK(step(r, Stage::RawDesired).output == Replicas{c.want});
      CHECK(step(r, Stage::RawDesired).reason == c.reason);
      CHECK(r.replicas == Replicas{c.want});
    }
  }

  TEST_CASE("engine: change inside tolerance keeps current replicas") {
    struct Case {
      std::string_view name;
      double tolerance;
      int current;
      double qps;
      int want;
      Reason reason;
    };
    const Case cases[] = {
        // current 10 x 5 = 50 qps capacity
        // 55 / 50 = 1.1, |0.1| <= 0.1: at the edge, inside (raw would be 11)
        {.name = "up, at tolerance",
         .tolerance = 0.1,
         .current = 10,
         .qps = 55,
         .want = 10,
         .reason = Reason::WithinTolerance},
        // 54.99 / 50 = 1.0998: inside (raw ceil(10.998) = 11)
        {.name = "up, just inside",
         .tolerance = 0.1,
         .current = 10,
         .qps = 54.99,
         .want = 10,
         .reason = Reason::WithinTolerance},
        // 55.01 / 50 = 1.1002: outside, raw ceil(11.002) = 12
        {.name = "up, just outside",
         .tolerance = 0.1,
         .current = 10,
         .qps = 55.01,
         .want = 12,
         .reason = Reason::ScaleUp},
        // 40 / 50 = 0.8, |-0.2| <= 0.2: at the edge, inside (raw 8)
        {.name = "down, at tolerance",
         .tolerance = 0.2,
         .current = 10,
         .qps = 40,
         .want = 10,
         .reason = Reason::WithinTolerance},
        // 40.5 / 50 = 0.81: inside (raw ceil(8.1) = 9)
        {.name = "down, just inside",
         .tolerance = 0.2,
         .current = 10,
         .qps = 40.5,
         .want = 10,
         .reason = Reason::WithinTolerance},
        // 39.99 / 50 = 0.7998: outside, raw ceil(7.998) = 8
        {.name = "down, just outside",
         .tolerance = 0.2,
         .current = 10,
         .qps = 39.99,
         .want = 8,
         .reason = Reason::ScaleDown},
        // tolerance 0: 50 / 50 = 1 holds; 50.01 -> ceil(10.002) = 11
        {.name = "zero tolerance, exact",
         .tolerance = 0,
         .current = 10,
         .qps = 50,
         .want = 10,
         .reason = Reason::None},
        {.name = "zero tolerance, above",
         .tolerance = 0,
         .current = 10,
         .qps = 50.01,
         .want = 11,
         .reason = Reason::ScaleUp},
        // current 0: the ratio is undefined, tolerance does not apply; raw max(1, ceil(0.2)) = 1
        {.name = "current zero",
         .tolerance = 0.5,
         .current = 0,
         .qps = 1,
         .want = 1,
         .reason = Reason::ScaleUp},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.target.tolerance = c.tolerance;
      const auto r = recommend(make(spec), input(0s, c.qps, c.current), {}).recommendation;
      CHECK(r.replicas == Replicas{c.want});
      CHECK(r.reason == c.reason);
      CHECK(step(r, Stage::Tolerance).changed == (c.reason == Reason::WithinTolerance));
    }
  }

  TEST_CASE("engine: scaleUp/scaleDown.tolerance override target.tolerance per direction") {
    struct Case {
      std::string_view name;
      std::optional<double> up;
      std::optional<double> down;
      double qps;  ///< current 10 x 5 = 50 qps capacity, so ratio = qps / 50
      int want;
      Reason reason;
      std::string_view applied;  ///< the end of the tolerance step's detail
    };
    constexpr std::string_view kUp = "(scale-up tolerance, from scaleUp.tolerance)";
    constexpr std::string_view kDown = "(scale-down tolerance, from scaleDown.tolerance)";
    constexpr std::string_view kTargetUp = "(scale-up tolerance, from target.tolerance)";
    constexpr std::string_view kTargetDown = "(scale-down tolerance, from target.tolerance)";
    // target.tolerance is 0.1 in every row.
    const Case cases[] = {
        // up 0, down 0.2: 1.0 keeps 10 as it is; any rise scales up; 0.8 and above holds
        {"up 0: ratio 1", 0.0, 0.2, 50, 10, Reason::None, kUp},
        {"up 0: ratio 1.0001", 0.0, 0.2, 50.005, 11, Reason::ScaleUp, kUp},  // ceil(10.001)
        {"down 0.2: ratio 0.81", 0.0, 0.2, 40.5, 10, Reason::WithinTolerance, kDown},
        {"down 0.2: ratio 0.8, at the edge", 0.0, 0.2, 40, 10, Reason::WithinTolerance, kDown},
        {"down 0.2: ratio 0.79", 0.0, 0.2, 39.5, 8, Reason::ScaleDown, kDown},  // ceil(7.9)
        // up 0.05 only: up at 1.05 holds, 1.0502 scales; down falls back to target 0.1
        {"up 0.05: ratio 1.05, at the edge", 0.05, {}, 52.5, 10, Reason::WithinTolerance, kUp},
        {"up 0.05: ratio 1.0502", 0.05, {}, 52.51, 11, Reason::ScaleUp, kUp},  // ceil(10.502)
        {"down unset: ratio 0.9 holds", 0.05, {}, 45, 10, Reason::WithinTolerance, kTargetDown},
        {"down unset: ratio 0.8998", 0.05, {}, 44.99, 9, Reason::ScaleDown, kTargetDown},
        // down 0 only: 0.9 scales down where target 0.1 would hold; up keeps target 0.1
        {"down 0: ratio 0.9", {}, 0.0, 45, 9, Reason::ScaleDown, kDown},
        {"up unset: ratio 1.1 holds", {}, 0.0, 55, 10, Reason::WithinTolerance, kTargetUp},
        {"up unset: ratio 1.1002", {}, 0.0, 55.01, 12, Reason::ScaleUp, kTargetUp},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.target.tolerance = 0.1;
      spec.scale_up.tolerance = c.up;
      spec.scale_down.tolerance = c.down;
      const auto r = recommend(make(spec), input(0s, c.qps, 10), {}).recommendation;
      CHECK(r.replicas == Replicas{c.want});
      CHECK(r.reason == c.reason);
      const auto& s = step(r, Stage::Tolerance);
      CHECK(s.changed == (c.reason == Reason::WithinTolerance));
      CHECK_MESSAGE(s.detail.ends_with(c.applied), s.detail);
    }
  }

  TEST_CASE("engine: metric windows average the samples newer than now - window") {
    auto spec = plain();
    spec.metric_window = 60s;
    spec.panic = {.enabled = true, .window = 6s, .threshold = 10};
    EngineState s;
    s.samples = {{.at = at(40s), .qps = 100},  // 60 s before now: outside both windows
                 {.at = at(41s), .qps = 10},   // 59 s before: inside the stable window
                 {.at = at(94s), .qps = 70},   // 6 s before: outside the panic window
                 {.at = at(95s), .qps = 20}};  // 5 s before: inside both
    const auto r = recommend(make(spec), input(100s, 30.0, 4), s);
    // stable: (10 + 70 + 20 + 30) / 4 = 32.5; panic: (20 + 30) / 2 = 25
    CHECK(r.recommendation.stable_qps == doctest::Approx(32.5));
    CHECK(r.recommendation.panic_qps == doctest::Approx(25));
    // raw: ceil(32.5 / 5) = ceil(6.5) = 7
    CHECK(step(r.recommendation, Stage::RawDesired).output == Replicas{7});
    // the sample 60 s old is pruned; the new one is appended
    REQUIRE(r.state.samples.size() == 4);
    CHECK(r.state.samples.front().at == at(41s));
    CHECK(r.state.samples.back() == QpsSample{.at = at(100s), .qps = 30});
  }

  TEST_CASE("engine: missing metrics hold, or fall back after `after` consecutive failures") {
    struct Case {
      std::string_view name;
      MetricsFailureAction action;
      int failures_before;  // consecutive failures already counted
      std::optional<double> qps;
      double replica_qps = 10;
      int want;
      Reason reason;
    };
    const Case cases[] = {
        // current 5 throughout; Fallback: after 3, fallbackReplicas 2
        {.name = "hold, first failure",
         .action = MetricsFailureAction::Hold,
         .failures_before = 0,
         .qps = std::nullopt,
         .want = 5,
         .reason = Reason::MetricsMissing},
        {.name = "hold, many failures",
         .action = MetricsFailureAction::Hold,
         .failures_before = 50,
         .qps = std::nullopt,
         .want = 5,
         .reason = Reason::MetricsMissing},
        // 1 + 1 = 2 consecutive < 3: still holding
        {.name = "fallback, below after",
         .action = MetricsFailureAction::Fallback,
         .failures_before = 1,
         .qps = std::nullopt,
         .want = 5,
         .reason = Reason::MetricsMissing},
        // 2 + 1 = 3 >= 3: fallback
        {.name = "fallback, at after",
         .action = MetricsFailureAction::Fallback,
         .failures_before = 2,
         .qps = std::nullopt,
         .want = 2,
         .reason = Reason::MetricsFallback},
        {.name = "fallback, above after",
         .action = MetricsFailureAction::Fallback,
         .failures_before = 3,
         .qps = std::nullopt,
         .want = 2,
         .reason = Reason::MetricsFallback},
        {.name = "NaN qps is missing",
         .action = MetricsFailureAction::Hold,
         .failures_before = 0,
         .qps = std::numeric_limits<double>::quiet_NaN(),
         .want = 5,
         .reason = Reason::MetricsMissing},
        {.name = "negative qps is missing",
         .action = MetricsFailureAction::Hold,
         .failures_before = 0,
         .qps = -1.0,
         .want = 5,
         .reason = Reason::MetricsMissing},
        {.name = "replica qps 0 makes demand unknowable",
         .action = MetricsFailureAction::Hold,
         .failures_before = 0,
         .qps = 100.0,
         .replica_qps = 0,
         .want = 5,
         .reason = Reason::MetricsMissing},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.on_metrics_failure = {.after = 3, .action = c.action, .fallback_replicas = Replicas{2}};
      spec.scale_down.stabilization_window = 300s;
      EngineState s = seen(10s, 5);
      s.metric_failures = c.failures_before;
      // history that would pull a normal tick down: must not be used without metrics
      s.recommendations = {{.at = at(5s), .replicas = Replicas{1}}};
      const auto before = s.recommendations;
      const auto r = recommend(make(spec), input(10s, c.qps, 5, c.replica_qps), s);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == c.reason);
      CHECK(r.state.metric_failures == c.failures_before + 1);
      CHECK(r.state.recommendations == before);
      CHECK(r.recommendation.stable_qps == std::nullopt);
    }
  }

  TEST_CASE("engine: a good sample resets the failure count and the missing tick is not averaged") {
    auto spec = plain();
    spec.metric_window = 60s;
    Driver d{make(spec), {}};
    d.tick(input(0s, 10.0, 2));
    d.tick(input(1s, std::nullopt, 2));
    CHECK(d.state.metric_failures == 1);
    const auto r = d.tick(input(2s, 30.0, 2));
    CHECK(d.state.metric_failures == 0);
    // (10 + 30) / 2 = 20: the failed tick contributed nothing
    CHECK(r.stable_qps == doctest::Approx(20));
    CHECK(d.state.samples.size() == 2);
  }

  TEST_CASE("engine: panic enters at threshold x ready replicas of panic-window demand") {
    struct Case {
      std::string_view name;
      int current;
      double qps;  // this tick; the stable window also holds 20 qps from 30 s ago
      int want;
      bool panicking;
      Reason reason;
    };
    const Case cases[] = {
        // stable (20 + 35) / 2 = 27.5 -> raw ceil(5.5) = 6; panic ceil(35 / 5) = 7, 7 / 4 = 1.75 <
        // 2
        {.name = "below",
         .current = 4,
         .qps = 35,
         .want = 6,
         .panicking = false,
         .reason = Reason::ScaleUp},
        // stable 27.75 -> 6; panic ceil(7.1) = 8, 8 / 4 = 2 >= 2: the pod count is ceiled (Knative)
        {.name = "just above 35 qps",
         .current = 4,
         .qps = 35.5,
         .want = 8,
         .panicking = true,
         .reason = Reason::PanicEntered},
        // stable 30 -> 6; panic 40 / 5 = 8, 8 / 4 = 2: at the threshold; max(6, 8) = 8
        {.name = "at",
         .current = 4,
         .qps = 40,
         .want = 8,
         .panicking = true,
         .reason = Reason::PanicEntered},
        // stable 32.5 -> 7; panic 9, 9 / 4 = 2.25; max(7, 9) = 9
        {.name = "above",
         .current = 4,
         .qps = 45,
         .want = 9,
         .panicking = true,
         .reason = Reason::PanicEntered},
        // current 0 counts as 1 ready: panic ceil(10 / 5) = 2, 2 / 1 = 2; stable 15 -> 3
        {.name = "from zero",
         .current = 0,
         .qps = 10,
         .want = 3,
         .panicking = true,
         .reason = Reason::PanicEntered},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.metric_window = 60s;
      spec.panic = {.enabled = true, .window = 6s, .threshold = 2.0};
      spec.replicas.min = Replicas{0};
      EngineState s = seen(100s, c.current);
      s.samples = {{.at = at(70s), .qps = 20}};
      const auto r = recommend(make(spec), input(100s, c.qps, c.current), s);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.panicking == c.panicking);
      CHECK(r.recommendation.reason == c.reason);
      if (c.panicking) {
        CHECK(r.state.panic_last_over == at(100s));
        CHECK(r.state.panic_max == Replicas{c.want});
      }
    }
  }

  TEST_CASE("engine: while panicking the count never falls") {
    struct Case {
      std::string_view name;
      int current;
      int panic_max;
      int want;
    };
    const Case cases[] = {
        // stable 10 qps -> 2, panic 2 / 8 < 2: not over; hold the panic high of 8
        {.name = "holds the panic high", .current = 8, .panic_max = 8, .want = 8},
        // someone scaled to 10 meanwhile: max(2, 8, 10) = 10, no scale-down either
        {.name = "holds a higher current", .current = 10, .panic_max = 8, .want = 10},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.metric_window = 60s;
      spec.panic = {.enabled = true, .window = 6s, .threshold = 2.0};
      EngineState s = seen(100s, c.current);
      s.panic_last_over = at(90s);  // 10 s ago, inside the 60 s window
      s.panic_max = Replicas{c.panic_max};
      const auto r = recommend(make(spec), input(100s, 10.0, c.current), s);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == Reason::PanicHold);
      CHECK(r.state.panicking());
    }
  }

  TEST_CASE("engine: panic ends a full metric window after the condition last held") {
    struct Case {
      std::string_view name;
      std::chrono::seconds last_over;
      bool panicking;
      int want;
    };
    const Case cases[] = {
        // now 100: 100 - 41 = 59 < 60: still panicking, hold 8
        {.name = "59 s calm", .last_over = 41s, .panicking = true, .want = 8},
        // 100 - 40 = 60 >= 60: a full window calm; stable 10 / 5 = 2
        {.name = "60 s calm", .last_over = 40s, .panicking = false, .want = 2},
        {.name = "61 s calm", .last_over = 39s, .panicking = false, .want = 2},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.metric_window = 60s;
      spec.panic = {.enabled = true, .window = 6s, .threshold = 2.0};
      EngineState s = seen(100s, 8);
      s.panic_last_over = at(c.last_over);
      s.panic_max = Replicas{8};
      const auto r = recommend(make(spec), input(100s, 10.0, 8), s);
      CHECK(r.recommendation.panicking == c.panicking);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      if (!c.panicking) CHECK(r.state.panic_max == Replicas{0});
    }
  }

  TEST_CASE("engine: stabilization keeps the highest down-window and lowest up-window value") {
    struct Case {
      std::string_view name;
      int current;
      double qps;
      std::vector<TimedRecommendation> history;
      int want;
      Reason reason;
    };
    // now = 1000; down window 300 s covers (700, 1000], up window 60 s covers (940, 1000]
    const Case cases[] = {
        // raw ceil(20 / 5) = 4; down max(7 @701, 4) = 7 (9 @700 is at the cutoff: out);
        // up min(4) = 4; clamp(current 10, 4, 7) = 7
        {.name = "down: entry at the cutoff is out",
         .current = 10,
         .qps = 20,
         .history = {{at(700s), Replicas{9}}, {at(701s), Replicas{7}}},
         .want = 7,
         .reason = Reason::Stabilized},
        // 9 @701 is just inside: max = 9
        {.name = "down: entry just inside",
         .current = 10,
         .qps = 20,
         .history = {{at(701s), Replicas{9}}},
         .want = 9,
         .reason = Reason::Stabilized},
        // max(3, 4) = 4 < current 10: down to 4
        {.name = "down: older values lower",
         .current = 10,
         .qps = 20,
         .history = {{at(701s), Replicas{3}}},
         .want = 4,
         .reason = Reason::ScaleDown},
        // raw ceil(40 / 5) = 8; up min(3 @941, 8) = 3 (1 @940 is at the cutoff: out);
        // down max(1, 3, 8) = 8; clamp(current 2, 3, 8) = 3
        {.name = "up: lowest inside the up window",
         .current = 2,
         .qps = 40,
         .history = {{at(940s), Replicas{1}}, {at(941s), Replicas{3}}},
         .want = 3,
         .reason = Reason::Stabilized},
        // up min(1 @941, 8) = 1; clamp(2, 1, 8) = 2: the up step is held at current
        {.name = "up: held at current",
         .current = 2,
         .qps = 40,
         .history = {{at(941s), Replicas{1}}},
         .want = 2,
         .reason = Reason::Stabilized},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.scale_down.stabilization_window = 300s;
      spec.scale_up.stabilization_window = 60s;
      EngineState s = seen(1000s, c.current);
      s.recommendations = c.history;
      const auto r = recommend(make(spec), input(1000s, c.qps, c.current), s);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == c.reason);
      // the unstabilized recommendation is what is remembered
      CHECK(r.state.recommendations.back().replicas == step(r.recommendation, Stage::Panic).output);
    }
  }

  TEST_CASE("engine: rate limits follow the HPA policies over the period") {
    const ScalingRules hpa_up{
        .stabilization_window = 0s,
        .select = Select::Max,
        .policies = {{RateLimitType::Percent, 100, 15s}, {RateLimitType::Replicas, 4, 15s}}};
    const ScalingRules half_down{.stabilization_window = 0s,
                                 .select = Select::Max,
                                 .policies = {{RateLimitType::Percent, 50, 60s}}};
    struct Case {
      std::string_view name;
      ScalingRules up;
      ScalingRules down;
      int current;
      double qps;
      std::vector<ScaleEvent> events;
      int want;
      Reason reason;
    };
    // now = 1000; qps 1000 -> raw 200 (a big scale-up); qps 10 -> raw 2 (a big scale-down)
    const Case cases[] = {
        // max(ceil(1 x 2) = 2, 1 + 4 = 5) = 5
        {.name = "up from 1",
         .up = hpa_up,
         .down = half_down,
         .current = 1,
         .qps = 1000,
         .events = {},
         .want = 5,
         .reason = Reason::RateLimited},
        // event +4 @985 is at the cutoff 1000 - 15: out; base 5: max(10, 9) = 10
        {.name = "up, event at period start is out",
         .up = hpa_up,
         .down = half_down,
         .current = 5,
         .qps = 1000,
         .events = {{at(985s), 4}},
         .want = 10,
         .reason = Reason::RateLimited},
        // event +4 @986 inside: base 5 - 4 = 1: max(2, 5) = 5 = current: held
        {.name = "up, event inside the period",
         .up = hpa_up,
         .down = half_down,
         .current = 5,
         .qps = 1000,
         .events = {{at(986s), 4}},
         .want = 5,
         .reason = Reason::RateLimited},
        // select Min: min(ceil(10 x 2) = 20, 10 + 4 = 14) = 14
        {.name = "up, select Min",
         .up = {.select = Select::Min, .policies = hpa_up.policies},
         .down = half_down,
         .current = 10,
         .qps = 1000,
         .events = {},
         .want = 14,
         .reason = Reason::RateLimited},
        {.name = "up, Disabled",
         .up = {.select = Select::Disabled, .policies = hpa_up.policies},
         .down = half_down,
         .current = 10,
         .qps = 1000,
         .events = {},
         .want = 10,
         .reason = Reason::RateLimited},
        // Percent from 0 grows from max(0, 1) = 1: ceil(1 x 2) = 2
        {.name = "up from zero, Percent only",
         .up = {.policies = {{RateLimitType::Percent, 100, 15s}}},
         .down = half_down,
         .current = 0,
         .qps = 1000,
         .events = {},
         .want = 2,
         .reason = Reason::RateLimited},
        // raw 8 under the limit 10: no limiting
        {.name = "up, under the limit",
         .up = hpa_up,
         .down = half_down,
         .current = 5,
         .qps = 40,
         .events = {},
         .want = 8,
         .reason = Reason::ScaleUp},
        // floor(20 x 0.5) = 10
        {.name = "down from 20",
         .up = hpa_up,
         .down = half_down,
         .current = 20,
         .qps = 10,
         .events = {},
         .want = 10,
         .reason = Reason::RateLimited},
        // floor(7 x 0.5) = floor(3.5) = 3
        {.name = "down rounds down",
         .up = hpa_up,
         .down = half_down,
         .current = 7,
         .qps = 10,
         .events = {},
         .want = 3,
         .reason = Reason::RateLimited},
        // event -10 @941 inside (940, 1000]: base 10 + 10 = 20 -> 10 = current: held
        {.name = "down, event inside the period",
         .up = hpa_up,
         .down = half_down,
         .current = 10,
         .qps = 10,
         .events = {{at(941s), -10}},
         .want = 10,
         .reason = Reason::RateLimited},
        // event @940 at the cutoff: out; base 10 -> 5
        {.name = "down, event at period start is out",
         .up = hpa_up,
         .down = half_down,
         .current = 10,
         .qps = 10,
         .events = {{at(940s), -10}},
         .want = 5,
         .reason = Reason::RateLimited},
        // select Min (least change): max(20 - 2 = 18, floor(20 x 0.5) = 10) = 18
        {.name = "down, select Min",
         .up = hpa_up,
         .down = {.select = Select::Min,
                  .policies = {{RateLimitType::Replicas, 2, 60s},
                               {RateLimitType::Percent, 50, 60s}}},
         .current = 20,
         .qps = 10,
         .events = {},
         .want = 18,
         .reason = Reason::RateLimited},
        {.name = "down, Disabled",
         .up = hpa_up,
         .down = {.select = Select::Disabled, .policies = half_down.policies},
         .current = 20,
         .qps = 10,
         .events = {},
         .want = 20,
         .reason = Reason::RateLimited},
        // raw ceil(75 / 5) = 15 above the limit 10: no limiting
        {.name = "down, above the limit",
         .up = hpa_up,
         .down = half_down,
         .current = 20,
         .qps = 75,
         .events = {},
         .want = 15,
         .reason = Reason::ScaleDown},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.replicas = {.min = Replicas{0}, .max = Replicas{1000}};
      spec.scale_up = c.up;
      spec.scale_down = c.down;
      EngineState s = seen(1000s, c.current);
      s.scale_events = c.events;
      const auto r = recommend(make(spec), input(1000s, c.qps, c.current), s);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == c.reason);
    }
  }

  TEST_CASE("engine: an active schedule replaces min and max, raising or lowering the bounds") {
    CronSpec every_minute;
    every_minute.minutes.set();
    every_minute.hours.set();
    every_minute.days_of_month.set();
    every_minute.months.set();
    every_minute.days_of_week.set();
    CronSpec noon = every_minute;  // 12:00-12:59 only; the ticks below are at 00:16:40
    noon.hours.reset();
    noon.hours.set(12);
    auto sched = [](const CronSpec& cron, std::optional<int> lo, std::optional<int> hi) {
      Schedule s{.cron = cron, .duration = 60s, .zone = {.name = "UTC"}};
      if (lo) s.min_replicas = Replicas{*lo};
      if (hi) s.max_replicas = Replicas{*hi};
      return s;
    };
    struct Case {
      std::string_view name;
      int min = 1;
      int max = 100;
      double qps = 20;  // raw ceil(20 / 5) = 4 = current
      std::vector<Schedule> schedules;
      int want;
      Reason reason;
      int floor = 1;  // the floor in force, what the allocator reserves
    };
    const Case cases[] = {
        {.name = "floor above",
         .schedules = {sched(every_minute, 6, {})},
         .want = 6,
         .reason = Reason::ScheduleFloor,
         .floor = 6},
        {.name = "floor at",
         .schedules = {sched(every_minute, 4, {})},
         .want = 4,
         .reason = Reason::None,
         .floor = 4},
        {.name = "floor below",
         .schedules = {sched(every_minute, 3, {})},
         .want = 4,
         .reason = Reason::None,
         .floor = 3},
        {.name = "ceiling below",
         .schedules = {sched(every_minute, {}, 3)},
         .want = 3,
         .reason = Reason::ScheduleCeiling},
        {.name = "ceiling at",
         .schedules = {sched(every_minute, {}, 4)},
         .want = 4,
         .reason = Reason::None},
        {.name = "two active: highest floor",
         .schedules = {sched(every_minute, 5, {}), sched(every_minute, 6, {})},
         .want = 6,
         .reason = Reason::ScheduleFloor,
         .floor = 6},
        {.name = "two active: lowest ceiling",
         .schedules = {sched(every_minute, {}, 3), sched(every_minute, {}, 2)},
         .want = 2,
         .reason = Reason::ScheduleCeiling},
        {.name = "inactive", .schedules = {sched(noon, 6, {})}, .want = 4, .reason = Reason::None},
        // replicas.min 3, but an active schedule's min 1 replaces it: raw ceil(5 / 5) = 1 stays
        {.name = "schedule min below replicas.min",
         .min = 3,
         .qps = 5,
         .schedules = {sched(every_minute, 1, {})},
         .want = 1,
         .reason = Reason::ScaleDown},
        // without the schedule the same tick is capped at min 3
        {.name = "inactive schedule min below replicas.min",
         .min = 3,
         .qps = 5,
         .schedules = {sched(noon, 1, {})},
         .want = 3,
         .reason = Reason::CappedMin,
         .floor = 3},
        // replicas.max 5, an active schedule's max 8 replaces it: raw ceil(35 / 5) = 7 stays
        {.name = "schedule max above replicas.max",
         .max = 5,
         .qps = 35,
         .schedules = {sched(every_minute, {}, 8)},
         .want = 7,
         .reason = Reason::ScaleUp},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.replicas = {.min = Replicas{c.min}, .max = Replicas{c.max}};
      spec.schedules = c.schedules;
      const auto r = recommend(make(spec), input(1000s, c.qps, 4), seen(1000s, 4));
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == c.reason);
      CHECK(r.recommendation.floor == Replicas{c.floor});
      CHECK_FALSE(r.recommendation.frozen);
    }
  }

  TEST_CASE("engine: scale to zero after idleFor below activationQps, wake at activationQps") {
    struct Case {
      std::string_view name;
      int current;
      double qps;
      std::optional<std::chrono::seconds> idle_since;
      int want;
      Reason reason;
      std::optional<std::chrono::seconds> want_idle_since;
    };
    // now = 1000, idleFor 600 s, activationQps 0.5
    const Case cases[] = {
        // 0.49 < 0.5, idle since 400: 600 s >= 600 -> 0
        {.name = "idle exactly idleFor",
         .current = 1,
         .qps = 0.49,
         .idle_since = 400s,
         .want = 0,
         .reason = Reason::ScaleToZero,
         .want_idle_since = 400s},
        // idle since 401: 599 s < 600
        {.name = "idle just under idleFor",
         .current = 1,
         .qps = 0.49,
         .idle_since = 401s,
         .want = 1,
         .reason = Reason::None,
         .want_idle_since = 401s},
        {.name = "idle longer",
         .current = 3,
         .qps = 0.1,
         .idle_since = 100s,
         .want = 0,
         .reason = Reason::ScaleToZero,
         .want_idle_since = 100s},
        // 0.5 >= 0.5 is not idle: the clock resets; raw max(1, ceil(0.1)) = 1
        {.name = "demand at activation is not idle",
         .current = 1,
         .qps = 0.5,
         .idle_since = 100s,
         .want = 1,
         .reason = Reason::None,
         .want_idle_since = std::nullopt},
        {.name = "first idle tick starts the clock",
         .current = 1,
         .qps = 0.2,
         .idle_since = std::nullopt,
         .want = 1,
         .reason = Reason::None,
         .want_idle_since = 1000s},
        // at zero: 0.49 < 0.5 stays at zero
        {.name = "at zero below activation",
         .current = 0,
         .qps = 0.49,
         .idle_since = 100s,
         .want = 0,
         .reason = Reason::ScaleToZero,
         .want_idle_since = 100s},
        // at zero: 0.5 >= 0.5 wakes; raw max(1, ceil(0.1)) = 1
        {.name = "at zero at activation",
         .current = 0,
         .qps = 0.5,
         .idle_since = 100s,
         .want = 1,
         .reason = Reason::Activated,
         .want_idle_since = std::nullopt},
        // at zero: 12 qps wakes straight to ceil(12 / 5) = 3
        {.name = "at zero with real demand",
         .current = 0,
         .qps = 12,
         .idle_since = 100s,
         .want = 3,
         .reason = Reason::Activated,
         .want_idle_since = std::nullopt},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.replicas.min = Replicas{0};
      spec.scale_to_zero = {.enabled = true, .idle_for = 600s, .activation_qps = 0.5};
      EngineState s = seen(1000s, c.current);
      if (c.idle_since) s.idle_since = at(*c.idle_since);
      const auto r = recommend(make(spec), input(1000s, c.qps, c.current), s);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == c.reason);
      CHECK(r.state.idle_since ==
            (c.want_idle_since ? std::optional(at(*c.want_idle_since)) : std::nullopt));
    }
  }

  TEST_CASE("engine: scale to zero waits while a schedule floor is active or metrics are missing") {
    CronSpec every_minute;
    every_minute.minutes.set();
    every_minute.hours.set();
    every_minute.days_of_month.set();
    every_minute.months.set();
    every_minute.days_of_week.set();
    auto spec = plain();
    spec.replicas.min = Replicas{0};
    spec.scale_to_zero = {.enabled = true, .idle_for = 600s, .activation_qps = 0.5};
    spec.schedules = {Schedule{.cron = every_minute,
                               .duration = 60s,
                               .zone = {.name = "UTC"},
                               .min_replicas = Replicas{2}}};
    EngineState s = seen(1000s, 2);
    s.idle_since = at(0s);
    auto r = recommend(make(spec), input(1000s, 0.0, 2), s);
    CHECK(r.recommendation.replicas == Replicas{2});
    CHECK(step(r.recommendation, Stage::ScaleToZero).changed == false);

    spec.schedules.clear();
    r = recommend(make(spec), input(1000s, std::nullopt, 2), s);
    CHECK(r.recommendation.replicas == Replicas{2});
    CHECK(r.recommendation.reason == Reason::MetricsMissing);
    CHECK(r.state.idle_since == std::nullopt);  // blind: the idle clock restarts
  }

  TEST_CASE("engine: clamp to replicas.min and replicas.max") {
    struct Case {
      std::string_view name;
      double qps;
      int want;
      Reason reason;
    };
    // min 2, max 6, current 4
    const Case cases[] = {
        {.name = "below min", .qps = 5, .want = 2, .reason = Reason::CappedMin},   // raw 1
        {.name = "at min", .qps = 10, .want = 2, .reason = Reason::ScaleDown},     // raw 2
        {.name = "at max", .qps = 30, .want = 6, .reason = Reason::ScaleUp},       // raw 6
        {.name = "above max", .qps = 35, .want = 6, .reason = Reason::CappedMax},  // raw 7
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.replicas = {.min = Replicas{2}, .max = Replicas{6}};
      const auto r = recommend(make(spec), input(0s, c.qps, 4), {}).recommendation;
      CHECK(r.replicas == Replicas{c.want});
      CHECK(r.reason == c.reason);
    }
  }

  TEST_CASE("engine: frozen services keep their count and leave the state untouched") {
    struct Case {
      std::string_view name;
      model::RunStatus status;
      bool updating;
      Reason reason;
    };
    const Case cases[] = {
        {.name = "deploying",
         .status = model::RunStatus::Deploying,
         .updating = false,
         .reason = Reason::FrozenNotServing},
        {.name = "failed",
         .status = model::RunStatus::Failed,
         .updating = false,
         .reason = Reason::FrozenNotServing},
        {.name = "stopped",
         .status = model::RunStatus::Stopped,
         .updating = false,
         .reason = Reason::FrozenNotServing},
        {.name = "unknown",
         .status = model::RunStatus::Unknown,
         .updating = false,
         .reason = Reason::FrozenNotServing},
        {.name = "updating",
         .status = model::RunStatus::Serving,
         .updating = true,
         .reason = Reason::FrozenUpdating},
        {.name = "both: not serving wins",
         .status = model::RunStatus::New,
         .updating = true,
         .reason = Reason::FrozenNotServing},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.replicas = {.min = Replicas{2}, .max = Replicas{6}};
      spec.panic = {.enabled = true, .window = 1s, .threshold = 2};
      EngineState s = seen(100s, 3);
      s.samples = {{at(99s), 7.0}};
      s.recommendations = {{at(99s), Replicas{3}}};
      s.metric_failures = 1;
      auto in = input(100s, 1000.0, 9);  // 9 is outside [2, 6]: kept anyway
      in.run_status = c.status;
      in.model_updating = c.updating;
      const auto r = recommend(make(spec), in, s);
      CHECK(r.recommendation.replicas == Replicas{9});
      CHECK(r.recommendation.reason == c.reason);
      CHECK(step(r.recommendation, Stage::Freeze).reason == c.reason);
      CHECK(r.recommendation.frozen);
      CHECK(r.recommendation.floor == Replicas{2});  // replicas.min: the floor still in force
      CHECK(r.recommendation.steps.size() == model::kAllStages.size());
      CHECK(r.state == s);
    }
  }

  TEST_CASE("engine: with nothing in the scale-down window the current count seeds it") {
    struct Case {
      std::string_view name;
      std::chrono::seconds down_window = 300s;
      std::vector<TimedRecommendation> history;
      int current;
      double qps;
      int want;
      Reason reason;
      int remembered;  // the recommendation kept for this tick
    };
    // now = 1000; the down window (300 s) covers (700, 1000]. raw = ceil(qps / 5).
    const Case cases[] = {
        // raw ceil(10 / 5) = 2 < current 5, window empty: 5 is remembered; max(5, 2) = 5
        {.name = "fresh start, scale-down held",
         .history = {},
         .current = 5,
         .qps = 10,
         .want = 5,
         .reason = Reason::Stabilized,
         .remembered = 5},
        // 1 @700 is at the cutoff, out: the window is empty, as after a long gap
        {.name = "only older history, held",
         .history = {{at(700s), Replicas{1}}},
         .current = 5,
         .qps = 10,
         .want = 5,
         .reason = Reason::Stabilized,
         .remembered = 5},
        // 2 @701 is inside: the window has a recommendation, no seed (as the HPA): down to 2
        {.name = "a recommendation inside the window, no seed",
         .history = {{at(701s), Replicas{2}}},
         .current = 5,
         .qps = 10,
         .want = 2,
         .reason = Reason::ScaleDown,
         .remembered = 2},
        // raw ceil(50 / 5) = 10 > current 2: a scale-up is never held by a seed
        {.name = "fresh start, scale-up at once",
         .history = {},
         .current = 2,
         .qps = 50,
         .want = 10,
         .reason = Reason::ScaleUp,
         .remembered = 10},
        // a window of 0 s holds nothing, seeds nothing: down to 2 at once, as before
        {.name = "window 0 s, scale-down at once",
         .down_window = 0s,
         .history = {},
         .current = 5,
         .qps = 10,
         .want = 2,
         .reason = Reason::ScaleDown,
         .remembered = 2},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.scale_down.stabilization_window = c.down_window;
      spec.scale_up.stabilization_window = 60s;
      EngineState s = seen(1000s, c.current);
      s.recommendations = c.history;
      const auto r = recommend(make(spec), input(1000s, c.qps, c.current), s);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == c.reason);
      CHECK(r.state.recommendations.back() ==
            TimedRecommendation{.at = at(1000s), .replicas = Replicas{c.remembered}});
    }
  }

  TEST_CASE("engine: a seeded scale-down waits one full window: t0 + 299 s held, t0 + 300 s not") {
    auto spec = plain();
    spec.scale_down.stabilization_window = 300s;
    Driver d{make(spec), {}};
    struct Row {
      std::chrono::seconds t;
      int want;
      Reason reason;
    };
    // current 5, 10 qps -> raw 2 throughout. The seed 5 @0 is in (t - 300, t] until t = 300.
    const Row rows[] = {{0s, 5, Reason::Stabilized},
                        {60s, 5, Reason::Stabilized},
                        {299s, 5, Reason::Stabilized},
                        {300s, 2, Reason::ScaleDown}};
    for (const auto& row : rows) {
      CAPTURE(row.t.count());
      const auto r = d.tick(input(row.t, 10.0, 5));
      CHECK(r.replicas == Replicas{row.want});
      CHECK(r.reason == row.reason);
    }
    const auto r0 = Driver{make(spec), {}}.tick(input(0s, 10.0, 5));
    CHECK(step(r0, Stage::Stabilization).detail.find("current 5 seeds the down window") !=
          std::string::npos);
  }

  TEST_CASE("engine: a fresh start under a burst panics and scales up at once") {
    auto spec = plain();
    spec.metric_window = 60s;
    spec.panic = {.enabled = true, .window = 6s, .threshold = 2.0};
    spec.scale_down.stabilization_window = 300s;
    spec.scale_up.stabilization_window = 60s;
    // 100 qps on 2 replicas: panic ceil(100 / 5) = 20, 20 / 2 >= 2; raw 20. The up window holds
    // only this tick's 20, so nothing holds the step back.
    const auto r = recommend(make(spec), input(0s, 100.0, 2), {}).recommendation;
    CHECK(r.panicking);
    CHECK(r.replicas == Replicas{20});
    CHECK(r.reason == Reason::PanicEntered);
  }

  TEST_CASE("engine: a second tick at the same now re-evaluates the first, seed included") {
    auto spec = plain();
    spec.scale_down.stabilization_window = 300s;
    spec.scale_up.stabilization_window = 60s;
    Driver d{make(spec), {}};
    CHECK(d.tick(input(0s, 10.0, 5)).replicas == Replicas{5});  // seeded: held
    CHECK(d.tick(input(0s, 10.0, 5)).replicas == Replicas{5});  // same again: still held
    REQUIRE(d.state.recommendations.size() == 1);
    // the same instant with a burst replaces the seed: raw ceil(100 / 5) = 20, not held at 5
    CHECK(d.tick(input(0s, 100.0, 5)).replicas == Replicas{20});
    CHECK(d.state.recommendations ==
          std::vector<TimedRecommendation>{{.at = at(0s), .replicas = Replicas{20}}});
  }

  TEST_CASE("engine: clock steps never shorten a window") {
    struct Case {
      std::string_view name;
      EngineState state;
      std::chrono::seconds down_window;
      std::vector<RateLimit> down_policies;
      int want;
      Reason reason;
    };
    // now = 1000, current 8, 5 qps -> raw 1. "Ahead" entries come from a clock that was ahead
    // (or stepped back since): they are clamped to 1000 and count as fresh.
    const auto with = [](auto f) {
      EngineState s = seen(1000s, 8);
      f(s);
      return s;
    };
    const Case cases[] = {
        // 2 @900 is inside, 8 @1060 ahead. Dropping 8 would leave max(2, 1) = 2; clamped, it
        // keeps max(2, 8 @1000, 1) = 8
        {.name = "back: a recommendation from ahead is kept",
         .state = with([](EngineState& s) {
           s.recommendations = {{at(900s), Replicas{2}}, {at(1060s), Replicas{8}}};
         }),
         .down_window = 300s,
         .down_policies = {{RateLimitType::Percent, 100, 1s}},
         .want = 8,
         .reason = Reason::Stabilized},
        // no window; 1 replica per 60 s down; event -1 @1030 ahead. Dropped, the limit would be
        // 8 - 1 = 7; clamped to @1000, base 8 + 1 = 9 - 1 = 8: held
        {.name = "back: a scale event from ahead still counts",
         .state = with([](EngineState& s) {
           s.scale_events = {{at(1030s), -1}};
         }),
         .down_window = 0s,
         .down_policies = {{RateLimitType::Replicas, 1, 60s}},
         .want = 8,
         .reason = Reason::RateLimited},
        // last seen 10 @1030 ahead: the change to 8 is stamped @1000 (-2) instead of forgotten;
        // 2 replicas per 60 s: base 8 + 2 = 10 - 2 = 8: held (forgotten, 8 - 2 = 6)
        {.name = "back: the last observation from ahead still infers its event",
         .state = with([](EngineState& s) {
           s.last_observed = Replicas{10};
           s.last_observed_at = at(1030s);
         }),
         .down_window = 0s,
         .down_policies = {{RateLimitType::Replicas, 2, 60s}},
         .want = 8,
         .reason = Reason::RateLimited},
        // last tick an hour ago with 8 recommended: the window is empty now, so the seed holds 8
        {.name = "forward: an hour's jump does not scale down at once",
         .state = with([](EngineState& s) {
           s.recommendations = {{at(1000s - 3600s), Replicas{8}}};
           s.last_observed_at = at(1000s - 3600s);
         }),
         .down_window = 300s,
         .down_policies = {{RateLimitType::Percent, 100, 1s}},
         .want = 8,
         .reason = Reason::Stabilized},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto spec = plain();
      spec.scale_down.stabilization_window = c.down_window;
      spec.scale_down.policies = c.down_policies;
      const auto r = recommend(make(spec), input(1000s, 5.0, 8), c.state);
      CHECK(r.recommendation.replicas == Replicas{c.want});
      CHECK(r.recommendation.reason == c.reason);
      // nothing is left stamped after now
      for (const auto& e : r.state.recommendations) CHECK(e.at <= at(1000s));
      for (const auto& e : r.state.scale_events) CHECK(e.at <= at(1000s));
    }
  }

  TEST_CASE("engine: after a clock steps back, clamped history lasts a full window from now") {
    auto spec = plain();
    spec.metric_window = 60s;
    spec.scale_down.stabilization_window = 300s;
    Driver d{make(spec), {}};
    d.tick(input(400s, 10.0, 2));  // raw 2 @400
    d.tick(input(600s, 40.0, 8));  // raw 8 @600
    // The clock steps back 100 s: 8 @600 is clamped to @500; 2 @400 is inside (200, 500], so
    // nothing is seeded: dropping 8 would leave max(2, raw 1) = 2. Samples from ahead are dropped.
    auto r = d.tick(input(500s, 5.0, 8));
    CHECK(r.replicas == Replicas{8});
    CHECK(r.reason == Reason::Stabilized);
    CHECK(d.state.samples.size() == 1);
    CHECK(d.state.samples.back().at == at(500s));
    CHECK(d.tick(input(799s, 5.0, 8)).replicas == Replicas{8});  // (499, 799] holds 8 @500
    CHECK(d.tick(input(800s, 5.0, 8)).replicas == Replicas{1});  // 8 @500 is at the cutoff
  }
}

}  // namespace
}  // namespace qfscale::policy
