#include "qfscale/telemetry/exporter.h"

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace qfscale::telemetry {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

// Latency buckets for reconcile ticks (every few seconds, should take well under one) and for
// API round trips to Qianfan: 5 ms .. 30 s.
const Histogram::BucketBoundaries kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10,  30};

constexpr std::string_view kSuccess = "success";
constexpr std::string_view kFailure = "failure";

/// The `direction` label of a call, or empty when it does not move the count.
std::string_view direction(const model::ScaleCall& call) {
  if (call.to > call.from) return "up";
  if (call.to < call.from) return "down";
  return {};
}

/// Outcomes that count as a scale operation; the others mean no call was planned.
bool counts_as_operation(model::ActuationOutcome outcome) {
  using model::ActuationOutcome;
  return outcome == ActuationOutcome::Applied || outcome == ActuationOutcome::DryRun ||
         outcome == ActuationOutcome::Failed || outcome == ActuationOutcome::Refused;
}

constexpr std::array kOperationOutcomes = {
    model::ActuationOutcome::Applied, model::ActuationOutcome::DryRun,
    model::ActuationOutcome::Failed, model::ActuationOutcome::Refused};

/// Reasons an alert rule reads with `increase()` (grafana/rules/alerts.yaml:
/// QfscaleServiceAtMaxReplicas), so their series exist at 0 with the service.
bool is_alerted_reason(model::Reason reason) { return reason == model::Reason::CappedMax; }

Labels label(std::string_view name, std::string_view value) {
  return Labels{{std::string(name), std::string(value)}};
}

template <class T>
void remove_series(Family<T>& family, const Labels& labels) {
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

Labels tick_error_labels(TickStage stage, TickErrorCode code) {
  return Labels{{"stage", std::string(to_string(stage))}, {"code", std::string(to_string(code))}};
}

bool labels_less(const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
  return a.label < b.label;
}

}  // namespace

struct Exporter::State {
  State(const util::Clock& c, ExporterOptions o) : clock(c), options(std::move(o)) {}

  const util::Clock& clock;
  ExporterOptions options;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::vector<std::string> names;

  // Per service (label `service`).
  Family<Gauge>* observed_qps = nullptr;
  Family<Gauge>* replica_capacity_qps = nullptr;
  Family<Gauge>* current_replicas = nullptr;
  Family<Gauge>* recommended_replicas = nullptr;
  Family<Gauge>* desired_replicas = nullptr;
  Family<Gauge>* applied_replicas = nullptr;
  Family<Gauge>* utilization = nullptr;
  Family<Gauge>* unmet_replicas = nullptr;
  Family<Gauge>* panic_active = nullptr;
  // Per compute-unit instance (label `compute_unit`; `instance` is Prometheus's target label).
  Family<Gauge>* instance_capacity = nullptr;
  Family<Gauge>* instance_allocated = nullptr;
  Family<Gauge>* instance_free = nullptr;
  // Per service and closed enum sets: the children alert rules read with increase() exist at 0
  // from a service's first sight, the others are created on first use (exporter.h).
  Family<Counter>* scale_operations = nullptr;
  Family<Counter>* decisions_limited = nullptr;
  Family<Counter>* stage_changes = nullptr;
  Family<Counter>* replica_count_mismatches = nullptr;
  // Bounded by enums.
  Family<Counter>* api_requests = nullptr;
  Family<Counter>* api_attempts = nullptr;
  Family<Histogram>* api_duration = nullptr;
  Family<Counter>* metric_source_errors = nullptr;
  Family<Counter>* tick_errors = nullptr;
  Family<Counter>* reconcile_runs = nullptr;
  Family<Counter>* config_reloads = nullptr;
  Family<Counter>* shard_txn_failures = nullptr;
  // Single series.
  Histogram* reconcile_duration = nullptr;
  Gauge* last_success_timestamp = nullptr;
  Gauge* config_last_success = nullptr;
  Gauge* leader = nullptr;
  Gauge* fencing_token = nullptr;
  Gauge* shard_members = nullptr;
  Gauge* owned_shards = nullptr;
  Gauge* owned_services = nullptr;
  Gauge* disagreeing = nullptr;
  Gauge* lease_remaining = nullptr;
  Counter* claim_failures = nullptr;
  Counter* release_failures = nullptr;

