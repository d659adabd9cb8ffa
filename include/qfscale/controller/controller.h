#pragma once

/// The reconcile loop (docs/DESIGN.md "Data flow of one reconcile tick"). `tick(now)` does one
/// whole reconcile and is what tests call; `run_loop` (run.h) only schedules ticks and handles
/// signals.
///
/// One tick:
/// 1. Observe: DescribeService for every configured service and DescribeComputeUnit for every
///    configured instance, concurrently (at most `qianfan.concurrency` calls in flight), and one
///    `QpsSource::read` for all services. Per-instance placements come from the compute-unit
///    usage lists; units used by services qfscale does not manage are `foreign`, and so are
///    units taken but not listed (capacity - availableComputeUnitCount - listed, when sent).
/// 2. Recommend: `policy::recommend` per service with its persisted `EngineState`.
/// 3. Allocate: `capacity::allocate` over every service that is not frozen. A frozen service
///    (not Serving, model updating, or its DescribeService failed this tick) keeps its replicas;
///    its units count as foreign, so nobody else takes them and it gets no call.
/// 4. Act: `capacity::plan_calls`; every scale-down, then every scale-up. An up on an instance
///    where a down failed this tick is skipped (it might not fit); it is re-planned next tick, as
///    is a ScaleService refused for capacity. A refused scale-up proves the instance holds units
///    no reply shows: they count as used there for 10 minutes (src/controller/hidden_units.h),
///    so growth that does not fit waits as capped_capacity instead of being refused every tick.
///    Retries of transient errors happen inside the Qianfan client (ScaleService sets an absolute
///    count, so a retry is idempotent). In dry-run nothing is sent and each call's outcome is
///    `DryRun`.
/// 5. Report: the engine states are saved; the `TickReport` goes to the audit log first, then
///    to every sink (so a failed save or audit write is in the report they get).
///
/// In code the tick is a pipeline of stages, each filling its own struct (src/controller/
/// tick_stages.h): observe -> recommend -> allocation input -> allocate -> plan and act -> report;
/// every service's `Decision` is assembled once, at the end, from what the stages found.
///
/// An instance whose DescribeComputeUnit fails freezes every service that may use it this tick
/// (placements unknown: a call could pass through an over-capacity state). A frozen service's
/// decision has outcome `Skipped`; its reason is the engine's (`FrozenNotServing`,
/// `FrozenUpdating`) or `ObserveFailed` (its DescribeService failed: the engine is not called,
/// its state is unchanged and its `ServiceReport::observed` is false; an allowed instance could
/// not be described; or its resource type names no unit count and the config gives no
/// `unitsPerReplica`).
///
/// Errors: everything that went wrong is one `TickError` in the report's `errors`: its stage
/// (observe, metrics, allocate, act, save, audit), a code from a closed set (the BCE code of a
/// failed call, `transport`, a metric failure kind, `unknown_units`, `io`, ...) and a sentence
/// with the cause (the server's message, the errno text) and what happens now. One per failed
/// DescribeService, DescribeComputeUnit, metric reading, failed (not refused) ScaleService,
/// state save and audit write, and one per service whose replicasCount disagrees with the
/// instances' usage lists (`replica_count_mismatch`: the engine counts replicasCount, placements
/// come from the usage lists, and the tick goes on). Errors about one service are also in its
/// decision's `errors` (so in /api/v1/decisions and the audit log); a service frozen because an
/// instance failed gets a sentence there too, but the error is counted once, for the instance. No
/// secrets.
///
/// `TickReport::success` is false when the tick could not reconcile at all (every
/// DescribeService failed, the metric source failed for every service, every
/// DescribeComputeUnit failed, or the allocation or call plan failed: a bug; nothing is scaled
/// then) or its state could not be saved (a restart would forget the stabilization windows).
/// Failed or refused ScaleService calls do not make a tick unsuccessful: they are in the
/// decisions, the errors and the operation counters. `metric_errors` has one entry per service
/// whose reading failed.

#include <memory>
#include <set>
#include <vector>

#include "qfscale/controller/audit_log.h"
#include "qfscale/controller/config.h"
#include "qfscale/controller/state_store.h"
#include "qfscale/demand/qps_source.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::controller {

/// What the controller talks to. Everything must outlive the controller.
struct Dependencies {
  qianfan::QianfanApi* api = nullptr;
  demand::QpsSource* qps = nullptr;
  const util::Clock* clock = nullptr;            ///< monotonic time for latencies and tick duration
  std::vector<telemetry::TelemetrySink*> sinks;  ///< each gets every TickReport and reload
  StateStore* state_store = nullptr;             ///< optional: no persistence when null
  /// Optional. Gets each report before `sinks`, so a failed audit write is in what they get.
  AuditLog* audit_log = nullptr;
  /// Whether `create` loads the states from `state_store`. A coordinated run (etcd) says no:
  /// it loads them when it becomes leader (Controller::reload_states), and it must start, and
  /// stand by, while etcd is unreachable.
  bool load_states_on_create = true;
};

enum class ReloadKind { Load, Reshard };

/// Thread-safety: `tick` and `reload` must be called from one thread at a time (the loop);
/// `states()` too. Sinks may be read concurrently by their own rules.
class Controller {
 public:
  /// Loads the saved states (when a store is given and `load_states_on_create`), dropping services
  /// the config does not list. Fails when a store's file exists but cannot be decoded: starting
  /// with empty history could scale down inside a stabilization window. Reports the config to the
  /// sinks.
  [[nodiscard]] static Result<std::unique_ptr<Controller>> create(Config config, Dependencies deps);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;
  Controller(Controller&&) = delete;
  Controller& operator=(Controller&&) = delete;

  /// One reconcile at wall time `now`. Never throws; failures are in the report.
  telemetry::TickReport tick(util::SystemTime now);

  /// Switches to a new config between ticks: services that remain keep their engine state; new
  /// ones start empty; removed ones are forgotten. Reports the reload to the sinks. A config that
  /// is not self-consistent (duplicate ids, a service on an unconfigured instance; the loader
  /// never produces one) is InvalidInput, reported as a failed reload, and the old one stays.
  /// `Reshard`: the same config restricted to the services this member now owns (sharding):
  /// reported to the sinks without counting as a config load.
  Status reload(Config config, ReloadKind kind = ReloadKind::Load);

  /// Reads the engine states from the state store again, dropping services the config does not
  /// list: a controller that becomes the leader resumes the stabilization windows its
  /// predecessor saved. On failure (or without a store) the states stay as they were.
  Status reload_states();
  /// The same for the services in `only` (those a sharded member has just taken over); the
  /// others keep their in-memory state, which may hold a tick whose save failed.
  Status reload_states(const std::set<model::ServiceId>& only);

  [[nodiscard]] const Config& config() const;
  [[nodiscard]] const EngineStates& states() const;

 private:
  struct Impl;
  explicit Controller(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qfscale::controller
