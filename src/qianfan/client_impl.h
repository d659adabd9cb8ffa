#pragma once

// The real QianfanApi: request building, signing, sending, retrying, decoding.

#include <mutex>
#include <string>
#include <string_view>

#include "qfscale/http/client.h"
#include "qfscale/qianfan/api.h"

#include "qianfan/util.h"

namespace qfscale::qianfan {

/// Thread-safety: all methods may be called concurrently; the injected Random is used under
/// `random_mutex_`, the HTTP client, clock and sleep function must themselves be thread-safe.
class QianfanClientImpl final : public QianfanApi {
 public:
  /// `base_url` is already resolved (resolve_base_url).
  QianfanClientImpl(ClientConfig config, std::string base_url, http::Client& http,
                    const util::Clock& clock, util::Random& random, SleepFunction sleep);

  Result<ServiceInfo> describe_service(const model::ServiceId& service) override;
  Result<ServicePage> describe_services(const DescribeServicesRequest& request) override;
  Result<Ack> scale_service(const ScaleServiceRequest& request) override;
  Result<Ack> modify_service(const ModifyServiceRequest& request) override;
  Result<ComputeUnitInfo> describe_compute_unit(const model::InstanceId& instance) override;
  Result<ServiceMetrics> describe_service_metric(
      const DescribeServiceMetricRequest& request) override;

  /// The signed request for `POST {base}{route}?Action={action}` with `body`, stamped with the
  /// clock's current second. InvalidInput when the body is not valid UTF-8 or the URL is bad.
  [[nodiscard]] Result<http::ClientRequest> build_request(std::string_view route,
                                                          std::string_view action,
                                                          std::string body) const;
  /// The wait after failed attempt `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)].
  [[nodiscard]] std::chrono::milliseconds backoff(int attempt);

  [[nodiscard]] const std::string& base_url() const { return base_url_.url; }

 private:
  template <class T, class Decode>
  /// One action with retries; the route follows from the action.
  Result<T> call(model::QianfanAction action, std::string_view subject, std::string body,
                 Decode&& decode, std::int64_t fencing_token = 0);

  ClientConfig config_;
  detail::BaseUrl base_url_;
  http::Client& http_;
  const util::Clock& clock_;
  std::mutex random_mutex_;
  util::Random& random_;
  SleepFunction sleep_;
};

}  // namespace qfscale::qianfan