  std::mutex mu;                          // guards everything below and serialises writers
  std::set<model::ServiceId> services;    ///< services that have series (configured or seen)
  std::set<model::InstanceId> instances;  ///< instances that have series
  std::optional<std::set<model::ServiceId>> configured_services;
  std::optional<std::set<model::InstanceId>> configured_instances;
  std::map<model::ServiceId, model::Decision> last;
  std::optional<util::MonotonicTime> last_success;
  std::vector<TickError> last_errors;  ///< of the last tick, for /readyz
  bool save_failed = false;            ///< the last tick could not save the state
  Leadership leadership;  ///< as last reported; its failure totals are what the counters hold

  template <class T>
  Family<T>& add(prometheus::detail::Builder<T> builder, const std::string& name,
                 const std::string& help) {
    auto& family = builder.Name(name).Help(help).Register(*registry);
    names.push_back(name);
    return family;
  }

  [[nodiscard]] std::vector<Family<Gauge>*> service_gauges() const {
    return {observed_qps,         replica_capacity_qps, current_replicas,
            recommended_replicas, desired_replicas,     applied_replicas,
            utilization,          unmet_replicas,       panic_active};
  }

  void build();
  /// Which of a service's counter children: those created at 0 with the service, or every one
  /// it may have (the rest are created on first use).
  enum class Children { PreCreated, All };
  [[nodiscard]] std::vector<std::pair<Family<Counter>*, Labels>> service_counters(
      const model::ServiceId& id, Children which) const;
  void add_service_counters(const model::ServiceId& id);
  void record_service(const ServiceReport& report);
  void record_replicas(const ServiceReport& report);
  void record_instance(const InstanceUsage& usage);
  void remove_service(const model::ServiceId& id);
  void remove_instance(const model::InstanceId& id);
};

