#pragma once

/// The offline simulator: replays per-second traffic of one or more services through exactly the
/// engine (`policy::recommend`) and allocator (`capacity::allocate`) the controller uses, on a
/// virtual clock, and accounts what the policy would have cost and how much demand it would have
/// left unserved (docs/DESIGN.md `qfscale simulate`).
///
/// ## Model
///
/// - **Time.** Trace second `s` is the interval [s, s+1); wall time is `options.start + s`
///   (schedules and cron windows see that). The controller ticks at t = tick, 2 x tick, … while
///   t < the longest trace. Before the first tick each service runs its initial replicas, ready.
/// - **What the controller sees.** At a tick at t the engine is fed one sample: the mean QPS of
///   the trace over [t - span, t), span being SimOptions::metric_span (default: the tick). That
///   is what the live loop gets from a rate over that span (Prometheus `rate(x[1m])` is a span
///   of 60 s, Qianfan's metric its `window`), and the engine's metricWindow / panic.window then
///   average those samples exactly as they do live.
///   Feeding every per-second sample instead would give the simulated controller a finer view
///   than the real one has, flattering policies with short panic windows.
/// - **Current count.** The engine's `current` is every replica the service has, starting or
///   ready (Qianfan's `replicasCount` is the configured count, not the ready one).
/// - **Capacity.** With `capacity_units` set, all services share one compute-unit instance of
///   that size; every tick the recommendations of all services go through `capacity::allocate`
///   (requests built as the controller builds them, capacity/request.h: min = the floor the engine
///   applied, an active schedule's minReplicas included; priority and weight per service), which
///   may grant less. The initial counts reserve replicas.min.
/// - **Lifecycle.** A scale-up starts new replicas at the tick; they cost compute units at once
///   and serve from tick + startup_delay. A scale-down is immediate and removes starting replicas
///   first (newest first), then ready ones, so the count that serves drops last.
///
/// ## Accounting, per second s of a service's own trace (d = demand, R = ready, A = all)
///
/// - requests_total += d; requests_over_capacity += max(0, d - R x replica_qps); the second is
///   over capacity when that is > 0. This is the "no queue" view: a burst inside a second counts
///   even when it would be served a moment later.
/// - The queue (queue.h): d joins the service's FIFO queue and R x replica_qps serves it; after
///   the trace it drains at the last second's R x replica_qps. Gives `Summary::queue`: requests
///   late (waited > slo_wait or abandoned), abandoned, the wait histogram and backlog_max.
/// - compute_unit_hours += A x units_per_replica / 3600.
/// - utilization = d / (R x replica_qps), only for seconds with d > 0 and R > 0: a service
///   scaled to zero has no utilization (its unserved demand is already in
///   requests_over_capacity), and an idle second says nothing about how loaded the replicas are
///   when there is work (on a sparse trace most seconds have d = 0, and counting them made p50
///   0.00). p50 and p99 are nearest-rank percentiles.
/// - scale_operations: ticks at which the service's replica count changed (one ScaleService).
/// - max_replicas and mean_replicas are over A per second.
///
/// Deterministic: no randomness, no clock reads, no unordered iteration. Speed: the per-second
/// loop only accumulates numbers; the engine runs once per tick with `explain = false`.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qfscale/model/ids.h"
#include "qfscale/model/reason.h"
#include "qfscale/model/units.h"
#include "qfscale/policy/policy.h"
#include "qfscale/sim/queue.h"
#include "qfscale/trace/trace.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::sim {

/// One simulated service.
struct ServiceSpec {
  model::ServiceId id;
  std::shared_ptr<const trace::Trace> trace;  ///< per-second QPS; shared, never copied
  double replica_qps = 0;                     ///< rated QPS of one replica, > 0
  /// From the resource type: `model::units_per_replica("GPU-I-2")` = 2.
  model::ComputeUnits units_per_replica{1};
  /// Ready at t = 0. Empty: what the policy would hold for the first tick's demand,
  /// ceil(mean QPS of [0, tick) / (replica_qps x target.utilization)) within replicas.min/max,
  /// as if the controller had been running before the trace began.
  std::optional<model::Replicas> initial_replicas;
  int priority = 0;  ///< for the allocator when capacity is shared
  int weight = 1;
};

