#pragma once

/// An in-memory `qianfan::QianfanApi` over a `fake::Cloud` (cloud.h): the controller, the CLI's
/// tests and the benchmarks talk to the same cloud model as the HTTP fake, without HTTP. A call
/// the cloud refuses comes back as the error the real client would return for the HTTP fake's
/// reply: `Remote`, `remote_code` the BCE code (InsufficientComputeUnits, ResourceNotFound, ...),
/// `http_status` its status, the same message. Every reading of time comes from the injected
/// clock. Nothing is logged or recorded, so its memory does not grow with calls.
///
/// This is the one file of module `fake` that includes `qianfan` (tests/layering_test.sh): the
/// HTTP fake stays independent of the client it is there to check.
///
/// Thread-safety: every method may be called concurrently (one mutex).

#include <cstdint>
#include <mutex>
#include <utility>

#include "qfscale/fake/cloud.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/util/clock.h"

namespace qfscale::fake {

struct MemoryApiOptions {
  /// Send availableComputeUnitCount in DescribeComputeUnit, as the HTTP fake does. Off: only the
  /// usage list, so units held by unlisted services are a surprise to the caller.
  bool report_available_units = true;
};

class MemoryQianfanApi final : public qianfan::QianfanApi {
 public:
  /// `clock` must outlive the API.
  MemoryQianfanApi(Cloud cloud, const util::Clock& clock, MemoryApiOptions options = {});

  /// Runs `f(Cloud&)` under the lock: setup and inspection.
  template <class F>
  decltype(auto) with_cloud(F&& f) {
    const std::lock_guard lock(mutex_);
    return std::forward<F>(f)(cloud_);
  }
  template <class F>
  decltype(auto) with_cloud(F&& f) const {
    const std::lock_guard lock(mutex_);
    return std::forward<F>(f)(std::as_const(cloud_));
  }
  [[nodiscard]] util::SystemTime now() const { return clock_.system_now(); }

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
  // Require mutex_ held.
  [[nodiscard]] Error refused(const Refusal& refusal);
  [[nodiscard]] std::string next_request_id();

  mutable std::mutex mutex_;
  Cloud cloud_;
  const util::Clock& clock_;
  MemoryApiOptions options_;
  std::uint64_t requests_ = 0;
};

/// What DescribeService reports for `status`, field by field as the HTTP fake writes it.
[[nodiscard]] qianfan::ServiceInfo to_service_info(const ServiceStatus& status);

}  // namespace qfscale::fake