void Exporter::State::build() {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;

  auto& build_info = add(BuildGauge(), "qfscale_build_info",
                         "Always 1; the version label names the running qfscale build.");
  build_info.Add(label("version", options.version.empty() ? QFS_VERSION : options.version)).Set(1);

  observed_qps = &add(BuildGauge(), "qfscale_service_observed_qps",
                      "Requests per second the metric source reported for the service; absent "
                      "while metrics are missing.");
  replica_capacity_qps = &add(BuildGauge(), "qfscale_service_replica_capacity_qps",
                              "Requests per second one replica is sized for (resourceConfig.qps).");
  current_replicas = &add(BuildGauge(), "qfscale_service_current_replicas",
                          "Replicas the service had when the tick began.");
  recommended_replicas = &add(BuildGauge(), "qfscale_service_recommended_replicas",
                              "Replicas the policy engine recommended.");
  desired_replicas = &add(BuildGauge(), "qfscale_service_desired_replicas",
                          "Replicas the capacity allocator granted.");
  applied_replicas =
      &add(BuildGauge(), "qfscale_service_applied_replicas",
           "Replicas after actuation: current plus the changes ScaleService applied.");
  utilization = &add(BuildGauge(), "qfscale_service_utilization_ratio",
                     "Observed QPS over current replicas times replica capacity QPS; absent when "
                     "metrics are missing or the service has no replicas.");
  unmet_replicas = &add(BuildGauge(), "qfscale_service_unmet_demand_replicas",
                        "Recommended replicas the allocator could not place for lack of capacity.");
  panic_active = &add(BuildGauge(), "qfscale_service_panic_mode_active",
                      "1 while the engine is in panic (burst) mode for the service, else 0.");

  instance_capacity = &add(BuildGauge(), "qfscale_instance_capacity_compute_units",
                           "Compute units the instance has.");
  instance_allocated = &add(BuildGauge(), "qfscale_instance_allocated_compute_units",
                            "Compute units allocated to service replicas on the instance.");
  instance_free = &add(BuildGauge(), "qfscale_instance_free_compute_units",
                       "Compute units left on the instance after allocation.");

  scale_operations = &add(BuildCounter(), "qfscale_scale_operations_total",
                          "ScaleService operations by service, direction (up, down) and result "
                          "(applied, dry_run, failed, refused).");
  decisions_limited = &add(BuildCounter(), "qfscale_decisions_limited_total",
                           "Service decisions in which the engine or allocator acted for this "
                           "reason, by service (each reason counts once per decision).");
  stage_changes = &add(BuildCounter(), "qfscale_engine_stage_changes_total",
                       "Engine steps that changed the replica count, by service and stage.");
  replica_count_mismatches =
      &add(BuildCounter(), "qfscale_replica_count_mismatch_total",
           "Ticks at which DescribeService's replicasCount for the service differed from the sum "
           "of its replicas in the DescribeComputeUnit usage lists.");
  api_requests = &add(BuildCounter(), "qfscale_api_requests_total",
                      "Qianfan API requests by action and result code.");
  api_attempts = &add(BuildCounter(), "qfscale_api_attempts_total",
                      "Qianfan API HTTP attempts, retries included, by action and outcome (the "
                      "attempt's code); attempts minus requests are the retries.");
  api_duration = &add(BuildHistogram(), "qfscale_api_request_duration_seconds",
                      "Qianfan API request latency by action.");
  metric_source_errors = &add(BuildCounter(), "qfscale_metric_source_errors_total",
                              "Metric source failures by kind (unreachable, bad_reply, missing, "
                              "stale).");
  for (const auto kind : kAllMetricSourceErrorKinds) {
    metric_source_errors->Add(label("kind", to_string(kind)));
  }
  tick_errors = &add(BuildCounter(), "qfscale_tick_errors_total",
                     "Errors in reconcile ticks by stage (observe, metrics, allocate, act, save, "
                     "audit) and code (the BCE code of a failed call, transport, bad_reply, a "
                     "metric failure kind, replica_count_mismatch, unknown_units, internal, "
                     "io).");
  for (const auto& [stage, code] : all_tick_error_kinds()) {
    tick_errors->Add(tick_error_labels(stage, code));
  }

  reconcile_duration =
      &add(BuildHistogram(), "qfscale_reconcile_duration_seconds", "Time one reconcile tick took.")
           .Add({}, kLatencyBuckets);
  reconcile_runs = &add(BuildCounter(), "qfscale_reconcile_runs_total",
                        "Reconcile ticks by result (success, failure).");
  last_success_timestamp =
      &add(BuildGauge(), "qfscale_last_successful_reconcile_timestamp_seconds",
           "Unix time when the last successful reconcile tick finished; 0 before the first.")
           .Add({});
  config_reloads = &add(BuildCounter(), "qfscale_config_reloads_total",
                        "Config loads, the first one included, by result (success, failure).");
  config_last_success = &add(BuildGauge(), "qfscale_config_last_reload_successful",
                             "1 when the last config load succeeded, else 0.")
                             .Add({});
  leader = &add(BuildGauge(), "qfscale_leader",
                "1 while this controller acts (the leader, or alone without coordination), 0 as a "
                "follower.")
                .Add({});
  leader->Set(1);
  fencing_token = &add(BuildGauge(), "qfscale_leader_fencing_token",
                       "The leader key's revision: ours while leader, else the leader's last seen; "
                       "0 without coordination.")
                       .Add({});
  lease_remaining = &add(BuildGauge(), "qfscale_leader_lease_remaining_seconds",
                         "Seconds until this controller stops acting unless its etcd lease is "
                         "renewed; 0 without a lease.")
                         .Add({});
  shard_members = &add(BuildGauge(), "qfscale_shard_members",
                       "Live controllers registered in etcd, with coordination.etcd.shards >= 2; "
                       "0 otherwise.")
                       .Add({});
  owned_shards =
      &add(BuildGauge(), "qfscale_shard_owned_shards",
           "Shards this controller owns and acts on, with coordination.etcd.shards >= 2; "
           "0 otherwise.")
           .Add({});
  owned_services = &add(BuildGauge(), "qfscale_shard_owned_services",
                        "Services in the shards this controller owns, with "
                        "coordination.etcd.shards >= 2; 0 otherwise.")
                        .Add({});
  shard_txn_failures =
      &add(BuildCounter(), "qfscale_shard_txn_failures_total",
           "With coordination.etcd.shards >= 2: shard claim and release transactions that failed "
           "(etcd unreachable or timing out), by operation; each is tried again next tick.");
  claim_failures = &shard_txn_failures->Add(label("operation", "claim"));
  release_failures = &shard_txn_failures->Add(label("operation", "release"));
  disagreeing = &add(BuildGauge(), "qfscale_coordination_disagreeing_members",
                     "Other controllers under the etcd prefix whose config differs from this "
                     "one's (services, instances, shards or coordination mode); while above 0 "
                     "this controller does not act.")
                     .Add({});
  for (const auto result : {kSuccess, kFailure}) {
    reconcile_runs->Add(label("result", result));
    config_reloads->Add(label("result", result));
  }
  std::sort(names.begin(), names.end());
}

