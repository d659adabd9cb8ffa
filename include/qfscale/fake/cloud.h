#pragma once

/// The fake Qianfan's model of the cloud: custom model services, compute-unit instances and what
/// each service holds on each instance, with time passed in. No clock, no I/O, no HTTP: the HTTP
/// fake (fake_qianfan.h) and the in-memory `QianfanApi` (memory_qianfan_api.h) are two fronts over
/// it, so a ScaleService is refused for capacity by one rule whichever way it arrives.
///
/// ## Model
///
/// - An instance has `capacity` compute units. Services hold `replicas x units per replica` on it
///   (units per replica: the number after the last dash of the service type, GPU-I-2 -> 2).
///   `hidden_units` are held by services the cloud does not list (another team's): they appear in
///   no usage list but count against every ScaleService.
/// - ScaleService sets a service's replicas on one instance. It is refused when the new count
///   needs more units than the instance has left once every other holder is counted (the
///   service's own current replicas there do not count: they are being replaced), or when a GPU
///   service asks for a CPU instance or the reverse.
/// - New replicas become ready `startup_delay` after the scale; scale-down is at once and removes
///   replicas still starting first.
/// - runStatus: Deploying while the service has replicas and none is ready, Serving otherwise
///   (a service scaled to zero included), unless the spec fixes one.
/// - ModifyService starts a model update; the new model ids are in force `model_update_duration`
///   later, and until then a second ModifyService is refused.
/// - Traffic: each wall-clock second a service serves at most floor(ready replicas x qps)
///   requests and rejects the rest; per-second counts are kept for 24 hours.
///
/// ## Worked numbers (instance unit-a: capacity 16, hidden 4; svc-x GPU-I-2 with 2 replicas
/// there, svc-y GPU-I-4 with 1; startup delay 30 s)
///
/// - unit-a's usage list shows svc-x 2 replicas / 4 units and svc-y 1 / 4; used = 4 + 4 + 4 = 12,
///   available 4.
/// - Scale svc-x to 4 on unit-a at t: needs 8; left for svc-x = 16 - 4 (hidden) - 4 (svc-y) = 8:
///   accepted. Replicas 4, ready 2 until t + 30 s, then 4. runStatus Serving throughout.
/// - Scale svc-x to 5 instead: needs 10 > 8: refused InsufficientComputeUnits with left 8,
///   need 10, held elsewhere 8, fit 4 (8 / 2).
/// - Scale svc-x to 0: at once; svc-x then reports Serving with 0 replicas.
/// - svc-x with qps 2.5 and 3 ready replicas serves 7 requests in a second (floor 7.5); the 8th
///   is rejected.
///
/// Thread-safety: none; a value with no locks. Each front holds its own mutex.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "qfscale/model/ids.h"
#include "qfscale/model/service.h"
#include "qfscale/model/units.h"
#include "qfscale/util/clock.h"

