#pragma once

// The QianfanApi the leader gate and the shard gate hand to the controller: reads pass through,
// and a write goes out only with the fencing token `token_for` grants at that moment (the
// leader key's revision, or the service's shard key's), or fails without a call.

#include <cstdint>
#include <string_view>
#include <utility>

#include "qfscale/qianfan/api.h"

namespace qfscale::controller {

class FencingApi : public qianfan::QianfanApi {
 public:
  explicit FencingApi(qianfan::QianfanApi& inner) : inner_(inner) {}

  Result<qianfan::ServiceInfo> describe_service(const model::ServiceId& service) override {
    return inner_.describe_service(service);
  }
  Result<qianfan::ServicePage> describe_services(
      const qianfan::DescribeServicesRequest& request) override {
    return inner_.describe_services(request);
  }
  Result<qianfan::Ack> scale_service(const qianfan::ScaleServiceRequest& request) override {
    auto token = token_for("ScaleService", request.service);
    if (!token) return fail(std::move(token).error());
    auto fenced = request;
    fenced.fencing_token = *token;
    auto ack = inner_.scale_service(fenced);
    if (ack) on_scaled(request, *token);
    return ack;
  }
  Result<qianfan::Ack> modify_service(const qianfan::ModifyServiceRequest& request) override {
    auto token = token_for("ModifyService", request.service);
    if (!token) return fail(std::move(token).error());
    auto fenced = request;
    fenced.fencing_token = *token;
    return inner_.modify_service(fenced);
  }
  Result<qianfan::ComputeUnitInfo> describe_compute_unit(
      const model::InstanceId& instance) override {
    return inner_.describe_compute_unit(instance);
  }
  Result<qianfan::ServiceMetrics> describe_service_metric(
      const qianfan::DescribeServiceMetricRequest& request) override {
    return inner_.describe_service_metric(request);
  }

 protected:
  /// The token to send `action` on `service` with, if this controller may act on it right now;
  /// otherwise the error the write fails with.
  [[nodiscard]] virtual Result<std::int64_t> token_for(std::string_view action,
                                                       const model::ServiceId& service) const = 0;
  /// After a ScaleService the API accepted.
  virtual void on_scaled(const qianfan::ScaleServiceRequest& /*request*/, std::int64_t /*token*/) {}

 private:
  qianfan::QianfanApi& inner_;
};

}  // namespace qfscale::controller