// Creates the service's pre-created counter series at 0 (see exporter.h), so `increase()` sees
// the first such event of a service as a step from 0 rather than as the start of a new series.
// Idempotent.
void Exporter::State::add_service_counters(const model::ServiceId& id) {
  if (!services.insert(id).second) return;
  for (const auto& [family, labels] : service_counters(id, Children::PreCreated)) {
    family->Add(labels);
  }
}

/// The counter series one service can have: direction x result of
/// qfscale_scale_operations_total, each reason but none of qfscale_decisions_limited_total, each
/// stage of qfscale_engine_stage_changes_total, and qfscale_replica_count_mismatch_total; with
/// `PreCreated`, only those created at 0 with the service.
std::vector<std::pair<Family<Counter>*, Labels>> Exporter::State::service_counters(
    const model::ServiceId& id, Children which) const {
  const bool all = which == Children::All;
  std::vector<std::pair<Family<Counter>*, Labels>> out;
  for (const std::string_view dir : {"up", "down"}) {
    for (const auto outcome : kOperationOutcomes) {
      out.emplace_back(scale_operations,
                       Labels{{"service", id.value},
                              {"direction", std::string(dir)},
                              {"result", std::string(model::to_string(outcome))}});
    }
  }
  for (const auto reason : model::kAllReasons) {
    if (reason == model::Reason::None) continue;
    if (!all && !is_alerted_reason(reason)) continue;
    out.emplace_back(decisions_limited,
                     Labels{{"service", id.value}, {"reason", std::string(to_string(reason))}});
  }
  if (all) {
    for (const auto stage : model::kAllStages) {
      out.emplace_back(stage_changes,
                       Labels{{"service", id.value}, {"stage", std::string(to_string(stage))}});
    }
  }
  out.emplace_back(replica_count_mismatches, Labels{{"service", id.value}});
  return out;
}

void Exporter::State::record_replicas(const ServiceReport& report) {
  const model::Decision& d = report.decision;
  const Labels l = label("service", d.service.value);
  replica_capacity_qps->Add(l).Set(d.replica_qps);
  current_replicas->Add(l).Set(d.current.value);
  recommended_replicas->Add(l).Set(d.recommended.value);
  desired_replicas->Add(l).Set(d.granted.value);
  model::Replicas applied = d.current;
  for (const auto& call : d.calls) {
    if (call.outcome == model::ActuationOutcome::Applied) applied += call.to - call.from;
  }
  applied_replicas->Add(l).Set(applied.value);
  // Utilization: 30 qps on 4 replicas of 10 qps each = 30 / 40 = 0.75.
  if (d.qps && d.current.value > 0 && d.replica_qps > 0) {
    utilization->Add(l).Set(*d.qps / (d.current.value * d.replica_qps));
  } else {
    remove_series(*utilization, l);
  }
  unmet_replicas->Add(l).Set(d.unmet.value);
  panic_active->Add(l).Set(report.panic_active ? 1 : 0);
}

void Exporter::State::record_service(const ServiceReport& report) {
  const model::Decision& d = report.decision;
  const Labels l = label("service", d.service.value);
  add_service_counters(d.service);

  if (d.qps) {
    observed_qps->Add(l).Set(*d.qps);
  } else {
    remove_series(*observed_qps, l);
  }
  if (report.observed) {
    record_replicas(report);
  } else {
    // Its replicas are unknown this tick: no series rather than a 0 that reads as a fact.
    for (auto* family : service_gauges()) {
      if (family != observed_qps) remove_series(*family, l);
    }
  }

  if (report.replica_count_mismatch) replica_count_mismatches->Add(l).Increment();

  std::set<model::Reason> reasons;
  if (d.reason != model::Reason::None) reasons.insert(d.reason);
  for (const auto& step : d.steps) {
    if (step.reason != model::Reason::None) reasons.insert(step.reason);
    if (step.changed) {
      stage_changes
          ->Add({{"service", d.service.value}, {"stage", std::string(to_string(step.stage))}})
          .Increment();
    }
  }
  for (const auto reason : reasons) {
    decisions_limited
        ->Add({{"service", d.service.value}, {"reason", std::string(to_string(reason))}})
        .Increment();
  }
  for (const auto& call : d.calls) {
    const auto dir = direction(call);
    if (dir.empty() || !counts_as_operation(call.outcome)) continue;
    scale_operations
        ->Add({{"service", d.service.value},
               {"direction", std::string(dir)},
               {"result", std::string(model::to_string(call.outcome))}})
        .Increment();
  }
  last[d.service] = d;
}

