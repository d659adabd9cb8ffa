#pragma once

// Shared by the simulator and report tests: a policy whose answers can be worked by hand and
// the step trace.

#include <chrono>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/sim/report.h"

namespace qfscale::sim::test {

using namespace std::chrono_literals;

/// Does exactly what demand says at every tick, so answers can be worked by hand: target
/// utilization 1.0 and no tolerance (desired = ceil(qps / replica_qps)), a metric window of one
/// tick (only the latest sample counts), no panic, no stabilization, rate limits far away.
inline policy::Policy exact_policy(std::string name = "exact") {
  policy::PolicySpec s;
  s.name = std::move(name);
  s.target = {.utilization = 1.0, .tolerance = 0.0};
  s.metric_window = 10s;
  s.panic.enabled = false;
  s.scale_up.policies = {{policy::RateLimitType::Replicas, 100, 10s}};
  s.scale_down.stabilization_window = 0s;
  s.scale_down.policies = {{policy::RateLimitType::Replicas, 100, 10s}};
  auto p = policy::Policy::create(std::move(s));
  REQUIRE(p);
  return *p;
}

/// `seconds` seconds at `qps`, then the next run, …
inline std::shared_ptr<const trace::Trace> steps(
    std::initializer_list<std::pair<int, float>> runs) {
  std::vector<float> v;
  for (auto [seconds, qps] : runs) v.insert(v.end(), static_cast<std::size_t>(seconds), qps);
  return std::make_shared<const trace::Trace>(std::move(v));
}

/// 100 s at 10 QPS, 100 s at 30, 100 s at 10; replicas of 10 QPS and 2 units (GPU-I-2), one
/// ready at the start.
inline ServiceSpec step_service(std::string id = "svc-step") {
  return ServiceSpec{.id = model::ServiceId{std::move(id)},
                     .trace = steps({{100, 10.0F}, {100, 30.0F}, {100, 10.0F}}),
                     .replica_qps = 10,
                     .units_per_replica = model::ComputeUnits{2},
                     .initial_replicas = model::Replicas{1}};
}

inline ReportInputs step_inputs(std::vector<std::string> files = {"traces/step.csv"}) {
  return ReportInputs{.trace_files = std::move(files),
                      .replica_qps = 10,
                      .resource_type = "GPU-I-2",
                      .units_per_replica = model::ComputeUnits{2},
                      .startup_delay = 20s,
                      .tick = 10s,
                      .capacity_units = {},
                      .start_unix_seconds = 0};
}

inline CompareOptions step_options(unsigned threads = 1) {
  CompareOptions o;
  o.sim.tick = 10s;
  o.sim.startup_delay = 20s;
  o.threads = threads;
  return o;
}

}  // namespace qfscale::sim::test
