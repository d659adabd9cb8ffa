#pragma once

/// An in-memory QianfanApi for benchmarks that measure the controller itself (memory, CPU
/// without HTTP). Unlike tests/support's FakeQianfanApi it keeps no call log, so its own memory
/// does not grow with ticks and does not blur the controller's figures; its storage is sized
/// once, when it is built from a `ControllerShape`. Only DescribeService, DescribeComputeUnit
/// and ScaleService are implemented; ScaleService enforces instance capacity.

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "qfscale/qianfan/api.h"

#include "support/controller_scenario.h"

namespace qfscale::bench {

/// Thread-safety: every method may be called concurrently (one mutex).
class MemoryQianfanApi final : public qianfan::QianfanApi {
 public:
  explicit MemoryQianfanApi(const ControllerShape& shape);

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
  struct Placement {
    std::size_t service = 0;
    int replicas = 0;
  };
  struct Instance {
    model::InstanceId id;
    int capacity = 0;
    std::vector<Placement> placements;  ///< services with replicas here (replicas may be 0)
  };
  struct Service {
    qianfan::ServiceInfo info;  ///< resource_config.replicas kept equal to the placements' sum
    int units_per_replica = 1;
  };

  std::mutex mutex_;
  std::vector<Service> services_;
  std::vector<Instance> instances_;
  std::unordered_map<std::string, std::size_t> service_index_;
  std::unordered_map<std::string, std::size_t> instance_index_;
};

}  // namespace qfscale::bench
