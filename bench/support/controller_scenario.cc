#include "support/controller_scenario.h"

#include <string>
#include <utility>

#include <fmt/format.h>

#include "qfscale/policy/loader.h"
#include "qfscale/util/check.h"
#include "qfscale/util/diagnostic.h"
#include "qfscale/util/file.h"

namespace qfscale::bench {

model::ServiceId bench_service_id(int k) {
  return model::ServiceId{fmt::format("svco-bench{:07}", k)};
}

model::InstanceId bench_instance_id(int i) {
  return model::InstanceId{fmt::format("unit-bn{:06}", i)};
}

int instance_capacity(const ControllerShape& shape) {
  const int per_instance = (shape.services + shape.instances - 1) / shape.instances;
  return per_instance * shape.max_replicas * shape.units_per_replica;
}

fake::Scenario make_fake_scenario(const ControllerShape& shape) {
  fake::Scenario scenario;
  // Replicas are ready at once: a service with none ready reports Deploying, and the controller
  // freezes it, which would hide the scale calls the benchmark wants to time.
  scenario.startup_delay = std::chrono::milliseconds{0};
  const int capacity = instance_capacity(shape);
  scenario.instances.reserve(static_cast<std::size_t>(shape.instances));
  for (int i = 0; i < shape.instances; ++i) {
    scenario.instances.push_back(
        {.id = bench_instance_id(i), .capacity = model::ComputeUnits{capacity}});
  }
  scenario.services.reserve(static_cast<std::size_t>(shape.services));
  for (int k = 0; k < shape.services; ++k) {
    scenario.services.push_back({
        .id = bench_service_id(k),
        .name = fmt::format("bench-{}", k),
        .type = fmt::format("GPU-I-{}", shape.units_per_replica),
        .qps = shape.replica_qps,
        .deployments = {{.instance = bench_instance_id(k % shape.instances),
                         .replicas = model::Replicas{shape.start_replicas}}},
    });
  }
  return scenario;
}

controller::Config make_controller_config(const ControllerShape& shape,
                                          const policy::Policy& policy, std::string base_url,
                                          int concurrency) {
  controller::Config config;
  config.qianfan.base_url = std::move(base_url);
  config.qianfan.max_attempts = 1;  // a failure is a benchmark error, not something to retry
  config.qianfan.concurrency = concurrency;
  config.instances.reserve(static_cast<std::size_t>(shape.instances));
  for (int i = 0; i < shape.instances; ++i) {
    config.instances.push_back({.id = bench_instance_id(i)});
  }
  config.services.reserve(static_cast<std::size_t>(shape.services));
  for (int k = 0; k < shape.services; ++k) {
    controller::ServiceConfig service{
        .id = bench_service_id(k), .policy_ref = policy.name(), .policy = policy};
    service.instances.push_back(bench_instance_id(k % shape.instances));
    if (shape.instances > 1) {
      service.instances.push_back(bench_instance_id((k + 1) % shape.instances));
    }
    config.services.push_back(std::move(service));
  }
  config.loop.listen = "127.0.0.1:0";
  return config;
}

policy::Policy load_bench_policy(std::string_view yaml, std::string_view name) {
  auto loaded = policy::load_policy(yaml, name, util::system_zone_source());
  QFS_CHECK(loaded.has_value(),
            loaded.has_value() ? std::string() : util::to_string(loaded.error()));
  return std::move(*loaded);
}

}  // namespace qfscale::bench