void Exporter::State::record_instance(const InstanceUsage& usage) {
  const Labels l = label("compute_unit", usage.instance.value);
  instances.insert(usage.instance);
  instance_capacity->Add(l).Set(usage.capacity.value);
  instance_allocated->Add(l).Set(usage.allocated.value);
  instance_free->Add(l).Set(usage.free.value);
}

void Exporter::State::remove_service(const model::ServiceId& id) {
  const Labels l = label("service", id.value);
  for (auto* family : service_gauges()) remove_series(*family, l);
  // Every child it may have, so the ones created on first use go too.
  for (const auto& [family, labels] : service_counters(id, Children::All)) {
    remove_series(*family, labels);
  }
  services.erase(id);
  last.erase(id);
}

void Exporter::State::remove_instance(const model::InstanceId& id) {
  const Labels l = label("compute_unit", id.value);
  for (auto* family : {instance_capacity, instance_allocated, instance_free}) {
    remove_series(*family, l);
  }
  instances.erase(id);
}

Result<std::unique_ptr<Exporter>> Exporter::create(ExporterOptions options,
                                                   const util::Clock& clock) {
  auto state = std::make_unique<State>(clock, std::move(options));
  try {
    state->build();
  } catch (const std::exception& e) {
    return fail(ErrorCode::InvalidInput, fmt::format("creating metric families: {}", e.what()));
  }
  return std::unique_ptr<Exporter>(new Exporter(std::move(state)));
}

Exporter::Exporter(std::unique_ptr<State> state) : state_(std::move(state)) {}
Exporter::~Exporter() = default;

void Exporter::on_api_attempt(ApiAction action, ApiCode outcome) {
  State& s = *state_;
  const std::lock_guard lock(s.mu);
  s.api_attempts
      ->Add({{"action", std::string(to_string(action))},
             {"outcome", std::string(to_string(outcome))}})
      .Increment();
}

void Exporter::on_tick(const TickReport& report) {
  State& s = *state_;
  const std::lock_guard lock(s.mu);
  for (const auto& service : report.services) {
    if (s.configured_services && !s.configured_services->contains(service.decision.service)) {
      continue;  // removed from config while the tick ran: do not bring its series back
    }
    s.record_service(service);
  }
  for (const auto& usage : report.instances) {
    if (s.configured_instances && !s.configured_instances->contains(usage.instance)) continue;
    s.record_instance(usage);
  }
  for (const auto& call : report.api_calls) {
    const std::string action(to_string(call.action));
    s.api_requests->Add({{"action", action}, {"code", std::string(to_string(call.code))}})
        .Increment();
    s.api_duration->Add({{"action", action}}, kLatencyBuckets).Observe(call.latency.count());
  }
  for (const auto kind : report.metric_errors) {
    s.metric_source_errors->Add(label("kind", to_string(kind))).Increment();
  }
  s.save_failed = false;
  for (const auto& error : report.errors) {
    s.tick_errors->Add(tick_error_labels(error.stage, error.code)).Increment();
    if (error.stage == TickStage::Save) s.save_failed = true;
  }
  s.last_errors = report.errors;
  s.reconcile_duration->Observe(report.duration.count());
  s.reconcile_runs->Add(label("result", report.success ? kSuccess : kFailure)).Increment();
  if (report.success) {
    const std::chrono::duration<double> since_epoch = report.finished_at.time_since_epoch();
    s.last_success_timestamp->Set(since_epoch.count());
    s.last_success = s.clock.monotonic_now();
  }
}

void Exporter::on_config(const ConfigReload& reload) {
  State& s = *state_;
  const std::lock_guard lock(s.mu);
  if (reload.load) {
    s.config_reloads->Add(label("result", reload.success ? kSuccess : kFailure)).Increment();
    s.config_last_success->Set(reload.success ? 1 : 0);
  }
  if (!reload.success) return;

  s.configured_services.emplace(reload.services.begin(), reload.services.end());
  s.configured_instances.emplace(reload.instances.begin(), reload.instances.end());
  std::vector<model::ServiceId> gone_services;
  for (const auto& id : s.services) {
    if (!s.configured_services->contains(id)) gone_services.push_back(id);
  }
  for (const auto& [id, decision] : s.last) {
    if (!s.configured_services->contains(id)) gone_services.push_back(id);
  }
  for (const auto& id : gone_services) s.remove_service(id);
  for (const auto& id : *s.configured_services) s.add_service_counters(id);
  std::vector<model::InstanceId> gone_instances;
  for (const auto& id : s.instances) {
    if (!s.configured_instances->contains(id)) gone_instances.push_back(id);
  }
  for (const auto& id : gone_instances) s.remove_instance(id);
}