struct SimOptions {
  std::chrono::seconds tick{15};           ///< controller interval, > 0
  std::chrono::seconds startup_delay{90};  ///< from scale-up to ready, >= 0
  /// The seconds each QPS sample averages over, as the live metric does (a 1m rate: 60 s);
  /// 0 = the tick. >= 0; the engine is told it (policy::EngineInput::sample_span).
  std::chrono::seconds metric_span{0};
  std::optional<model::ComputeUnits> capacity_units;  ///< shared by all services; empty = unlimited
  util::SystemTime start{};                           ///< wall time of trace second 0
  QueueOptions queue;                                 ///< slo_wait and abandon_after
  bool timeline = true;                               ///< record TimelinePoints
  /// Called with (ticks done, ticks in the run) at most about 100 times per run, the last time
  /// with done == total; for progress bars. Runs on the simulating thread; must not throw.
  std::function<void(std::int64_t done_ticks, std::int64_t total_ticks)> progress;
};

/// The figures reported per service (and per policy in `qfscale simulate`), also for the oracle.
struct Summary {
  double requests_total = 0;
  double requests_over_capacity = 0;
  double requests_over_capacity_pct = 0;  ///< of requests_total; 0 when there were none
  std::int64_t seconds_over_capacity = 0;
  double compute_unit_hours = 0;
  std::int64_t scale_operations = 0;
  int max_replicas = 0;
  double mean_replicas = 0;
  double utilization_p50 = 0;  ///< 0 when no second had demand and a ready replica
  double utilization_p99 = 0;
  /// The queueing view: SLO attainment, late and abandoned requests, waits, backlog.
  QueueStats queue;
  friend bool operator==(const Summary&, const Summary&) = default;
};

/// The state after one tick's decision and actuation.
struct TimelinePoint {
  std::int64_t t = 0;         ///< trace seconds
  double demand = 0;          ///< mean QPS over the last tick (the engine's, unless metric_span)
  double ready_capacity = 0;  ///< ready replicas x replica_qps after actuation
  model::Replicas replicas;   ///< all replicas after actuation, starting included
  model::Replicas ready;      ///< ready replicas after actuation
  model::Replicas desired;    ///< the engine's recommendation
  model::Replicas granted;    ///< after the allocator (= desired without shared capacity)
  model::Reason reason = model::Reason::None;  ///< engine reason, or CappedCapacity
  /// Requests that turned late (served after the SLO wait, or abandoned) from this tick to the
  /// next; the last point also takes those of the drain after the trace. It follows the
  /// decision, so a burst of late requests after a tick shows what that tick left undone.
  double late = 0;
  friend bool operator==(const TimelinePoint&, const TimelinePoint&) = default;
};

struct ServiceResult {
  model::ServiceId id;
  Summary summary;
  std::vector<TimelinePoint> timeline;  ///< one per tick within the service's trace
  friend bool operator==(const ServiceResult&, const ServiceResult&) = default;
};

struct SimulationResult {
  std::string policy;
  std::vector<ServiceResult> services;  ///< same order as the input
  friend bool operator==(const SimulationResult&, const SimulationResult&) = default;
};

/// Runs every service under `policy`. Fails with InvalidInput (naming the service and field)
/// on no services, duplicate ids, a missing trace, replica_qps <= 0 or not finite,
/// units_per_replica < 1, weight < 1, tick <= 0, startup_delay < 0, capacity_units < 0 or
/// queue options that `validate(QueueOptions)` rejects.
/// Thread-safety: a pure function; traces are only read.
[[nodiscard]] Result<SimulationResult> simulate(const policy::Policy& policy,
                                                std::span<const ServiceSpec> services,
                                                const SimOptions& options);

/// Nearest-rank percentile (p in (0, 1]) of `values`, reordering them; 0 when empty.
[[nodiscard]] double percentile(std::span<float> values, double p);

}  // namespace qfscale::sim
