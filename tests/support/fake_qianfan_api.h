#pragma once

// Test support over fake::MemoryQianfanApi (the in-memory QianfanApi over fake::Cloud, so
// ScaleService is refused for capacity by the same rule as the HTTP fake): set up services and
// instances from qianfan types, record every call, script failures, and override what
// DescribeService reports. Replicas start ready (no startup delay) and the instances accept
// any resource type; DescribeComputeUnit sends no availableComputeUnitCount, so units held by
// unlisted services surprise the controller as they would on a console that does not report them;
// DescribeServiceMetric leaves unknown services out of its reply instead of refusing the call.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qfscale/fake/memory_qianfan_api.h"
#include "qfscale/model/qianfan_action.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/util/clock.h"

namespace qfscale::testing {

using model::QianfanAction;

struct FakeCall {
  QianfanAction action = QianfanAction::DescribeService;
  std::string subject;  ///< the service or instance id ("" for list and metric calls)
  std::optional<qianfan::ScaleServiceRequest> scale;
  friend bool operator==(const FakeCall&, const FakeCall&) = default;
};

/// Thread-safety: every method may be called concurrently.
class FakeQianfanApi final : public qianfan::QianfanApi {
 public:
  /// Times come from `clock` (startup delays, model-update windows); by default a clock that
  /// stays at 2024-01-01T00:00:00Z.
  FakeQianfanApi();
  explicit FakeQianfanApi(const util::Clock& clock);

  /// Adds or replaces a service from what DescribeService would report (id, name, type, qps,
  /// models, a runStatus other than Serving/Unknown is kept fixed); no replicas.
  void add_service(const qianfan::ServiceInfo& service);
  /// From now until the next `place` of the service, DescribeService reports what `f` makes of
  /// the cloud's answer (a run status, isModelUpdating, a replicasCount the usage lists do not
  /// show). The cloud itself does not change.
  void update_service(const model::ServiceId& id, std::function<void(qianfan::ServiceInfo&)> f);
  /// An instance of `capacity` units that any service type may run on.
  void add_instance(const model::InstanceId& id, model::ComputeUnits capacity);
  /// Units taken on `id` by services the usage list does not show; ScaleService counts them.
  void set_unlisted(const model::InstanceId& id, model::ComputeUnits units);
  /// Sets replicas of a service on an instance directly, ready, without the capacity check.
  void place(const model::ServiceId& service, const model::InstanceId& instance,
             model::Replicas replicas);
  /// DescribeServiceMetric reports `calls` as callTotal for `service` over any window.
  void set_call_total(const model::ServiceId& service, std::int64_t calls);
  /// The next `times` calls of `action` fail with `error` (before any other check).
  void fail_next(QianfanAction action, Error error, int times = 1);
  /// The next `times` calls of `action` about `subject` (a service or instance id) fail with
  /// `error`; checked before the faults of `fail_next`. Deterministic under concurrent callers.
  void fail_next_for(QianfanAction action, std::string subject, Error error, int times = 1);

  [[nodiscard]] std::vector<FakeCall> calls() const;
  [[nodiscard]] std::size_t count(QianfanAction action) const;
  [[nodiscard]] model::Replicas replicas(const model::ServiceId& service,
                                         const model::InstanceId& instance) const;
  /// Capacity minus every use, unlisted units included.
  [[nodiscard]] model::ComputeUnits free_units(const model::InstanceId& instance) const;
  [[nodiscard]] std::optional<qianfan::ServiceInfo> service(const model::ServiceId& id);
  [[nodiscard]] fake::MemoryQianfanApi& memory() { return api_; }

  Result<qianfan::ServiceInfo> describe_service(const model::ServiceId& service) override;
  Result<qianfan::ServicePage> describe_services(
      const qianfan::DescribeServicesRequest& request) override;
  Result<qianfan::Ack> scale_service(const qianfan::ScaleServiceRequest& request) override;
  Result<qianfan::Ack> modify_service(const qianfan::ModifyServiceRequest& request) override;
  Result<qianfan::ComputeUnitInfo> describe_compute_unit(
      const model::InstanceId& instance) override;
  Result<qianfan::ServiceMetrics> describe_service_metric(
      const qianfan::DescribeServiceMetricRequest& request) override;

 private:
  struct Fault {
    Error error;
    int remaining = 0;
  };
  /// Records the call; the scripted failure if one is due.
  std::optional<Error> enter(QianfanAction action, const std::string& subject,
                             std::optional<qianfan::ScaleServiceRequest> scale = std::nullopt);
  void patch(qianfan::ServiceInfo& info) const;

  util::ManualClock own_clock_;
  fake::MemoryQianfanApi api_;
  mutable std::mutex mutex_;  // guards everything below
  std::map<model::ServiceId, std::function<void(qianfan::ServiceInfo&)>> patches_;
  std::map<model::ServiceId, std::int64_t> call_totals_;
  std::map<QianfanAction, Fault> faults_;
  std::map<std::pair<QianfanAction, std::string>, Fault> subject_faults_;
  std::vector<FakeCall> calls_;
};

}  // namespace qfscale::testing