namespace qfscale::fake {

/// Replicas of a service on one compute-unit instance at start (all ready at once).
struct Deployment {
  model::InstanceId instance;
  model::Replicas replicas;
  friend bool operator==(const Deployment&, const Deployment&) = default;
};

/// A custom model service (定制服务) as the fake starts it.
struct ServiceSpec {
  model::ServiceId id;  ///< "svco-" + 12 lower-case letters or digits
  std::string name;     ///< 2 to 20 characters
  std::string type;     ///< resourceConfig.type, e.g. "GPU-I-2" (2 units per replica)
  double qps = 0;       ///< resourceConfig.qps: requests per second one replica serves
  std::string service_type = "chat";
  std::string base_model = "ERNIE-Speed-8K";
  std::string model_set_id = "am-fakeset0001";  ///< am-…
  std::string model_id = "amv-fakever0001";     ///< amv-…
  std::string region = "bj";
  std::string url;  ///< reported `url`; empty = "http://qianfan.fake/traffic/<id>"
  /// Fixed runStatus (e.g. Failed, Stopped, New) instead of the one derived from replicas.
  std::optional<model::RunStatus> run_status;
  std::vector<Deployment> deployments;
  friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

/// A compute-unit instance (算力单元): `capacity` units, of which `foreign_usage` are taken by
/// something the fake does not model (another team's services); those never appear in
/// `serviceUsageList` but do count against ScaleService.
struct InstanceSpec {
  model::InstanceId id;  ///< "unit-" + 8 letters or digits
  std::string region = "bj";
  std::string type = "gpu-1";
  std::string status = "Running";
  model::ComputeUnits capacity;
  model::ComputeUnits foreign_usage;
  friend bool operator==(const InstanceSpec&, const InstanceSpec&) = default;
};

struct CloudTimings {
  std::chrono::milliseconds startup_delay{std::chrono::seconds{30}};
  std::chrono::milliseconds model_update_duration{std::chrono::seconds{60}};
};

/// Why the cloud refused an operation. Each kind has one BCE code (`error_code`) and HTTP status
/// (`http_status`); `to_message` words it the same for every front.
enum class RefusalKind {
  ServiceNotFound,           ///< 404 ResourceNotFound
  InstanceNotFound,          ///< 404 ResourceNotFound
  ResourceTypeMismatch,      ///< 400: a GPU service on a CPU instance or the reverse
  InsufficientComputeUnits,  ///< 400: the new count needs more units than are left
  ModelUpdateInProgress,     ///< 409: ModifyService while an update runs
  InvalidReplicaCount,       ///< 400 InappropriateJSON: a negative count
};

struct Refusal {
  RefusalKind kind = RefusalKind::ServiceNotFound;
  std::string subject;  ///< the id not found; the service otherwise
  std::string instance;
  /// ResourceTypeMismatch: "GPU-I-2 is a GPU type but instance type cpu-1 is CPU".
  std::string mismatch;
  /// InsufficientComputeUnits: units left for this service (0 when over-committed), what the
  /// count needs, the instance's capacity, what every other holder takes, and the most
  /// replicas that fit.
  model::Replicas asked;
  std::string service_type;
  model::ComputeUnits left, need, capacity, held_elsewhere;
  model::Replicas fit;
  /// ModelUpdateInProgress: the running update and how long it still takes.
  std::string pending_model_set_id, pending_model_id;
  std::chrono::milliseconds remaining{0};
  friend bool operator==(const Refusal&, const Refusal&) = default;
};

[[nodiscard]] std::string_view error_code(RefusalKind kind);
[[nodiscard]] int http_status(RefusalKind kind);
/// The detailed message both fronts send, e.g. "instance unit-a has 8 compute units left; 5
/// replicas of GPU-I-2 need 10 (capacity 16, used by other services and foreign usage 8). Ask
/// for at most 4 replicas here, or free compute units on the instance first".
[[nodiscard]] std::string to_message(const Refusal& refusal);

template <class T>
using CloudResult = tl::expected<T, Refusal>;

/// A service as DescribeService reports it at some time.
struct ServiceStatus {
  ServiceSpec spec;  ///< model ids as in force then; deployments: the current placements
  model::RunStatus run_status = model::RunStatus::Serving;
  model::Replicas replicas;  ///< on every instance, ready or starting (replicasCount)
  model::Replicas ready;
  bool model_updating = false;
  util::SystemTime created;
};

/// One `serviceUsageList` entry.
struct UnitUsage {
  model::ServiceId service;
  model::Replicas replicas;
  model::ComputeUnits units;
  friend bool operator==(const UnitUsage&, const UnitUsage&) = default;
};

/// An instance as DescribeComputeUnit reports it.
struct InstanceStatus {
  InstanceSpec spec;
  model::ComputeUnits used;      ///< every holder, hidden units included
  std::vector<UnitUsage> usage;  ///< listed services only, by service id
  [[nodiscard]] model::ComputeUnits available() const { return spec.capacity - used; }
};

/// DescribeServices filters; empty ones match everything.
struct ServiceQuery {
  std::string marker;  ///< first id of the page (inclusive); empty: from the start
  int max_keys = 10;
  std::string name;  ///< contained in the name, any case
  std::vector<model::RunStatus> run_status;
  std::vector<std::string> service_type;
  bool reverse = false;  ///< ids descending
};

struct ServicePage {
  std::vector<ServiceStatus> services;
  std::string next_marker;  ///< non-empty exactly when truncated
};

/// A replica count set by ScaleService.
struct Scaled {
  model::Replicas from, to;
  friend bool operator==(const Scaled&, const Scaled&) = default;
};

/// One request to the traffic endpoint.
struct TrafficOutcome {
  bool served = false;
  std::uint64_t served_total = 0;  ///< the service's served requests so far, this one included
  model::Replicas ready;
  double replica_qps = 0;
  std::int64_t capacity_per_second = 0;
};

struct CallCounts {
  std::uint64_t served = 0;
  std::uint64_t rejected = 0;
  friend bool operator==(const CallCounts&, const CallCounts&) = default;
};

class Cloud {
 public:
  /// Services start with their deployments, ready at `now`. Specs are taken as given (the
  /// scenario validates them).
  Cloud(std::vector<InstanceSpec> instances, std::vector<ServiceSpec> services,
        CloudTimings timings, util::SystemTime now);
  Cloud() : Cloud({}, {}, CloudTimings{}, util::SystemTime{}) {}

