// Stages 3 to 6 of a reconcile tick: allocation input, allocate, plan and act, report; see
// tick_stages.h.

#include <algorithm>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "qfscale/capacity/plan.h"
#include "qfscale/capacity/request.h"
#include "qfscale/util/check.h"

#include "controller/controller_detail.h"
#include "controller/tick_stages.h"

namespace qfscale::controller::detail {

using telemetry::TickErrorCode;
using telemetry::TickStage;

namespace {

/// Units a frozen service holds on an instance. The larger of the reported units and
/// replicas x units per replica, so a usage entry that under-reports cannot make room for others.
model::ComputeUnits held_units(const Seen& seen, std::optional<model::ComputeUnits> per_replica) {
  if (!per_replica) return seen.units;
  return std::max(seen.units, seen.replicas * *per_replica);
}

// ---- 5. plan and act ----------------------------------------------------------------------

void record_calls(const TickContext& tick, const capacity::Plan& plan, Actuation acted, Acted& out,
                  TickErrors& errors) {
  out.api_calls = std::move(acted.api_calls);
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    const std::size_t k = tick.layout.service_index.at(plan.steps[i].service);
    auto& call = acted.calls[i];
    if (call.outcome == model::ActuationOutcome::Failed) {
      errors.add(TickStage::Act, telemetry::tick_error_code(acted.codes[i]),
                 fmt::format("{}; re-planned next tick", call.error), k);
    }
    out.calls[k].push_back(std::move(call));
  }
}

std::vector<telemetry::InstanceUsage> instance_usage(const capacity::Allocation& allocation) {
  std::vector<telemetry::InstanceUsage> out;
  for (const auto& usage : allocation.instances) {
    out.push_back({.instance = usage.id,
                   .capacity = usage.capacity,
                   .allocated = usage.foreign + usage.managed,
                   .free = usage.free});
  }
  return out;
}

/// The allocator's request for a service that is not frozen (capacity/request.h).
capacity::ServiceRequest request_for(const TickContext& tick, std::size_t k, const Recommended& r,
                                     const std::vector<Seen>& seen) {
  const ServiceConfig& svc = tick.config.services[k];
  std::vector<capacity::Placement> current;
  current.reserve(seen.size());
  for (const auto& s : seen) {
    current.push_back({.instance = tick.config.instances[s.instance].id, .replicas = s.replicas});
  }
  auto request = capacity::service_request({.id = svc.id,
                                            .units_per_replica = *r.units_per_replica,
                                            .priority = svc.priority,
                                            .weight = svc.weight,
                                            .instances = svc.instances},
                                           r.recommendation, std::move(current));
  QFS_CHECK(request.has_value(), "a recommendation that is not frozen makes a request");
  return std::move(*request);
}

void apply_grant(const capacity::ServiceAllocation& granted, model::Decision& d) {
  d.granted = granted.granted;
  d.unmet = granted.unmet;
  if (granted.shortfall != capacity::Shortfall::None) {
    d.reason = capacity::to_reason(granted.shortfall);
  }
}

/// The remembered hidden units to count on an instance this tick (hidden_units.h).
model::ComputeUnits hidden_units_on(const TickContext& tick, const capacity::InstanceSpec& seen,
                                    const capacity::InstanceSpec& spec,
                                    model::ComputeUnits managed) {
  const auto it = tick.hidden.find(spec.id);
  if (it == tick.hidden.end()) return {};
  return counted(it->second, seen.foreign, spec.capacity - spec.foreign - managed);
}

/// Says why growth is held back on an instance that holds units no reply shows.
void note_hidden_units(const TickContext& tick, std::size_t k, const model::Decision& d,
                       TickErrors& errors) {
  if (d.unmet == model::Replicas{}) return;
  for (const auto& id : tick.config.services[k].instances) {
    const auto it = tick.hidden.find(id);
    if (it == tick.hidden.end()) continue;
    errors.note(k, fmt::format("instance {} refused a scale-up for compute units its usage list "
                               "does not show; {} of its units count as used for {} min after the "
                               "last refusal, and growth that does not fit waits (capped_capacity)",
                               id, it->second.units, kHiddenUnitsMemory.count()));
  }
}

}  // namespace

Requests allocation_input(const TickContext& tick, const Observed& observed,
                          std::span<const Recommended> recommended) {
  Requests out;
  out.request_of.resize(recommended.size());
  out.hidden_counted.resize(observed.instances.size());
  std::vector<capacity::InstanceSpec> specs;
  for (const auto& spec : observed.instances) {
    specs.push_back(spec.value_or(capacity::InstanceSpec{}));
  }
  std::vector<model::ComputeUnits> managed(specs.size());  // units the requests run now
  for (std::size_t k = 0; k < recommended.size(); ++k) {
    const auto& r = recommended[k];
    for (const auto& seen : observed.seen[k]) {
      // A frozen service keeps what it has: to the allocator its units are somebody else's.
      (r.frozen ? specs[seen.instance].foreign : managed[seen.instance]) +=
          r.frozen ? held_units(seen, r.units_per_replica) : seen.replicas * *r.units_per_replica;
    }
    if (r.frozen) continue;
    out.request_of[k] = out.input.services.size();
    out.input.services.push_back(request_for(tick, k, r, observed.seen[k]));
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (!observed.instances[i]) continue;
    out.hidden_counted[i] = hidden_units_on(tick, *observed.instances[i], specs[i], managed[i]);
    specs[i].foreign += out.hidden_counted[i];
    out.input.instances.push_back(specs[i]);
  }
  return out;
}

