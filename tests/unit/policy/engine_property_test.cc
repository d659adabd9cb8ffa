// Properties of the engine over random policies and random input sequences (seeded): the result
// stays inside [min, max], never falls during panic, frozen ticks change nothing, histories stay
// bounded, and the same inputs give the same outputs and state.

#include <algorithm>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/policy/engine.h"
#include "qfscale/util/random.h"

#include "unit/policy/engine_support.h"

namespace qfscale::policy {
namespace {

using namespace testing;
using model::Replicas;
using std::chrono::seconds;

ScalingRules random_rules(util::Random& rng, bool up) {
  ScalingRules r;
  r.stabilization_window = seconds{rng.uniform_int(0, 3) == 0 ? 0 : rng.uniform_int(1, 300)};
  const auto sel = rng.uniform_int(0, 9);
  r.select = sel < 6 ? Select::Max : sel < 9 ? Select::Min : Select::Disabled;
  // at least one policy (validation; Disabled may keep its policies)
  for (auto n = rng.uniform_int(1, 2); n > 0; --n) {
    r.policies.push_back(
        {.type = rng.uniform_int(0, 1) == 0 ? RateLimitType::Percent : RateLimitType::Replicas,
         .value = static_cast<int>(rng.uniform_int(1, up ? 200 : 100)),
         .period = seconds{rng.uniform_int(1, 120)}});
  }
  return r;
}

PolicySpec random_spec(util::Random& rng) {
  PolicySpec s;
  s.target = {.utilization = 0.1 + 0.9 * rng.uniform01(), .tolerance = 0.3 * rng.uniform01()};
  const int lo = static_cast<int>(rng.uniform_int(0, 5));
  s.replicas = {.min = Replicas{lo},
                .max = Replicas{std::max(1, lo + static_cast<int>(rng.uniform_int(0, 30)))}};
  s.metric_window = seconds{rng.uniform_int(1, 120)};
  s.panic = {.enabled = rng.uniform_int(0, 1) == 1,
             .window = seconds{rng.uniform_int(1, s.metric_window.count())},
             .threshold = 1.1 + 3 * rng.uniform01()};
  s.scale_up = random_rules(rng, true);
  s.scale_down = random_rules(rng, false);
  s.scale_to_zero = {.enabled = lo == 0 && rng.uniform_int(0, 1) == 1,
                     .idle_for = seconds{rng.uniform_int(0, 600)},
                     .activation_qps = 5 * rng.uniform01()};
  s.on_metrics_failure = {
      .after = static_cast<int>(rng.uniform_int(1, 5)),
      .action =
          rng.uniform_int(0, 1) == 0 ? MetricsFailureAction::Hold : MetricsFailureAction::Fallback,
      .fallback_replicas = Replicas{static_cast<int>(rng.uniform_int(lo, s.replicas.max.value))}};
  return s;
}

std::vector<EngineInput> random_inputs(util::Random& rng, int n) {
  std::vector<EngineInput> out;
  util::SystemTime now = kT0;
  const double replica_qps = 1 + 49 * rng.uniform01();
  double level = 100 * rng.uniform01();
  for (int i = 0; i < n; ++i) {
    now += seconds{rng.uniform_int(1, 30)};
    if (rng.uniform_int(0, 20) == 0) {  // bursts, drops and idle spells
      level = rng.uniform_int(0, 2) == 0 ? 0 : 500 * rng.uniform01();
    }
    EngineInput in{.now = now, .replica_qps = replica_qps};
    if (rng.uniform_int(0, 9) != 0) in.qps = std::max(0.0, level * (0.5 + rng.uniform01()));
    if (rng.uniform_int(0, 40) == 0) in.replica_qps = 0;
    if (rng.uniform_int(0, 19) == 0) in.run_status = model::RunStatus::Deploying;
    if (rng.uniform_int(0, 19) == 0) in.model_updating = true;
    // current is filled in by the caller from the previous recommendation, sometimes overridden
    in.current =
        Replicas{rng.uniform_int(0, 4) == 0 ? static_cast<int>(rng.uniform_int(0, 40)) : -1};
    out.push_back(in);
  }
  return out;
}

/// Runs the sequence, feeding each recommendation back as the next current count unless the
/// input names its own (someone else scaled, or the allocator cut it).
std::vector<EngineResult> run(const Policy& policy, std::vector<EngineInput> inputs) {
  std::vector<EngineResult> out;
  EngineState state;
  int current = 1;
  for (auto& in : inputs) {
    if (in.current.value >= 0) current = in.current.value;
    in.current = Replicas{current};
    auto r = recommend(policy, in, state);
    state = r.state;
    current = r.recommendation.replicas.value;
    out.push_back(std::move(r));
  }
  return out;
}

TEST_SUITE("policy") {
  TEST_CASE("engine properties: bounds, panic, frozen, bounded state, determinism (seeded)") {
    util::Random rng(7);
    int panicking_ticks = 0;
    int zero_ticks = 0;
    for (int iter = 0; iter < 200; ++iter) {
      CAPTURE(iter);
      const auto spec = random_spec(rng);
      const Policy policy = make(spec);
      auto inputs = random_inputs(rng, 300);
      const auto results = run(policy, inputs);
      REQUIRE(results == run(policy, inputs));  // deterministic, state included

      EngineState before;
      int current = 1;
      const auto max_window = std::max(spec.metric_window, spec.panic.window).count();
      const auto max_stab =
          std::max(spec.scale_up.stabilization_window, spec.scale_down.stabilization_window)
              .count();
      for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& in_raw = inputs[i];
        if (in_raw.current.value >= 0) current = in_raw.current.value;
        EngineInput in = in_raw;
        in.current = Replicas{current};
        const auto& r = results[i];
        const auto& rec = r.recommendation;
        CHECK(rec.steps.size() == model::kAllStages.size());
        CHECK(rec.steps.back().output == rec.replicas);
        const bool frozen = in.run_status != model::RunStatus::Serving || in.model_updating;
        if (frozen) {
          CHECK(rec.replicas == in.current);
          CHECK(r.state == before);
        } else {
          CHECK(rec.replicas >= spec.replicas.min);
          CHECK(rec.replicas <= spec.replicas.max);
          if (rec.panicking && rec.stable_qps) {
            ++panicking_ticks;
            CHECK(rec.replicas.value >= std::min(current, spec.replicas.max.value));
          }
          zero_ticks += rec.replicas.value == 0 ? 1 : 0;
        }
        // histories are bounded by their windows (ticks are >= 1 s apart)
        CHECK(std::ssize(r.state.samples) <= max_window + 1);
        CHECK(std::ssize(r.state.recommendations) <= max_stab + 1);
        CHECK(std::ssize(r.state.scale_events) <= 121);
        // same input and state again: same result
        if (i % 50 == 0) CHECK(recommend(policy, in, before) == r);
        before = r.state;
        current = rec.replicas.value;
      }
    }
    // the properties were exercised, not vacuously true
    CHECK(panicking_ticks > 100);
    CHECK(zero_ticks > 100);
  }

  TEST_CASE("engine properties: explain off leaves every detail empty and changes nothing else") {
    util::Random rng(11);
    for (int iter = 0; iter < 100; ++iter) {
      CAPTURE(iter);
      const Policy policy = make(random_spec(rng));
      auto inputs = random_inputs(rng, 300);
      const auto explained = run(policy, inputs);
      for (auto& in : inputs) in.explain = false;
      const auto quiet = run(policy, inputs);
      REQUIRE(quiet.size() == explained.size());
      for (std::size_t i = 0; i < quiet.size(); ++i) {
        CAPTURE(i);
        auto expected = explained[i];
        for (auto& step : expected.recommendation.steps) {
          CHECK_FALSE(step.detail.empty());  // explained ticks say why at every stage
          step.detail.clear();
        }
        CHECK(quiet[i] == expected);
      }
    }
  }
}

}  // namespace
}  // namespace qfscale::policy