  // ---- setup (tests, benchmarks): no capacity check --------------------------------------
  /// Adds or replaces a service; its deployments are placed ready at `now`.
  void add_service(ServiceSpec spec, util::SystemTime now);
  /// Adds or replaces an instance (its placements stay).
  void add_instance(InstanceSpec spec);
  /// Sets the units held by services the cloud does not list. False for an unknown instance.
  bool set_hidden_units(const model::InstanceId& instance, model::ComputeUnits units);
  /// Sets replicas of a known service on a known instance, ready at `now`. False if either is
  /// unknown.
  bool place(const model::ServiceId& service, const model::InstanceId& instance,
             model::Replicas replicas, util::SystemTime now);
  /// Fixes the reported runStatus (empty: derived again). False for an unknown service.
  bool set_run_status(const model::ServiceId& service, std::optional<model::RunStatus> status);

  // ---- the console actions ----------------------------------------------------------------
  [[nodiscard]] CloudResult<ServiceStatus> service(std::string_view id, util::SystemTime now) const;
  [[nodiscard]] ServicePage services(const ServiceQuery& query, util::SystemTime now) const;
  [[nodiscard]] CloudResult<InstanceStatus> instance(std::string_view id) const;
  CloudResult<Scaled> scale(std::string_view service, std::string_view instance,
                            model::Replicas replicas, util::SystemTime now);
  /// Starts a model update; the time it is in force.
  CloudResult<util::SystemTime> modify(std::string_view service, std::string model_set_id,
                                       std::string model_id, util::SystemTime now);
  /// Served and rejected traffic of `service` in the whole seconds [from, to) since the epoch.
  [[nodiscard]] CloudResult<CallCounts> calls(std::string_view service, std::int64_t from,
                                              std::int64_t to) const;

  // ---- traffic -------------------------------------------------------------------------------
  /// One request to the service at `now`: served if this second has capacity left.
  CloudResult<TrafficOutcome> request(std::string_view service, util::SystemTime now);

  // ---- whole-cloud views (inventory, /metrics) ----------------------------------------------
  [[nodiscard]] std::vector<std::string> service_ids() const;
  [[nodiscard]] std::vector<InstanceStatus> instances() const;
  [[nodiscard]] CallCounts call_totals(std::string_view service) const;
  /// floor(ready replicas x qps) at `now`; 0 for an unknown service.
  [[nodiscard]] std::int64_t capacity_per_second(std::string_view service,
                                                 util::SystemTime now) const;

 private:
  struct PendingModel {
    std::string model_set_id;
    std::string model_id;
    util::SystemTime done_at;
  };
  struct TrafficSecond {
    std::int64_t second = 0;
    CallCounts counts;
  };
  struct Service {
    ServiceSpec spec;
    int units_per_replica = 1;
    util::SystemTime created;
    /// instance id -> ready time of each replica, ascending; starting replicas at the back.
    std::map<std::string, std::vector<util::SystemTime>, std::less<>> replicas;
    std::optional<PendingModel> pending_model;
    std::deque<TrafficSecond> traffic;  ///< seconds that saw traffic, oldest first
    CallCounts totals;
  };
  struct Instance {
    InstanceSpec spec;
    std::map<std::string, int, std::less<>> held;  ///< service id -> replicas here (> 0)
  };

  [[nodiscard]] ServiceStatus status(const Service& service, util::SystemTime now) const;
  [[nodiscard]] std::int64_t units_held(const Instance& instance, const Service* except) const;
  void set_replicas(Service& service, Instance& instance, std::size_t count,
                    util::SystemTime ready_at);
  static void settle(Service& service, util::SystemTime now);

  CloudTimings timings_;
  std::map<std::string, Service, std::less<>> services_;
  std::map<std::string, Instance, std::less<>> instances_;
};

/// The resource kind a type names: "GPU" for a type starting with gpu, "CPU" for one starting
/// with cpu, in any case (service types GPU-I-2, CPU-I-2; instance types gpu-1, cpu-1); empty for
/// any other type, which is not checked. A service runs only on an instance of its own kind.
[[nodiscard]] std::optional<std::string_view> resource_kind(std::string_view type);
/// Why a service of `service_type` may not run on an instance of `instance_type`; empty when it
/// may ("GPU-I-2 is a GPU type but instance type cpu-1 is CPU").
[[nodiscard]] std::optional<std::string> kind_mismatch(std::string_view service_type,
                                                       std::string_view instance_type);

}  // namespace qfscale::fake
