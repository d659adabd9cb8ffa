// Stages 1 and 2 of a reconcile tick, observe and recommend; see tick_stages.h.

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "controller/controller_detail.h"
#include "controller/tick_stages.h"

namespace qfscale::controller::detail {

using model::Reason;
using telemetry::TickErrorCode;
using telemetry::TickStage;

namespace {

telemetry::MetricSourceErrorKind error_kind(demand::FailureKind kind) {
  using demand::FailureKind;
  using telemetry::MetricSourceErrorKind;
  switch (kind) {
    case FailureKind::Transport:
      return MetricSourceErrorKind::Unreachable;
    case FailureKind::Missing:
      return MetricSourceErrorKind::Missing;
    case FailureKind::Stale:
      return MetricSourceErrorKind::Stale;
    case FailureKind::NotFinite:
    case FailureKind::Negative:
    case FailureKind::HttpStatus:
    case FailureKind::Malformed:
    case FailureKind::QueryError:
      break;
  }
  return MetricSourceErrorKind::BadReply;
}

TickErrorCode api_error_code(const Error& error) {
  return telemetry::tick_error_code(api_code(error));
}

/// The replicas the instances' usage lists show for a service.
model::Replicas listed_replicas(const std::vector<Seen>& seen) {
  model::Replicas total;
  for (const auto& s : seen) total += s.replicas;
  return total;
}

/// Units taken on an instance that its usage list does not show (another team's services), when
/// the reply says what is left: capacity 16, available 4, listed 10 -> 2. Without them the
/// allocator would plan a scale-up into units that are not there, and ScaleService would refuse
/// it every tick.
model::ComputeUnits unlisted_units(const qianfan::ComputeUnitInfo& described) {
  const auto& available = described.instance.available_compute_unit_count;
  if (!available) return {};
  const auto unlisted = described.instance.compute_unit_count - *available - described.used();
  return unlisted > model::ComputeUnits{} ? unlisted : model::ComputeUnits{};
}

// ---- 1. observe ---------------------------------------------------------------------------

void check_reading_count(Observed& observed, std::size_t services, TickErrors& errors) {
  if (observed.readings.size() == services) return;
  errors.add(TickStage::Metrics, TickErrorCode::Internal,
             fmt::format("metric source returned {} readings for {} services; treating every "
                         "reading as failed",
                         observed.readings.size(), services));
  observed.readings.assign(
      services, tl::unexpected(demand::QpsFailure{.kind = demand::FailureKind::Malformed,
                                                  .message = "wrong number of readings"}));
}

/// Records where the managed services run on instance `i`; the rest of its use is foreign.
void read_usage(const TickContext& tick, std::size_t i, const qianfan::ComputeUnitInfo& described,
                Observed& observed) {
  auto& spec = observed.instances[i].emplace(capacity::InstanceSpec{
      .id = tick.config.instances[i].id,
      .capacity = tick.config.instances[i].capacity.value_or(described.instance.compute_unit_count),
      .foreign = unlisted_units(described)});
  for (const auto& usage : described.usage) {
    const auto it = tick.layout.service_index.find(usage.service_id);
    if (it == tick.layout.service_index.end()) {
      spec.foreign += usage.compute_unit_count;
      continue;
    }
    auto& seen = observed.seen[it->second];
    if (!seen.empty() && seen.back().instance == i) {  // listed twice: add up
      seen.back().replicas += usage.deployment_replicas_count;
      seen.back().units += usage.compute_unit_count;
    } else {
      seen.push_back(Seen{.instance = i,
                          .replicas = usage.deployment_replicas_count,
                          .units = usage.compute_unit_count});
    }
  }
}

// ---- 2. recommend -------------------------------------------------------------------------

void read_qps(const TickContext& tick, std::size_t k, const demand::QpsReading& reading,
              Recommended& r, TickErrors& errors) {
  if (reading) {
    r.qps = reading->qps;
    r.qps_span = reading->span;
    return;
  }
  r.metric_error = error_kind(reading.error().kind);
  errors.add(TickStage::Metrics, telemetry::tick_error_code(*r.metric_error),
             fmt::format("service {}: no QPS from the metric source: {}; the policy's "
                         "onMetricsFailure applies",
                         tick.config.services[k].id, reading.error().message),
             k);
}

/// Held by the controller, not the engine: keeps its replicas, reason ObserveFailed.
void hold(Recommended& r) {
  r.frozen = true;
  r.reason = Reason::ObserveFailed;
}

void check_replica_count(const TickContext& tick, std::size_t k, const Observed& observed,
                         Recommended& r, TickErrors& errors) {
  if (observed.instances_described != observed.instances.size()) return;
  const model::Replicas listed = listed_replicas(observed.seen[k]);
  if (listed == r.current) return;
  r.replica_count_mismatch = true;
  errors.add(TickStage::Observe, TickErrorCode::ReplicaCountMismatch,
             fmt::format("service {}: DescribeService says {} replicas but the compute-unit "
                         "usage lists show {}; deciding from {} (the service's own count, "
                         "which covers instances outside the config) and placing from the "
                         "usage lists (the only per-instance figure); a scale still landing "
                         "or replicas on an unlisted instance explain it",
                         tick.config.services[k].id, r.current, listed, r.current),
             k);
}

/// Holds a service whose units per replica are unknown or whose instances were not all seen.
void check_placeable(const TickContext& tick, std::size_t k, const qianfan::ServiceInfo& info,
                     const Observed& observed, Recommended& r, TickErrors& errors) {
  const ServiceConfig& svc = tick.config.services[k];
  if (!r.units_per_replica) {
    hold(r);
    errors.add(TickStage::Allocate, TickErrorCode::UnknownUnits,
               fmt::format("service {}: resource type \"{}\" does not name compute units per "
                           "replica (a number after the last dash, as in GPU-I-2); set "
                           "unitsPerReplica for it in the config",
                           svc.id, info.resource_config.type),
               k);
    return;
  }
  for (const auto& allowed : svc.instances) {
    if (!observed.instances[tick.layout.instance_index.at(allowed)]) {
      // Counted once, as the instance's error; the decision says why it is frozen.
      hold(r);
      errors.note(k, fmt::format("service {}: instance {} could not be described, so where the "
                                 "service runs is unknown; not scaled this tick",
                                 svc.id, allowed));
      return;
    }
  }
}

/// DescribeService failed: nothing to decide from. The engine is not called, so its state stays
/// as it was; the replicas are what the usage lists show.
void hold_unobserved(const TickContext& tick, std::size_t k, const Observed& observed,
                     Recommended& r, TickErrors& errors) {
  r.current = listed_replicas(observed.seen[k]);
  r.recommendation.replicas = r.current;
  hold(r);
  errors.add(TickStage::Observe, api_error_code(observed.services[k].error()),
             fmt::format("{}; service {} is not scaled this tick", observed.services[k].error(),
                         tick.config.services[k].id),
             k);
}

void run_engine(const TickContext& tick, const ServiceConfig& svc, const qianfan::ServiceInfo& info,
                EngineStates& states, Recommended& r) {
  r.observed = true;
  r.replica_qps = info.resource_config.qps;
  r.current = info.resource_config.replicas;
  auto& state = states[svc.id];
  auto result = policy::recommend(svc.policy,
                                  {.now = tick.now,
                                   .qps = r.qps,
                                   .replica_qps = r.replica_qps,
                                   .current = r.current,
                                   .run_status = info.run_status,
                                   .model_updating = info.is_model_updating,
                                   .explain = true,
                                   .sample_span = r.qps_span},
                                  std::move(state));
  state = std::move(result.state);
  r.recommendation = std::move(result.recommendation);
  r.reason = r.recommendation.reason;
  // The engine says why it froze (FrozenNotServing / FrozenUpdating).
  r.frozen = r.recommendation.frozen;
}

Recommended recommend_one(const TickContext& tick, std::size_t k, const Observed& observed,
                          EngineStates& states, TickErrors& errors) {
  const ServiceConfig& svc = tick.config.services[k];
  Recommended r;
  read_qps(tick, k, observed.readings[k], r, errors);
  const auto& info = observed.services[k];
  r.units_per_replica = svc.units_per_replica;
  if (!info) {
    hold_unobserved(tick, k, observed, r, errors);
    return r;
  }
  run_engine(tick, svc, *info, states, r);
  check_replica_count(tick, k, observed, r, errors);
  if (!r.units_per_replica) {
    r.units_per_replica = model::units_per_replica(info->resource_config.type);
  }
  if (!r.frozen) check_placeable(tick, k, *info, observed, r, errors);
  return r;
}

}  // namespace

Layout Layout::of(const Config& config) {
  Layout layout;
  for (const auto& s : config.services) {
    layout.service_index.emplace(s.id, layout.service_ids.size());
    layout.service_ids.push_back(s.id);
  }
  for (const auto& i : config.instances) {
    layout.instance_index.emplace(i.id, layout.instance_ids.size());
    layout.instance_ids.push_back(i.id);
  }
  return layout;
}

void TickErrors::add(TickStage stage, TickErrorCode code, std::string message,
                     std::optional<std::size_t> service) {
  if (service) of_service[*service].push_back(message);
  tick.push_back({.stage = stage, .code = code, .message = std::move(message)});
}

Observed observe_tick(const TickContext& tick, TickErrors& errors) {
  const auto& layout = tick.layout;
  Observed observed;
  // The API calls run on worker threads while this thread reads the metric source.
  auto obs = observe(*tick.deps.api, *tick.deps.clock, layout.service_ids, layout.instance_ids,
                     tick.config.qianfan.concurrency, [&] {
                       observed.readings = tick.deps.qps->read(layout.service_ids, tick.now);
                     });
  observed.api_calls = std::move(obs.calls);
  observed.services = std::move(obs.services);
  check_reading_count(observed, layout.service_ids.size(), errors);
  observed.seen.resize(layout.service_ids.size());
  observed.instances.resize(layout.instance_ids.size());
  for (std::size_t i = 0; i < obs.instances.size(); ++i) {
    const auto& described = obs.instances[i];
    if (!described) {
      errors.add(TickStage::Observe, api_error_code(described.error()),
                 fmt::format("{}; services that may use instance {} are not scaled this tick",
                             described.error(), layout.instance_ids[i]));
      continue;
    }
    ++observed.instances_described;
    read_usage(tick, i, *described, observed);
  }
  return observed;
}

std::vector<Recommended> recommend_all(const TickContext& tick, const Observed& observed,
                                       EngineStates& states, TickErrors& errors) {
  std::vector<Recommended> out;
  out.reserve(tick.config.services.size());
  for (std::size_t k = 0; k < tick.config.services.size(); ++k) {
    out.push_back(recommend_one(tick, k, observed, states, errors));
  }
  return out;
}

}  // namespace qfscale::controller::detail
