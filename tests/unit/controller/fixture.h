#pragma once

// A controller wired to FakeQianfanApi, FakeQpsSource and a ManualClock, with policies written
// inline and helpers that make ScaleService call lists comparable as text ("svc-a@cu-a=10").

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/controller/controller.h"
#include "qfscale/controller/state_store.h"
#include "qfscale/policy/loader.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/clock.h"

#include "support/fake_qianfan_api.h"
#include "support/fake_qps_source.h"

namespace qfscale::controller::test {

using namespace std::chrono_literals;
using model::ActuationOutcome;
using model::InstanceId;
using model::Reason;
using model::Replicas;
using model::ServiceId;
using qfscale::testing::QianfanAction;

/// 2024-01-01T00:00:00Z, a Monday.
inline const util::SystemTime kT0{std::chrono::seconds{1'704'067'200}};

/// A policy that isolates raw desired: one replica of `replica_qps` 10 serves 5 qps (utilization
/// 0.5), tolerance 0, no panic, a 1 s metric window (the latest sample), replicas [1, 100], scale
/// up at once, scale down after a 60 s stabilization window, rate limits too wide to bind.
inline constexpr std::string_view kFast = R"(
  target: {utilization: 0.5, tolerance: 0}
  replicas: {min: 1, max: 100}
  metricWindow: 1s
  panic: {enabled: false}
  scaleUp: {stabilizationWindow: 0s, policies: [{type: Replicas, value: 1000, period: 1s}]}
  scaleDown: {stabilizationWindow: 60s, policies: [{type: Percent, value: 100, period: 1s}]}
)";

/// kFast without the scale-down window.
inline constexpr std::string_view kNoWindow = R"(
  target: {utilization: 0.5, tolerance: 0}
  replicas: {min: 1, max: 100}
  metricWindow: 1s
  panic: {enabled: false}
  scaleUp: {stabilizationWindow: 0s, policies: [{type: Replicas, value: 1000, period: 1s}]}
  scaleDown: {stabilizationWindow: 0s, policies: [{type: Percent, value: 100, period: 1s}]}
)";

inline policy::Policy make_policy(std::string_view spec_body) {
  const std::string text =
      "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: test}\nspec:" +
      std::string(spec_body);
  const util::ZoneSource no_zones = [](std::string_view) -> std::optional<std::string> {
    return std::nullopt;
  };
  auto p = policy::load_policy(text, "inline.yaml", no_zones);
  REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : util::to_string(p.error())));
  return *p;
}

/// Every report and config reload, in order.
class RecordingSink final : public telemetry::TelemetrySink {
 public:
  void on_tick(const telemetry::TickReport& report) override { ticks.push_back(report); }
  void on_config(const telemetry::ConfigReload& reload) override { configs.push_back(reload); }
  std::vector<telemetry::TickReport> ticks;
  std::vector<telemetry::ConfigReload> configs;
};

inline std::string describe(const qianfan::ScaleServiceRequest& r) {
  return fmt::format("{}@{}={}", r.service, r.instance, r.replicas);
}

inline std::string describe(const model::ScaleCall& c) {
  return fmt::format("{}:{}->{}:{}", c.instance, c.from, c.to, model::to_string(c.outcome));
}

struct Harness {
  qfscale::testing::FakeQianfanApi api;
  qfscale::testing::FakeQpsSource qps;
  util::ManualClock clock{kT0};
  RecordingSink sink;
  Config config;
  std::unique_ptr<Controller> controller;
  std::size_t scale_mark = 0;  ///< ScaleService calls already returned by new_scales()

  Harness() { config.qianfan.concurrency = 4; }

  /// An instance of `capacity` compute units, known to the fake and the config.
  void add_instance(std::string_view id, int capacity) {
    api.add_instance(InstanceId{id}, model::ComputeUnits{capacity});
    config.instances.push_back(InstanceConfig{.id = InstanceId{id}});
  }

  /// A Serving service of `type` whose replica serves `replica_qps`, managed with `policy`.
  ServiceConfig& add_service(std::string_view id, std::vector<std::string_view> instances,
                             std::string_view policy_body = kFast,
                             std::string_view type = "GPU-I-2", double replica_qps = 10) {
    qianfan::ServiceInfo info;
    info.service_id = ServiceId{id};
    info.name = std::string(id);
    info.run_status = model::RunStatus::Serving;
    info.run_status_text = "Serving";
    info.resource_config = {.region = "bj", .type = std::string(type), .qps = replica_qps};
    api.add_service(std::move(info));
    std::vector<InstanceId> allowed;
    for (auto i : instances) allowed.emplace_back(i);
    config.services.push_back(ServiceConfig{.id = ServiceId{id},
                                            .policy_ref = "inline",
                                            .policy = make_policy(policy_body),
                                            .instances = std::move(allowed)});
    return config.services.back();
  }

  /// Also managed by the fake but not by qfscale.
  void add_foreign_service(std::string_view id, std::string_view type = "GPU-I-2") {
    qianfan::ServiceInfo info;
    info.service_id = ServiceId{id};
    info.run_status = model::RunStatus::Serving;
    info.resource_config = {.type = std::string(type), .qps = 10};
    api.add_service(std::move(info));
  }

  void place(std::string_view service, std::string_view instance, int replicas) {
    api.place(ServiceId{service}, InstanceId{instance}, Replicas{replicas});
  }

  Controller& start(StateStore* store = nullptr, AuditLog* audit = nullptr,
                    telemetry::TelemetrySink* also = nullptr) {
    std::vector<telemetry::TelemetrySink*> sinks{&sink};
    if (also != nullptr) sinks.push_back(also);
    auto c = Controller::create(config, Dependencies{.api = &api,
                                                     .qps = &qps,
                                                     .clock = &clock,
                                                     .sinks = std::move(sinks),
                                                     .state_store = store,
                                                     .audit_log = audit});
    REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().to_string()));
    controller = std::move(*c);
    return *controller;
  }

  /// One tick at kT0 + t (the clock is moved there first).
  telemetry::TickReport tick_at(std::chrono::seconds t) {
    clock.set(kT0 + t);
    return controller->tick(kT0 + t);
  }

  /// ScaleService calls sent since the last call of this function, as "svc@instance=N ...".
  std::string new_scales() {
    std::vector<std::string> out;
    const auto calls = api.calls();
    std::size_t seen = 0;
    for (const auto& call : calls) {
      if (call.action != QianfanAction::ScaleService) continue;
      if (seen++ >= scale_mark) out.push_back(describe(*call.scale));
    }
    scale_mark = seen;
    return fmt::format("{}", fmt::join(out, " "));
  }

  [[nodiscard]] int replicas(std::string_view service, std::string_view instance) const {
    return api.replicas(ServiceId{service}, InstanceId{instance}).value;
  }
};

/// The decision for `service` in `report` (fails the test when absent).
inline const model::Decision& decision(const telemetry::TickReport& report,
                                       std::string_view service) {
  for (const auto& s : report.services) {
    if (s.decision.service.value == service) return s.decision;
  }
  FAIL("no decision for " << service);
  return report.services.front().decision;  // unreachable
}

/// The decision's calls as "instance:from->to:outcome ...".
inline std::string calls_of(const model::Decision& d) {
  std::vector<std::string> out;
  for (const auto& c : d.calls) out.push_back(describe(c));
  return fmt::format("{}", fmt::join(out, " "));
}

}  // namespace qfscale::controller::test
