#pragma once

/// The typed Qianfan console API client (module `qianfan`).
///
/// `QianfanApi` is the interface the controller, the metric source and the CLI use; one virtual
/// per console action. `make_qianfan_client` returns the real implementation, which sends
/// `POST {base}/v2/service?Action=X` (compute-unit actions on `/v2/computeunit`) with a compact
/// JSON body, signs it with BCE auth v1 (docs/QIANFAN-API.md §8: `host;content-type;content-length;
/// x-bce-date`, one timestamp for `x-bce-date` and the signature), decodes replies strictly
/// (`types.h`) and maps errors (`errors.h`). Transient failures are retried with capped
/// exponential backoff and full jitter, never sooner than the server's Retry-After
/// (`RetryPolicy`). `fake::MemoryQianfanApi` implements it in memory over the fake cloud; tests use
/// `FakeQianfanApi` (tests/support) on top of that.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "qfscale/bce/signer.h"
#include "qfscale/http/client.h"
#include "qfscale/model/ids.h"
#include "qfscale/model/qianfan_action.h"
#include "qfscale/qianfan/types.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/random.h"
#include "qfscale/util/result.h"

namespace qfscale::qianfan {

/// Every method may be called concurrently from any number of threads. Errors follow
/// `errors.h`: Transient (retry later), Remote (refused or undecodable), InvalidInput (a request
/// that cannot be sent, e.g. an empty service id; nothing was sent).
class QianfanApi {
 public:
  virtual ~QianfanApi() = default;

  /// DescribeService `{serviceId}`.
  [[nodiscard]] virtual Result<ServiceInfo> describe_service(const model::ServiceId& service) = 0;
  /// DescribeServices: one page; follow `next_marker` while `is_truncated`.
  [[nodiscard]] virtual Result<ServicePage> describe_services(
      const DescribeServicesRequest& request) = 0;
  /// ScaleService `{serviceId, instanceId, deploymentReplicasCount}`; the reply must be `true`.
  [[nodiscard]] virtual Result<Ack> scale_service(const ScaleServiceRequest& request) = 0;
  /// ModifyService `{serviceId, modelSetId, modelId}`; the reply must be `true`.
  [[nodiscard]] virtual Result<Ack> modify_service(const ModifyServiceRequest& request) = 0;
  /// DescribeComputeUnit `{instanceId}` on `/v2/computeunit`.
  [[nodiscard]] virtual Result<ComputeUnitInfo> describe_compute_unit(
      const model::InstanceId& instance) = 0;
  /// DescribeServiceMetric `{serviceIds, startTime, endTime}`.
  [[nodiscard]] virtual Result<ServiceMetrics> describe_service_metric(
      const DescribeServiceMetricRequest& request) = 0;
};

/// Retries of Transient failures. Attempt `k` (0-based) that fails is followed by a wait drawn
/// uniformly from `[0, min(max_delay, base_delay * 2^k)]` ("full jitter"), unless it was the
/// last of `max_attempts`. When the reply said how long to wait (`Error::retry_after`, from
/// `Retry-After` / `retry-after-ms`), the wait is at least that; when the time the servers asked
/// for, summed over the call's retries, would exceed `max_retry_after`, the call does not wait
/// but returns that error at once.
struct RetryPolicy {
  int max_attempts = 4;  ///< total tries including the first; 1 disables retries
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5'000};
  /// The most server-requested waiting one call sleeps through, over all its retries.
  std::chrono::milliseconds max_retry_after{30'000};
};

/// Environment variable naming the base URL when `ClientConfig::base_url` is empty (the same name
/// the JS and Python SDKs use).
inline constexpr const char* kBaseUrlEnv = "QIANFAN_CONSOLE_API_BASE_URL";
inline constexpr const char* kDefaultBaseUrl = "https://qianfan.baidubce.com";
/// The header carrying ScaleServiceRequest::fencing_token (and ModifyService's); not signed.
inline constexpr const char* kFencingTokenHeader = "x-qfscale-fencing-token";

/// One HTTP attempt of a call: a call that is retried makes several (RetryPolicy).
struct Attempt {
  model::QianfanAction action = model::QianfanAction::DescribeService;
  const util::Error* error = nullptr;  ///< why the attempt failed; null when it succeeded
};

/// Hears of every attempt, on the thread that made it (so concurrently from several threads),
/// before any wait for a retry. Must not throw.
using AttemptObserver = std::function<void(const Attempt&)>;

struct ClientConfig {
  bce::Credentials credentials;
  /// "https://host[:port][/prefix]". Empty: $QIANFAN_CONSOLE_API_BASE_URL, else kDefaultBaseUrl.
  /// Trailing slashes are trimmed.
  std::string base_url;
  int signature_expiration_seconds = 1800;
  RetryPolicy retry;
  /// Per-request timeout passed to the HTTP client; empty = the client's default.
  std::optional<std::chrono::milliseconds> request_timeout;
  /// Optional: told of every attempt, retries included (qfscale_api_attempts_total).
  AttemptObserver on_attempt;
};

/// How the client waits between retries. Production passes a real sleep; tests record the waits.
/// Must be safe to call from any thread.
using SleepFunction = std::function<void(std::chrono::milliseconds)>;

/// The base URL the client will use: `configured` if non-empty, else the environment variable,
/// else the default; trailing slashes trimmed. InvalidInput when it is not an http(s) URL.
[[nodiscard]] Result<std::string> resolve_base_url(std::string_view configured);

/// Creates the real client (`QianfanClientImpl`). `http`, `clock` and `random` must outlive it;
/// `random` is used under the client's own lock. An empty `sleep` means
/// `std::this_thread::sleep_for`. InvalidInput for an unusable base URL or empty credentials.
[[nodiscard]] Result<std::unique_ptr<QianfanApi>> make_qianfan_client(ClientConfig config,
                                                                      http::Client& http,
                                                                      const util::Clock& clock,
                                                                      util::Random& random,
                                                                      SleepFunction sleep = {});

}  // namespace qfscale::qianfan