std::optional<capacity::Allocation> allocate(const Requests& requests, TickErrors& errors) {
  auto allocation = capacity::allocate(requests.input);
  if (allocation) return std::move(*allocation);
  errors.add(TickStage::Allocate, TickErrorCode::Internal,
             fmt::format("allocation failed, nothing scaled: {}", allocation.error()));
  return std::nullopt;
}

Acted plan_and_act(const TickContext& tick, const Requests& requests,
                   const std::optional<capacity::Allocation>& allocation, TickErrors& errors) {
  Acted out;
  out.calls.resize(tick.config.services.size());
  if (!allocation) return out;
  auto plan = capacity::plan_calls(requests.input, *allocation);
  if (!plan) {
    errors.add(TickStage::Allocate, TickErrorCode::Internal,
               fmt::format("planning the scale calls failed, nothing scaled: {}", plan.error()));
    return out;
  }
  auto acted = act(*tick.deps.api, *tick.deps.clock, *plan, tick.config.loop.dry_run,
                   tick.config.qianfan.concurrency);
  record_calls(tick, *plan, std::move(acted), out, errors);
  out.ok = true;
  return out;
}

model::Decision decide(std::size_t k, const TickContext& tick, const Recommended& recommended,
                       const Requests& requests,
                       const std::optional<capacity::Allocation>& allocation, Acted& acted,
                       TickErrors& errors) {
  const Recommended& r = recommended;
  model::Decision d{.service = tick.config.services[k].id,
                    .at = tick.now,
                    .qps = r.qps,
                    .replica_qps = r.replica_qps,
                    .current = r.current,
                    .recommended = r.recommendation.replicas,
                    .reason = r.reason,
                    .granted = r.current};
  d.steps = r.recommendation.steps;
  d.calls = std::move(acted.calls[k]);
  if (!r.frozen && allocation) {
    apply_grant(allocation->services[*requests.request_of[k]], d);
  }
  note_hidden_units(tick, k, d, errors);
  d.errors = std::move(errors.of_service[k]);
  if (r.frozen || !acted.ok) {
    // Nothing was sent for it: it keeps what it has (the unmet figure still says what did not fit).
    d.granted = r.current;
    d.outcome = model::ActuationOutcome::Skipped;
    return d;
  }
  d.outcome = summarise(d.calls);
  return d;
}

std::vector<RefusedUp> refused_ups(const TickContext& tick, const Observed& observed,
                                   const Requests& requests,
                                   const std::optional<capacity::Allocation>& allocation,
                                   const Acted& acted) {
  std::vector<RefusedUp> out;
  if (!allocation) return out;
  for (const auto& calls : acted.calls) {
    for (const auto& call : calls) {
      if (call.outcome != model::ActuationOutcome::Refused || call.to <= call.from) continue;
      const std::size_t i = tick.layout.instance_index.at(call.instance);
      const auto usage = std::find_if(allocation->instances.begin(), allocation->instances.end(),
                                      [&](const auto& u) { return u.id == call.instance; });
      if (usage == allocation->instances.end() || !observed.instances[i]) continue;
      out.push_back({.instance = call.instance,
                     .free_after = usage->free,
                     .counted = requests.hidden_counted[i],
                     .foreign_seen = observed.instances[i]->foreign});
    }
  }
  return out;
}

/// See controller.h: a tick that saw no service, no metric or no instance reconciled nothing.
bool nothing_observed(const Observed& observed, std::span<const Recommended> recommended) {
  const auto count = [&](auto pred) {
    return static_cast<std::size_t>(std::count_if(recommended.begin(), recommended.end(), pred));
  };
  const std::size_t services = recommended.size();
  const bool no_service =
      services > 0 && count([](const auto& r) { return !r.observed; }) == services;
  const bool no_metric =
      services > 0 && count([](const auto& r) { return r.metric_error.has_value(); }) == services;
  const bool no_instance = !observed.instances.empty() && observed.instances_described == 0;
  return no_service || no_metric || no_instance;
}

telemetry::TickReport assemble_report(const TickContext& tick, Observed& observed,
                                      std::span<const Recommended> recommended,
                                      const Requests& requests,
                                      const std::optional<capacity::Allocation>& allocation,
                                      Acted& acted, TickErrors& errors) {
  telemetry::TickReport report;
  for (std::size_t k = 0; k < recommended.size(); ++k) {
    const auto& r = recommended[k];
    report.services.push_back({.decision = decide(k, tick, r, requests, allocation, acted, errors),
                               .panic_active = r.recommendation.panicking,
                               .observed = r.observed,
                               .replica_count_mismatch = r.replica_count_mismatch});
    if (r.metric_error) report.metric_errors.push_back(*r.metric_error);
  }
  if (allocation) report.instances = instance_usage(*allocation);
  report.api_calls = std::move(observed.api_calls);
  report.api_calls.insert(report.api_calls.end(), acted.api_calls.begin(), acted.api_calls.end());
  report.errors = std::move(errors.tick);
  return report;
}

}  // namespace qfscale::controller::detail
