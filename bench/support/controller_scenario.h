#pragma once

/// Fixed controller scenarios for the live-loop and memory benchmarks: `services` services of
/// type GPU-I-2 (2 units per replica, 10 QPS per replica) spread round-robin over `instances`
/// compute-unit instances. Service k starts with `start_replicas` on instance k % instances and
/// may also use the next instance, (k + 1) % instances, as a spare. Each instance has room for
/// every service placed on it at `max_replicas`, so scale calls never meet a capacity refusal.

#include <string>
#include <string_view>

#include "qfscale/controller/config.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/model/ids.h"
#include "qfscale/policy/policy.h"

namespace qfscale::bench {

struct ControllerShape {
  int services = 1'000;
  int instances = 100;
  int start_replicas = 2;
  int max_replicas = 4;  ///< per service, for sizing the instances
  int units_per_replica = 2;
  double replica_qps = 10;
};

/// "svco-bench0000042": the fake's format ("svco-" + 12 lower-case letters or digits).
[[nodiscard]] model::ServiceId bench_service_id(int k);
/// "unit-bn000042": "unit-" + 8 letters or digits.
[[nodiscard]] model::InstanceId bench_instance_id(int i);
/// Units per instance: services on it x max_replicas x units_per_replica.
[[nodiscard]] int instance_capacity(const ControllerShape& shape);

/// The shape as a fake Qianfan scenario (replicas ready at once, no faults, no credentials).
[[nodiscard]] fake::Scenario make_fake_scenario(const ControllerShape& shape);

/// A controller config for the shape: every service on `policy`, Qianfan at `base_url`, the
/// given `concurrency`; capacity discovered with DescribeComputeUnit.
[[nodiscard]] controller::Config make_controller_config(const ControllerShape& shape,
                                                        const policy::Policy& policy,
                                                        std::string base_url, int concurrency);

/// Loads a policy from YAML text; aborts with the diagnostics when it does not validate (a bug
/// in the benchmark, not a measurement).
[[nodiscard]] policy::Policy load_bench_policy(std::string_view yaml, std::string_view name);

}  // namespace qfscale::bench
