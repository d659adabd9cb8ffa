// `qfscale run` with no config: the built-in demo. An in-process fake Qianfan (src/fake) with
// three services sharing two compute-unit instances, a seeded synthetic traffic generator with a
// compressed five-minute "day" plus noise and bursts, and the real controller talking to the fake
// over signed HTTP on loopback. Scaling shows within the first minute.

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/server.h"
#include "qfscale/policy/loader.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/file.h"

#include "cli/run_command.h"

namespace qfscale::cli {
namespace {

using std::chrono::seconds;

// Short windows so that a visitor sees both directions within minutes; otherwise `balanced`.
constexpr std::string_view kDemoPolicy = R"(apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: demo}
spec:
  target: {utilization: 0.7, tolerance: 0.1}
  replicas: {min: 1, max: 16}
  metricWindow: 10s
  panic: {enabled: true, window: 4s, threshold: 2.0}
  scaleUp:
    stabilizationWindow: 0s
    select: Max
    policies: [{type: Percent, value: 100, period: 10s}, {type: Replicas, value: 4, period: 10s}]
  scaleDown:
    stabilizationWindow: 30s
    select: Max
    policies: [{type: Percent, value: 50, period: 20s}]
)";

struct DemoService {
  const char* id;
  const char* name;
  const char* type;
  double replica_qps;
  int priority;
  std::vector<const char*> instances;  // most preferred first; starts with 1 replica on [0]
};

const std::vector<DemoService>& demo_services() {
  static const std::vector<DemoService> services = {
      {"svco-demochat0001", "demo-chat", "GPU-I-2", 4.0, 1, {"unit-demoa001", "unit-demob001"}},
      {"svco-demobtch0001", "demo-batch", "GPU-I-2", 3.0, 0, {"unit-demob001", "unit-demoa001"}},
      {"svco-demoembd0001", "demo-embed", "GPU-I-1", 10.0, 0, {"unit-demob001"}},
  };
  return services;
}

fake::Scenario demo_scenario() {
  fake::Scenario scenario;
  scenario.credentials = fake::generate_credentials();
  scenario.startup_delay = seconds{4};
  scenario.instances = {
      {.id = model::InstanceId{"unit-demoa001"}, .capacity = model::ComputeUnits{16}},
      {.id = model::InstanceId{"unit-demob001"}, .capacity = model::ComputeUnits{12}},
  };
  for (const auto& s : demo_services()) {
    scenario.services.push_back({
        .id = model::ServiceId{s.id},
        .name = s.name,
        .type = s.type,
        .qps = s.replica_qps,
        .deployments = {{.instance = model::InstanceId{s.instances.front()},
                         .replicas = model::Replicas{1}}},
    });
  }
  return scenario;
}

Result<controller::Config> demo_config(const std::string& base_url) {
  auto policy = policy::load_policy(kDemoPolicy, "<demo policy>", util::system_zone_source());
  if (!policy) {
    return tl::unexpected(
        Error{.code = ErrorCode::Internal, .message = util::to_string(policy.error())});
  }
  controller::Config config;
  config.qianfan.base_url = base_url;
  config.qianfan.max_attempts = 2;
  config.metrics.kind = controller::MetricSourceKind::Synthetic;
  config.metrics.synthetic = {.seed = 7,
                              .base_qps = 12.0,
                              .amplitude = 0.7,
                              .period = seconds{300},
                              .peak_at = seconds{150},
                              .noise = 0.1,
                              .bursts_per_hour = 12.0,
                              .burst_height = 2.5,
                              .burst_duration = seconds{20}};
  config.instances = {{.id = model::InstanceId{"unit-demoa001"}},
                      {.id = model::InstanceId{"unit-demob001"}}};
  for (const auto& s : demo_services()) {
    controller::ServiceConfig service{.id = model::ServiceId{s.id},
                                      .policy_ref = "demo",
                                      .policy = *policy,
                                      .priority = s.priority};
    for (const char* instance : s.instances) service.instances.emplace_back(instance);
    config.services.push_back(std::move(service));
  }
  config.loop.interval = seconds{2};
  config.loop.listen = "127.0.0.1:0";
  return config;
}

}  // namespace

int run_demo(const RunFlags& flags) {
  static const util::SystemClock clock;
  auto fake = fake::FakeQianfan::create(demo_scenario(), clock);
  if (!fake) {
    fmt::print(stderr, "qfscale run: demo: {}\n", fake.error().to_string());
    return 2;
  }
  auto server = http::start_server({.listen = "127.0.0.1:0"}, (*fake)->router());
  if (!server) {
    fmt::print(stderr, "qfscale run: demo: {}\n", server.error().to_string());
    return 2;
  }
  (*fake)->serve_at((*server)->address());
  const std::string base_url = fmt::format("http://{}", (*server)->address());
  auto config = demo_config(base_url);
  if (!config) {
    fmt::print(stderr, "qfscale run: demo: {}\n", config.error().to_string());
    return 2;
  }
  fmt::print(stderr,
             "qfscale run: no --config, so this is the built-in demo.\n"
             "  A fake Qianfan console API runs in-process at {} with three services on two\n"
             "  compute-unit instances (16 and 12 units). Synthetic traffic follows a five-minute\n"
             "  'day' with noise and bursts; each tick (2 s) the controller reads it, describes\n"
             "  the services, decides, and calls ScaleService on the fake. Stop with Ctrl-C.\n"
             "  Use --config qfscale.yaml to manage real services (see README.md).\n",
             base_url);
  std::fflush(stderr);
  const int code = run_controller(std::move(*config), (*fake)->credentials(), flags);
  (*server)->stop();
  return code;
}

}  // namespace qfscale::cli
