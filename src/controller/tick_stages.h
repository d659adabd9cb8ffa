#pragma once

// The stages of one reconcile tick (controller.h), each filling its own struct:
//   observe -> recommend -> allocation input -> allocate -> plan and act -> report.
// `Controller::tick` runs them in that order; the `model::Decision` of each service is
// assembled once, at the end (`decide`), from what the stages found. Errors go to one
// `TickErrors` in the order they happen. Used by controller.cc only.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "qfscale/capacity/allocator.h"
#include "qfscale/controller/config.h"
#include "qfscale/controller/controller.h"
#include "qfscale/controller/state_store.h"
#include "qfscale/demand/qps_source.h"
#include "qfscale/model/decision.h"
#include "qfscale/policy/engine.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/clock.h"

#include "controller/hidden_units.h"

namespace qfscale::controller::detail {

/// The config's services and instances by position (config order) and by id.
struct Layout {
  std::vector<model::ServiceId> service_ids;
  std::vector<model::InstanceId> instance_ids;
  std::unordered_map<model::ServiceId, std::size_t> service_index;
  std::unordered_map<model::InstanceId, std::size_t> instance_index;
  [[nodiscard]] static Layout of(const Config& config);
};

/// Every error of one tick, in the order it happened. One about a service also goes to that
/// service's decision; `note` adds a sentence to the decision only (the error is counted once,
/// elsewhere).
struct TickErrors {
  std::vector<telemetry::TickError> tick;
  std::vector<std::vector<std::string>> of_service;  ///< one list per service

  void add(telemetry::TickStage stage, telemetry::TickErrorCode code, std::string message,
           std::optional<std::size_t> service = std::nullopt);
  void note(std::size_t service, std::string message) {
    of_service[service].push_back(std::move(message));
  }
};

/// Where a managed service runs, from one DescribeComputeUnit usage entry.
struct Seen {
  std::size_t instance = 0;  ///< index into Config::instances
  model::Replicas replicas;
  model::ComputeUnits units;  ///< as the instance reported them
};

/// 1. What the API and the metric source said.
struct Observed {
  std::vector<telemetry::ApiCall> api_calls;           ///< the Describe* calls
  std::vector<demand::QpsReading> readings;            ///< one per service
  std::vector<Result<qianfan::ServiceInfo>> services;  ///< one per service
  std::vector<std::vector<Seen>> seen;                 ///< per service, from the usage lists
  /// Per instance: capacity and foreign units, empty when it could not be described.
  std::vector<std::optional<capacity::InstanceSpec>> instances;
  std::size_t instances_described = 0;
};

/// 2. One service's recommendation, or why it is held this tick.
struct Recommended {
  std::optional<double> qps;         ///< empty when its reading failed
  std::chrono::seconds qps_span{0};  ///< the seconds qps averages over; 0 unknown
  std::optional<telemetry::MetricSourceErrorKind> metric_error;  ///< why it failed
  bool observed = false;                                         ///< its DescribeService answered
  double replica_qps = 0;
  model::Replicas current;
  policy::Recommendation recommendation;       ///< the engine's; empty when it was not called
  model::Reason reason = model::Reason::None;  ///< the engine's, or ObserveFailed when held here
  /// Keeps its replicas this tick: no call, and its units count as foreign so nobody takes them.
  bool frozen = false;
  bool replica_count_mismatch = false;
  std::optional<model::ComputeUnits> units_per_replica;
};

/// 3. What the allocator is asked; `request_of[k]` is service k's entry in `input.services`.
struct Requests {
  capacity::AllocationInput input;
  std::vector<std::optional<std::size_t>> request_of;
  /// Per instance: remembered hidden units counted as foreign this tick (hidden_units.h).
  std::vector<model::ComputeUnits> hidden_counted;
};

/// 5. What acting did; `ok` is false when no plan could be made (nothing was sent).
struct Acted {
  bool ok = false;
  std::vector<std::vector<model::ScaleCall>> calls;  ///< per service, in plan order
  std::vector<telemetry::ApiCall> api_calls;         ///< the ScaleService calls sent
};

/// What the stages need from the controller.
struct TickContext {
  const Config& config;
  const Layout& layout;
  const Dependencies& deps;
  util::SystemTime now;
  /// Units instances hold that no reply shows, learned from refusals: counted as foreign.
  const HiddenUnitsMemory& hidden;
};

[[nodiscard]] Observed observe_tick(const TickContext& tick, TickErrors& errors);
/// Runs the engine of every service that was observed, updating `states`.
[[nodiscard]] std::vector<Recommended> recommend_all(const TickContext& tick,
                                                     const Observed& observed, EngineStates& states,
                                                     TickErrors& errors);
[[nodiscard]] Requests allocation_input(const TickContext& tick, const Observed& observed,
                                        std::span<const Recommended> recommended);
[[nodiscard]] std::optional<capacity::Allocation> allocate(const Requests& requests,
                                                           TickErrors& errors);
[[nodiscard]] Acted plan_and_act(const TickContext& tick, const Requests& requests,
                                 const std::optional<capacity::Allocation>& allocation,
                                 TickErrors& errors);
/// The instances where a scale-up was refused for capacity, with the units the allocation left
/// free there (what hidden_units.h learns from).
[[nodiscard]] std::vector<RefusedUp> refused_ups(
    const TickContext& tick, const Observed& observed, const Requests& requests,
    const std::optional<capacity::Allocation>& allocation, const Acted& acted);
/// 6. The report of the tick, every decision assembled here, once; the controller adds the
/// timing and `success`, then saves, audits and publishes it.
[[nodiscard]] telemetry::TickReport assemble_report(
    const TickContext& tick, Observed& observed, std::span<const Recommended> recommended,
    const Requests& requests, const std::optional<capacity::Allocation>& allocation, Acted& acted,
    TickErrors& errors);
/// See controller.h: a tick that saw no service, no metric or no instance reconciled nothing.
[[nodiscard]] bool nothing_observed(const Observed& observed,
                                    std::span<const Recommended> recommended);
/// Service k's decision from every stage's result.
[[nodiscard]] model::Decision decide(std::size_t k, const TickContext& tick,
                                     const Recommended& recommended, const Requests& requests,
                                     const std::optional<capacity::Allocation>& allocation,
                                     Acted& acted, TickErrors& errors);

}  // namespace qfscale::controller::detail
