#pragma once

/// Telemetry: what the controller reports after every reconcile tick, and who listens.
///
/// The controller builds one `TickReport` per tick (every service's `model::Decision`, every
/// instance's compute units, the API calls it made, metric source errors, how long the tick
/// took) and hands it to a `TelemetrySink`. The Prometheus exporter (`exporter.h`) is one sink;
/// the audit log can be another. Everything here is plain data: no prometheus-cpp types, and every
/// label value comes from a closed enum so series cardinality stays bounded by the configured
/// services and instances.
///
/// Thread-safety: the structs here are plain values, not synchronised; `TelemetrySink` says its
/// own.

#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qfscale/model/decision.h"
#include "qfscale/model/ids.h"
#include "qfscale/model/qianfan_action.h"
#include "qfscale/model/units.h"
#include "qfscale/util/clock.h"

namespace qfscale::telemetry {

/// A Qianfan action (the `action` label): the one enum of model/qianfan_action.h.
using ApiAction = model::QianfanAction;
using model::to_string;

/// The actions the controller calls, whose series are created up front.
inline constexpr std::array kAllApiActions = {
    ApiAction::DescribeService,     ApiAction::ScaleService,          ApiAction::ModifyService,
    ApiAction::DescribeComputeUnit, ApiAction::DescribeServiceMetric,
};

/// How an API call ended (the `code` label). BCE codes keep their spelling; every other remote
/// code is `Other`, so a misbehaving server cannot create unbounded series.
enum class ApiCode {
  Ok,                     ///< "ok": 2xx with a success envelope
  AccessDenied,           ///< "AccessDenied"
  InvalidAccessKeyId,     ///< "InvalidAccessKeyId"
  SignatureDoesNotMatch,  ///< "SignatureDoesNotMatch"
  RequestExpired,         ///< "RequestExpired"
  RequestLimitExceeded,   ///< "RequestLimitExceeded" (throttled)
  InternalError,          ///< "InternalError"
  Transport,              ///< "transport": connect error, TLS failure, timeout; no reply
  BadReply,               ///< "bad_reply": a reply that could not be decoded
  Other,                  ///< "other": any remote code not listed above
};

inline constexpr std::array kAllApiCodes = {
    ApiCode::Ok,
    ApiCode::AccessDenied,
    ApiCode::InvalidAccessKeyId,
    ApiCode::SignatureDoesNotMatch,
    ApiCode::RequestExpired,
    ApiCode::RequestLimitExceeded,
    ApiCode::InternalError,
    ApiCode::Transport,
    ApiCode::BadReply,
    ApiCode::Other,
};

[[nodiscard]] std::string_view to_string(ApiCode code);
/// Maps a remote BCE code ("AccessDenied") to its enumerator; empty text is `Ok`, anything
/// unknown is `Other`.
[[nodiscard]] ApiCode api_code_from_remote(std::string_view remote_code);

/// One API call as the controller saw it (after its own retries, each attempt is one call).
struct ApiCall {
  ApiAction action = ApiAction::DescribeService;
  ApiCode code = ApiCode::Ok;
  std::chrono::duration<double> latency{0};  ///< seconds, monotonic

  friend bool operator==(const ApiCall&, const ApiCall&) = default;
};

/// Why the metric source could not give a usable QPS sample (the `kind` label).
enum class MetricSourceErrorKind {
  Unreachable,  ///< "unreachable": transport failure or timeout
  BadReply,     ///< "bad_reply": non-2xx or undecodable reply
  Missing,      ///< "missing": the reply had no sample for a configured service
  Stale,        ///< "stale": the newest sample is older than the staleness limit
};

inline constexpr std::array kAllMetricSourceErrorKinds = {
    MetricSourceErrorKind::Unreachable,
    MetricSourceErrorKind::BadReply,
    MetricSourceErrorKind::Missing,
    MetricSourceErrorKind::Stale,
};

[[nodiscard]] std::string_view to_string(MetricSourceErrorKind kind);

/// Where in a tick something went wrong (the `stage` label of qfscale_tick_errors_total).
enum class TickStage {
  Observe,   ///< "observe": DescribeService / DescribeComputeUnit
  Metrics,   ///< "metrics": the QPS source
  Allocate,  ///< "allocate": fitting replicas onto instances (units per replica, the allocator)
  Act,       ///< "act": ScaleService
  Save,      ///< "save": writing the state file
  Audit,     ///< "audit": writing the audit log
};

inline constexpr std::array kAllTickStages = {TickStage::Observe,  TickStage::Metrics,
                                              TickStage::Allocate, TickStage::Act,
                                              TickStage::Save,     TickStage::Audit};

[[nodiscard]] std::string_view to_string(TickStage stage);

/// Why (the `code` label of qfscale_tick_errors_total). A closed set: API failures keep the
/// ApiCode spelling, metric failures the MetricSourceErrorKind spelling.
enum class TickErrorCode {
  AccessDenied,           ///< "AccessDenied"
  InvalidAccessKeyId,     ///< "InvalidAccessKeyId": unknown access key
  SignatureDoesNotMatch,  ///< "SignatureDoesNotMatch": wrong secret key
  RequestExpired,         ///< "RequestExpired": clock skew
  RequestLimitExceeded,   ///< "RequestLimitExceeded": throttled
  InternalError,          ///< "InternalError": the server failed
  Transport,              ///< "transport": no reply (connect, TLS, timeout, cancelled)
  BadReply,               ///< "bad_reply": a reply that could not be used
  Other,                  ///< "other": any other remote code
  Unreachable,            ///< "unreachable": the metric source did not answer
  Missing,                ///< "missing": no sample for the service
  Stale,                  ///< "stale": the newest sample is too old
  UnknownUnits,           ///< "unknown_units": a resource type that names no units per replica
  /// "replica_count_mismatch": DescribeService's replicasCount is not the sum of the service's
  /// replicas in the DescribeComputeUnit usage lists
  ReplicaCountMismatch,
  Internal,  ///< "internal": a bug (allocation or plan failed, wrong reading count)
  Io,        ///< "io": a file could not be written (missing directory, full disk)
};

[[nodiscard]] std::string_view to_string(TickErrorCode code);
/// The tick error code of a failed API call (never `ApiCode::Ok`).
[[nodiscard]] TickErrorCode tick_error_code(ApiCode code);
[[nodiscard]] TickErrorCode tick_error_code(MetricSourceErrorKind kind);

/// Every (stage, code) pair the controller can report; their series exist from the start.
[[nodiscard]] std::vector<std::pair<TickStage, TickErrorCode>> all_tick_error_kinds();

/// One thing that went wrong in a tick.
struct TickError {
  TickStage stage = TickStage::Observe;
  TickErrorCode code = TickErrorCode::Other;
  /// One sentence for the console, /readyz and the audit log: what failed, the cause and what
  /// happens now. Never secrets.
  std::string message;