std::string Exporter::render_metrics() const {
  auto families = state_->registry->Collect();
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& family : families) {
    std::sort(family.metric.begin(), family.metric.end(), labels_less);
  }
  return prometheus::TextSerializer{}.Serialize(families);
}

std::vector<std::string> Exporter::family_names() const { return state_->names; }

void Exporter::on_leadership(const Leadership& leadership) {
  State& s = *state_;
  const std::lock_guard lock(s.mu);
  // The gate reports totals since it started; the counters take what is new (a gate built
  // again after a restart of coordination starts from 0 and counts on from there).
  const auto add_new = [](Counter* counter, std::int64_t now, std::int64_t before) {
    if (now > before) counter->Increment(static_cast<double>(now - before));
  };
  add_new(s.claim_failures, leadership.claim_failures, s.leadership.claim_failures);
  add_new(s.release_failures, leadership.release_failures, s.leadership.release_failures);
  s.leadership = leadership;
  s.leader->Set(leadership.leader ? 1 : 0);
  s.fencing_token->Set(static_cast<double>(leadership.fencing_token));
  s.lease_remaining->Set(std::max(leadership.lease_remaining_seconds, 0.0));
  s.shard_members->Set(leadership.members);
  s.owned_shards->Set(leadership.owned_shards);
  s.owned_services->Set(leadership.owned_services);
  s.disagreeing->Set(static_cast<double>(leadership.disagreeing.size()));
}

Leadership Exporter::leadership() const {
  const std::lock_guard lock(state_->mu);
  return state_->leadership;
}

std::vector<model::Decision> Exporter::last_decisions() const {
  const std::lock_guard lock(state_->mu);
  std::vector<model::Decision> out;
  out.reserve(state_->last.size());
  for (const auto& [id, decision] : state_->last) out.push_back(decision);
  return out;
}

std::optional<model::Decision> Exporter::last_decision(const model::ServiceId& id) const {
  const std::lock_guard lock(state_->mu);
  const auto it = state_->last.find(id);
  if (it == state_->last.end()) return std::nullopt;
  return it->second;
}

Readiness Exporter::readiness() const {
  const std::lock_guard lock(state_->mu);
  Readiness r{.ready = false, .message = {}, .errors = state_->last_errors};
  const Leadership& l = state_->leadership;
  if (l.coordinated && !l.disagreeing.empty()) {
    // Standing down is right during a rolling change, and must not hold the rollout up.
    r.ready = true;
    r.message = fmt::format(
        "standing down: the controllers disagree on the config ({}); none acts until all run "
        "the same one",
        fmt::join(l.disagreeing, ", "));
    return r;
  }
  if (l.coordinated && !l.leader && !l.last_error.empty()) {
    // Not a standby that could take over: it cannot reach etcd to campaign.
    r.message =
        fmt::format("follower: cannot reach etcd, so it cannot take over: {}", l.last_error);
    return r;
  }
  if (l.coordinated && !l.leader) {
    r.ready = true;
    r.message = l.fencing_token > 0
                    ? fmt::format("follower: standing by (the leader's fencing token is {})",
                                  l.fencing_token)
                    : std::string("follower: standing by (no leader seen yet)");
    return r;
  }
  std::string role =
      l.coordinated ? fmt::format("leader (fencing token {}): ", l.fencing_token) : std::string();
  if (l.shards > 0) {
    role = fmt::format("member {} of {}: owns {} services in {} of {} shards: ", l.member,
                       l.members, l.owned_services, l.owned_shards, l.shards);
  }
  r = readiness_alone();
  r.message = role + r.message;
  return r;
}

Readiness Exporter::readiness_alone() const {
  Readiness r{.ready = false, .message = {}, .errors = state_->last_errors};
  if (!state_->last_success) {
    r.message = "no successful reconcile yet";
    return r;
  }
  if (state_->save_failed) {
    r.message = "the last tick could not save the controller state";
    return r;
  }
  const auto age = state_->clock.monotonic_now() - *state_->last_success;
  const auto limit = state_->options.ready_staleness;
  if (limit.count() > 0 && age > limit) {
    r.message =
        fmt::format("last successful reconcile {}s ago (limit {}s)",
                    std::chrono::duration_cast<std::chrono::seconds>(age).count(), limit.count());
    return r;
  }
  r.ready = true;
  r.message = "ok";
  return r;
}

}  // namespace qfscale::telemetry
