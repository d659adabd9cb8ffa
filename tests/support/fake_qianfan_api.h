#pragma once

// An in-memory QianfanApi for controller and CLI tests: services, compute-unit instances with a
// capacity, ScaleService that enforces it, a record of every call, and per-action faults.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qfscale/qianfan/api.h"

namespace qfscale::testing {

enum class QianfanAction {
  DescribeService,
  DescribeServices,
  ScaleService,
  ModifyService,
  DescribeComputeUnit,
  DescribeServiceMetric,
};

[[nodiscard]] std::string_view to_string(QianfanAction action);

struct FakeCall {
  QianfanAction action = QianfanAction::DescribeService;
  std::string subject;  ///< the service or instance id ("" for list and metric calls)
  std::optional<qianfan::ScaleServiceRequest> scale;
  friend bool operator==(const FakeCall&, const FakeCall&) = default;
};

/// Thread-safety: every method may be called concurrently (one mutex).
class FakeQianfanApi final : public qianfan::QianfanApi {
 public:
  /// Codes the fake answers with (chosen here; the real console's codes are undocumented).
  static constexpr std::string_view kNotFound = "ResourceNotFound";
  static constexpr std::string_view kInsufficientCapacity = "InsufficientComputeUnits";
  static constexpr std::string_view kInvalidParameter = "InvalidParameter";

  /// Adds or replaces a service. `resource_config.replicas` is kept equal to the sum of its
  /// placements from then on (it starts at whatever `place` sets; 0 without placements).
  void add_service(qianfan::ServiceInfo service);
  /// Changes a stored service in place (run status, isModelUpdating, qps ...).
  void update_service(const model::ServiceId& id,
                      const std::function<void(qianfan::ServiceInfo&)>& f);
  void add_instance(const model::InstanceId& id, model::ComputeUnits capacity);
  /// Units taken on `id` that DescribeComputeUnit neither lists nor reports as unavailable (it
  /// sends no availableComputeUnitCount) but ScaleService counts: another team's services.
  void set_unlisted(const model::InstanceId& id, model::ComputeUnits units);
  /// Sets replicas of a service on an instance directly, without the capacity check (setup).
  void place(const model::ServiceId& service, const model::InstanceId& instance,
             model::Replicas replicas);
  /// What DescribeServiceMetric reports as callTotal for `service` (one app, id 1).
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
  [[nodiscard]] model::ComputeUnits free_units(const model::InstanceId& instance) const;
  [[nodiscard]] std::optional<qianfan::ServiceInfo> service(const model::ServiceId& id) const;

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
  struct Instance {
    model::ComputeUnits capacity;
    model::ComputeUnits unlisted;
    std::map<model::ServiceId, model::Replicas> placements;
  };
  struct Fault {
    Error error;
    int remaining = 0;
  };

  // All below require mutex_ held.
  std::optional<Error> take_fault(QianfanAction action, const std::string& subject = {});
  Error remote(std::string_view code, std::string message, int http_status);
  void record(QianfanAction action, std::string subject,
              std::optional<qianfan::ScaleServiceRequest> scale = std::nullopt);
  [[nodiscard]] model::ComputeUnits used_units(const Instance& instance,
                                               const model::ServiceId* except) const;
  void refresh_replicas(const model::ServiceId& service);

  mutable std::mutex mutex_;
  std::map<model::ServiceId, qianfan::ServiceInfo> services_;
  std::map<model::InstanceId, Instance> instances_;
  std::map<model::ServiceId, std::int64_t> call_totals_;
  std::map<QianfanAction, Fault> faults_;
  std::map<std::pair<QianfanAction, std::string>, Fault> subject_faults_;
  std::vector<FakeCall> calls_;
  std::uint64_t next_request_ = 1;
};

}  // namespace qfscale::testing