  friend bool operator==(const TickError&, const TickError&) = default;
};

/// Compute units of one instance after this tick's allocation, as the operator sees the instance:
/// `allocated + free == capacity`. Example: 16 units, 2 held by another team's service and 4 by
/// ours -> allocated 6, free 10. (capacity::InstanceUsage splits `allocated` into `foreign` and
/// `managed`.)
struct InstanceUsage {
  model::InstanceId instance;
  model::ComputeUnits capacity;
  /// Held by the replicas of every service on the instance, managed by qfscale or not
  /// (qfscale_instance_allocated_compute_units).
  model::ComputeUnits allocated;
  model::ComputeUnits free;

  friend bool operator==(const InstanceUsage&, const InstanceUsage&) = default;
};

/// One service's decision plus state that the decision record does not carry.
struct ServiceReport {
  model::Decision decision;
  bool panic_active = false;  ///< the engine is in panic (burst) mode for this service
  /// False when its DescribeService failed this tick: its replica counts are unknown (the
  /// exporter removes its replica gauges rather than export a guess, the console prints `?`).
  bool observed = true;
  /// DescribeService's replicasCount differed from the replicas the usage lists of the
  /// instances show for it (qfscale_replica_count_mismatch_total; the decision's errors say
  /// both numbers and which one was used for what).
  bool replica_count_mismatch = false;

  friend bool operator==(const ServiceReport&, const ServiceReport&) = default;
};

/// Everything one reconcile tick did.
struct TickReport {
  util::SystemTime finished_at;               ///< wall time when the tick ended
  std::chrono::duration<double> duration{0};  ///< seconds the tick took (monotonic)
  bool success = true;  ///< false when the tick could not reconcile (e.g. no metrics at all)
  std::vector<ServiceReport> services;
  std::vector<InstanceUsage> instances;
  std::vector<ApiCall> api_calls;
  std::vector<MetricSourceErrorKind> metric_errors;  ///< one entry per error
  /// What went wrong this tick (a failed DescribeService, an instance that could not be
  /// described, a failed ScaleService, a state file or audit log that was not written). Errors
  /// about one service are also in its decision's `errors`.
  std::vector<TickError> errors;
};

/// The result of loading the controller config (the first load counts too).
struct ConfigReload {
  bool success = true;
  /// False when the config did not change but the part of it this controller acts on did (a
  /// shard handed over or taken over, controller/shard_gate.h): the services and instances
  /// apply, the config load counters do not count it.
  bool load = true;
  /// On success, the configured services and instances: series and decisions of services and
  /// instances not listed are removed (every series, those created on first use included),
  /// and the alerted per-service counter series of listed services are created at 0 (the others
  /// on first use; telemetry/exporter.h). Ignored on failure (the old config stays in force).
  std::vector<model::ServiceId> services;
  std::vector<model::InstanceId> instances;
};

/// Receives what the controller decided. Called by the controller's loop thread.
/// Thread-safety: implementations must be safe to call from any thread, concurrently with
/// their readers (HTTP handlers).
class TelemetrySink {
 public:
  TelemetrySink() = default;
  virtual ~TelemetrySink() = default;
  TelemetrySink(const TelemetrySink&) = delete;
  TelemetrySink& operator=(const TelemetrySink&) = delete;
  TelemetrySink(TelemetrySink&&) = delete;
  TelemetrySink& operator=(TelemetrySink&&) = delete;

  /// Once per reconcile tick, after actuation.
  virtual void on_tick(const TickReport& report) = 0;
  /// After every config load or reload attempt.
  virtual void on_config(const ConfigReload& reload) = 0;
};

}  // namespace qfscale::telemetry
