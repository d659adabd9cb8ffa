#pragma once

// Shared helpers for the engine tests: a "plain" policy that isolates one stage at a time
// (default plus deltas), input builders and a driver that threads the state through ticks.

#include <chrono>
#include <optional>
#include <utility>

#include <doctest/doctest.h>

#include "qfscale/policy/engine.h"
#include "qfscale/policy/policy.h"

namespace qfscale::policy::testing {

using namespace std::chrono_literals;

/// 2024-01-01T00:00:00Z, a Monday.
inline const util::SystemTime kT0{std::chrono::seconds{1'704'067'200}};

inline util::SystemTime at(std::chrono::seconds s) { return kT0 + s; }

/// Default spec plus deltas that switch off every stage but raw desired: utilization 0.5 (with
/// replica_qps 10 one replica serves 5 qps), tolerance 0, replicas [1, 100], a 1 s metric window
/// (one sample), no panic, no stabilization, and rate limits too wide to bind (+10000 replicas up,
/// -100% down, per 1 s: validation wants at least one policy). Tests turn on what they examine.
inline PolicySpec plain() {
  PolicySpec s;
  s.target = {.utilization = 0.5, .tolerance = 0.0};
  s.replicas = {.min = model::Replicas{1}, .max = model::Replicas{100}};
  s.metric_window = 1s;
  s.panic.enabled = false;
  s.scale_up = {.stabilization_window = 0s,
                .select = Select::Max,
                .policies = {{RateLimitType::Replicas, 10000, 1s}}};
  s.scale_down = {.stabilization_window = 0s,
                  .select = Select::Max,
                  .policies = {{RateLimitType::Percent, 100, 1s}}};
  return s;
}

inline Policy make(PolicySpec spec) {
  auto p = Policy::create(std::move(spec));
  REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().to_string()));
  return *p;
}

inline EngineInput input(std::chrono::seconds t, std::optional<double> qps, int current,
                         double replica_qps = 10.0) {
  return EngineInput{
      .now = at(t), .qps = qps, .replica_qps = replica_qps, .current = model::Replicas{current}};
}

inline const model::Step& step(const Recommendation& r, model::Stage s) {
  return r.steps.at(static_cast<std::size_t>(s));
}

/// A state that has already seen `current` one second before `t`, so the tick at `t` infers no
/// scale event of its own.
inline EngineState seen(std::chrono::seconds t, int current) {
  EngineState s;
  s.last_observed = model::Replicas{current};
  s.last_observed_at = at(t - 1s);
  return s;
}

/// Threads the state through ticks like the controller does.
struct Driver {
  Policy policy;
  EngineState state;

  Recommendation tick(const EngineInput& in) {
    auto r = recommend(policy, in, std::move(state));
    state = std::move(r.state);
    return std::move(r.recommendation);
  }
};

}  // namespace qfscale::policy::testing
