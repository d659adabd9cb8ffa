#include "qfscale/controller/controller.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/capacity/plan.h"
#include "qfscale/capacity/request.h"
#include "qfscale/policy/engine.h"
#include "qfscale/util/check.h"

#include "controller/controller_detail.h"

namespace qfscale::controller {

using model::ActuationOutcome;
using model::Reason;
using telemetry::TickErrorCode;
using telemetry::TickStage;

namespace {

/// Where a managed service runs, from one DescribeComputeUnit usage entry.
struct Seen {
  std::size_t instance = 0;  ///< index into Config::instances
  model::Replicas replicas;
  model::ComputeUnits units;  ///< as the instance reported them
};

/// One service's working data during a tick.
struct Work {
  std::vector<Seen> seen;
  /// Keeps its replicas this tick: no call, and its units count as foreign so nobody takes them.
  bool frozen = false;
  std::optional<model::ComputeUnits> units_per_replica;
  std::optional<std::size_t> request;  ///< index into AllocationInput::services
};

telemetry::MetricSourceErrorKind error_kind(metrics::FailureKind kind) {
  using metrics::FailureKind;
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

telemetry::TickErrorCode api_error_code(const Error& error) {
  return telemetry::tick_error_code(detail::api_code(error));
}

/// Units a frozen service holds on an instance. The larger of the reported units and
/// replicas x units per replica, so a usage entry that under-reports cannot make room for others.
model::ComputeUnits held_units(const Seen& seen, std::optional<model::ComputeUnits> per_replica) {
  if (!per_replica) {
    return seen.units;
  }
  return std::max(seen.units, seen.replicas * *per_replica);
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

/// The replicas the instances' usage lists show for a service.
model::Replicas listed_replicas(const std::vector<Seen>& seen) {
  model::Replicas total;
  for (const auto& s : seen) total += s.replicas;
  return total;
}

}  // namespace

struct Controller::Impl {
  Config config;
  Dependencies deps;
  EngineStates states;
  std::vector<model::ServiceId> service_ids;    ///< config order
  std::vector<model::InstanceId> instance_ids;  ///< config order
  std::unordered_map<model::ServiceId, std::size_t> service_index;
  std::unordered_map<model::InstanceId, std::size_t> instance_index;

  void adopt(Config c) {
    config = std::move(c);
    service_ids.clear();
    instance_ids.clear();
    service_index.clear();
    instance_index.clear();
    for (const auto& s : config.services) {
      service_index.emplace(s.id, service_ids.size());
      service_ids.push_back(s.id);
    }
    for (const auto& i : config.instances) {
      instance_index.emplace(i.id, instance_ids.size());
      instance_ids.push_back(i.id);
    }
    std::erase_if(states, [&](const auto& entry) { return !service_index.contains(entry.first); });
  }

  void report_config(bool success) const {
    telemetry::ConfigReload reload{.success = success};
    if (success) {
      reload.services = service_ids;
      reload.instances = instance_ids;
    }
    for (auto* sink : deps.sinks) {
      sink->on_config(reload);
    }
  }

  telemetry::TickReport tick(util::SystemTime now);
};

Result<std::unique_ptr<Controller>> Controller::create(Config config, Dependencies deps) {
  if (deps.api == nullptr || deps.qps == nullptr || deps.clock == nullptr) {
    return fail(ErrorCode::InvalidInput,
                "controller: the Qianfan API, the QPS source and the clock are required");
  }
  if (auto checked = detail::check_config(config); !checked) {
    return fail(checked.error());
  }
  auto impl = std::make_unique<Impl>();
  impl->deps = std::move(deps);
  if (impl->deps.state_store != nullptr) {
    auto loaded = impl->deps.state_store->load();
    if (!loaded) {
      return fail(std::move(loaded).error().with_context(
          fmt::format("loading the controller state from {} (move the file away to start with "
                      "empty stabilization history)",
                      impl->deps.state_store->path())));
    }
    impl->states = std::move(*loaded);
  }
  impl->adopt(std::move(config));
  impl->report_config(true);
  return std::unique_ptr<Controller>(new Controller(std::move(impl)));
}

Controller::Controller(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Controller::~Controller() = default;

telemetry::TickReport Controller::tick(util::SystemTime now) { return impl_->tick(now); }

Status Controller::reload(Config config) {
  if (auto checked = detail::check_config(config); !checked) {
    impl_->report_config(false);
    return checked;
  }
  impl_->adopt(std::move(config));
  impl_->report_config(true);
  return util::ok();
}

const Config& Controller::config() const { return impl_->config; }
const EngineStates& Controller::states() const { return impl_->states; }

telemetry::TickReport Controller::Impl::tick(util::SystemTime now) {
  const auto started = deps.clock->monotonic_now();
  const auto& services = config.services;
  const auto& instances = config.instances;
  telemetry::TickReport report;
  report.services.resize(services.size());
  // Every error goes to the report; one about a service also goes to its decision.
  const auto add_error = [&](TickStage stage, TickErrorCode code, std::string message,
                             std::optional<std::size_t> service = std::nullopt) {
    if (service) report.services[*service].decision.errors.push_back(message);
    report.errors.push_back({.stage = stage, .code = code, .message = std::move(message)});
  };

  // 1. Observe: the API calls run on worker threads while this thread reads the metric source.
  std::vector<metrics::QpsReading> readings;
  auto obs =
      detail::observe(*deps.api, *deps.clock, service_ids, instance_ids, config.qianfan.concurrency,
                      [&] { readings = deps.qps->read(service_ids, now); });
  report.api_calls = std::move(obs.calls);
  if (readings.size() != services.size()) {
    add_error(TickStage::Metrics, TickErrorCode::Internal,
              fmt::format("metric source returned {} readings for {} services; treating every "
                          "reading as failed",
                          readings.size(), services.size()));
    readings.assign(services.size(),
                    tl::unexpected(metrics::QpsFailure{.kind = metrics::FailureKind::Malformed,
                                                       .message = "wrong number of readings"}));
  }

  std::vector<capacity::InstanceSpec> specs(instances.size());
  std::vector<bool> instance_ok(instances.size(), false);
  std::vector<Work> work(services.size());
  std::size_t instances_described = 0;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    const auto& described = obs.instances[i];
    if (!described) {
      add_error(TickStage::Observe, api_error_code(described.error()),
                fmt::format("{}; services that may use instance {} are not scaled this tick",
                            described.error(), instances[i].id));
      continue;
    }
    instance_ok[i] = true;
    ++instances_described;
    specs[i] = capacity::InstanceSpec{
        .id = instances[i].id,
        .capacity = instances[i].capacity.value_or(described->instance.compute_unit_count)};
    specs[i].foreign += unlisted_units(*described);
    for (const auto& usage : described->usage) {
      const auto it = service_index.find(usage.service_id);
      if (it == service_index.end()) {
        specs[i].foreign += usage.compute_unit_count;
        continue;
      }
      auto& seen = work[it->second].seen;
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

  // 2. Recommend, per service.
  capacity::AllocationInput input;
  input.services.reserve(services.size());
  std::size_t describe_failed = 0;
  std::size_t metrics_failed = 0;
  for (std::size_t k = 0; k < services.size(); ++k) {
    const ServiceConfig& svc = services[k];
    Work& w = work[k];
    model::Decision& d = report.services[k].decision;
    d.service = svc.id;
    d.at = now;
    const auto& reading = readings[k];
    if (reading) {
      d.qps = reading->qps;
    } else {
      ++metrics_failed;
      const auto kind = error_kind(reading.error().kind);
      report.metric_errors.push_back(kind);
      add_error(TickStage::Metrics, telemetry::tick_error_code(kind),
                fmt::format("service {}: no QPS from the metric source: {}; the policy's "
                            "onMetricsFailure applies",
                            svc.id, reading.error().message),
                k);
    }
    const auto freeze = [&]() {
      w.frozen = true;
      d.reason = Reason::ObserveFailed;
      d.desired = d.current;
    };

    const auto& info = obs.services[k];
    w.units_per_replica = svc.units_per_replica;
    if (!info) {
      // Nothing to decide from: the engine is not called, so its state stays as it was.
      ++describe_failed;
      d.current = listed_replicas(w.seen);
      d.recommended = d.current;
      report.services[k].observed = false;
      freeze();
      add_error(TickStage::Observe, api_error_code(info.error()),
                fmt::format("{}; service {} is not scaled this tick", info.error(), svc.id), k);
      continue;
    }
    const policy::EngineInput in{.now = now,
                                 .qps = d.qps,
                                 .replica_qps = info->resource_config.qps,
                                 .current = info->resource_config.replicas,
                                 .run_status = info->run_status,
                                 .model_updating = info->is_model_updating,
                                 .explain = true};
    auto& state = states[svc.id];
    auto result = policy::recommend(svc.policy, in, std::move(state));
    state = std::move(result.state);
    auto& rec = result.recommendation;
    d.replica_qps = in.replica_qps;
    d.current = in.current;
    d.steps = std::move(rec.steps);
    d.recommended = rec.replicas;
    d.reason = rec.reason;
    d.desired = rec.replicas;
    report.services[k].panic_active = rec.panicking;
    if (instances_described == instances.size()) {
      const model::Replicas listed = listed_replicas(w.seen);
      if (listed != in.current) {
        report.services[k].replica_count_mismatch = true;
        add_error(TickStage::Observe, TickErrorCode::ReplicaCountMismatch,
                  fmt::format("service {}: DescribeService says {} replicas but the compute-unit "
                              "usage lists show {}; deciding from {} (the service's own count, "
                              "which covers instances outside the config) and placing from the "
                              "usage lists (the only per-instance figure); a scale still landing "
                              "or replicas on an unlisted instance explain it",
                              svc.id, in.current, listed, in.current),
                  k);
      }
    }
    if (!w.units_per_replica) {
      w.units_per_replica = model::units_per_replica(info->resource_config.type);
    }

    if (rec.frozen) {
      w.frozen = true;  // the engine said why (FrozenNotServing / FrozenUpdating)
      d.desired = d.current;
      continue;
    }
    if (!w.units_per_replica) {
      freeze();
      add_error(TickStage::Allocate, TickErrorCode::UnknownUnits,
                fmt::format("service {}: resource type \"{}\" does not name compute units per "
                            "replica (a number after the last dash, as in GPU-I-2); set "
                            "unitsPerReplica for it in the config",
                            svc.id, info->resource_config.type),
                k);
      continue;
    }
    for (const auto& allowed : svc.instances) {
      if (!instance_ok[instance_index.at(allowed)]) {
        // Counted once, as the instance's error; the decision says why it is frozen.
        freeze();
        d.errors.push_back(
            fmt::format("service {}: instance {} could not be described, so where the "
                        "service runs is unknown; not scaled this tick",
                        svc.id, allowed));
        break;
      }
    }
    if (w.frozen) {
      continue;
    }

    std::vector<capacity::Placement> current;
    current.reserve(w.seen.size());
    for (const auto& seen : w.seen) {
      current.push_back(
          capacity::Placement{.instance = instances[seen.instance].id, .replicas = seen.replicas});
    }
    auto request = capacity::service_request({.id = svc.id,
                                              .units_per_replica = *w.units_per_replica,
                                              .priority = svc.priority,
                                              .weight = svc.weight,
                                              .instances = svc.instances},
                                             rec, std::move(current));
    QFS_CHECK(request.has_value(), "a recommendation that is not frozen makes a request");
    w.request = input.services.size();
    input.services.push_back(std::move(*request));
  }

  // A frozen service keeps what it has: to the allocator its units are somebody else's.
  for (const Work& w : work) {
    if (!w.frozen) {
      continue;
    }
    for (const auto& seen : w.seen) {
      specs[seen.instance].foreign += held_units(seen, w.units_per_replica);
    }
  }
  for (std::size_t i = 0; i < instances.size(); ++i) {
    if (instance_ok[i]) {
      input.instances.push_back(specs[i]);
    }
  }

  // 3. Allocate and 4. act.
  bool acted_ok = false;
  auto allocation = capacity::allocate(input);
  if (!allocation) {
    add_error(TickStage::Allocate, TickErrorCode::Internal,
              fmt::format("allocation failed, nothing scaled: {}", allocation.error()));
  } else {
    for (std::size_t k = 0; k < services.size(); ++k) {
      if (!work[k].request) {
        continue;
      }
      const auto& a = allocation->services[*work[k].request];
      model::Decision& d = report.services[k].decision;
      d.desired = a.granted;
      d.unmet = a.unmet;
      if (a.shortfall != capacity::Shortfall::None) {
        d.reason = capacity::to_reason(a.shortfall);
      }
    }
    for (const auto& usage : allocation->instances) {
      report.instances.push_back(
          telemetry::InstanceUsage{.instance = usage.id,
                                   .capacity = usage.capacity,
                                   .allocated = usage.allocated + usage.foreign,
                                   .free = usage.free});
    }
    auto plan = capacity::plan_calls(input, *allocation);
    if (!plan) {
      add_error(TickStage::Allocate, TickErrorCode::Internal,
                fmt::format("planning the scale calls failed, nothing scaled: {}", plan.error()));
    } else {
      auto acted = detail::act(*deps.api, *deps.clock, *plan, config.loop.dry_run,
                               config.qianfan.concurrency);
      report.api_calls.insert(report.api_calls.end(), acted.api_calls.begin(),
                              acted.api_calls.end());
      for (std::size_t i = 0; i < plan->steps.size(); ++i) {
        const std::size_t k = service_index.at(plan->steps[i].service);
        auto& call = acted.calls[i];
        if (call.outcome == ActuationOutcome::Failed) {
          add_error(TickStage::Act, telemetry::tick_error_code(acted.codes[i]),
                    fmt::format("{}; re-planned next tick", call.error), k);
        }
        report.services[k].decision.calls.push_back(std::move(call));
      }
      acted_ok = true;
    }
  }
  for (std::size_t k = 0; k < services.size(); ++k) {
    model::Decision& d = report.services[k].decision;
    if (work[k].frozen) {
      d.outcome = ActuationOutcome::Skipped;
    } else if (!acted_ok) {
      d.desired = d.current;
      d.outcome = ActuationOutcome::Skipped;
    } else {
      d.outcome = detail::summarise(d.calls);
    }
  }

  // 5. Report. See controller.h for what counts as a successful tick.
  const bool nothing_observed = (!services.empty() && (describe_failed == services.size() ||
                                                       metrics_failed == services.size())) ||
                                (!instances.empty() && instances_described == 0);
  bool saved_ok = true;
  if (deps.state_store != nullptr) {
    if (auto saved = deps.state_store->save(states, now); !saved) {
      saved_ok = false;
      add_error(TickStage::Save, TickErrorCode::Io,
                fmt::format("saving the controller state to {} failed: {}; a restart now would "
                            "forget stabilization history",
                            deps.state_store->path(), saved.error()));
    }
  }
  report.success = acted_ok && !nothing_observed && saved_ok;
  report.finished_at = now;
  report.duration = std::chrono::duration<double>(deps.clock->monotonic_now() - started);
  if (deps.audit_log != nullptr) {
    // First, so that the other sinks hear of a failed write in this very report.
    deps.audit_log->on_tick(report);
    if (auto written = deps.audit_log->last_status(); !written) {
      add_error(TickStage::Audit, TickErrorCode::Io,
                fmt::format("{}; the lines are kept and written with the next tick's",
                            written.error().message));
    }
  }
  for (auto* sink : deps.sinks) {
    sink->on_tick(report);
  }
  return report;
}

}  // namespace qfscale::controller
