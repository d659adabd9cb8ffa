#include <algorithm>
#include <cstdlib>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/qianfan/errors.h"
#include "qfscale/util/json_writer.h"

#include "qianfan/client_impl.h"
#include "qianfan/decode.h"
#include "qianfan/util.h"

namespace qfscale::qianfan {
namespace {

constexpr std::string_view kServiceRoute = "/v2/service";
constexpr std::string_view kComputeUnitRoute = "/v2/computeunit";
constexpr std::string_view kContentType = "application/json";

// "1 s", "1.5 s", "0.25 s": a wait as an operator reads it.
std::string seconds_text(std::chrono::milliseconds d) {
  return fmt::format("{:g} s", static_cast<double>(d.count()) / 1000.0);
}

Status require_id(std::string_view field, std::string_view value) {
  if (value.empty())
    return fail(ErrorCode::InvalidInput, fmt::format("{} must not be empty", field));
  return util::ok();
}

}  // namespace

Result<std::string> resolve_base_url(std::string_view configured) {
  std::string url(configured);
  if (url.empty()) {
    // Read once per client construction, before any thread uses the client.
    const char* env = std::getenv(kBaseUrlEnv);  // NOLINT(concurrency-mt-unsafe)
    url = env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultBaseUrl);
  }
  auto split = detail::split_base_url(url);
  if (!split) {
    return fail(std::move(split).error().with_context(
        fmt::format("Qianfan endpoint (set --endpoint or {})", kBaseUrlEnv)));
  }
  return split->url;
}

QianfanClientImpl::QianfanClientImpl(ClientConfig config, std::string base_url, http::Client& http,
                                     const util::Clock& clock, util::Random& random,
                                     SleepFunction sleep)
    : config_(std::move(config)),
      base_url_(detail::split_base_url(base_url).value_or(detail::BaseUrl{})),
      http_(http),
      clock_(clock),
      random_(random),
      sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  config_.retry.max_attempts = std::max(config_.retry.max_attempts, 1);
  config_.retry.max_retry_after =
      std::max(config_.retry.max_retry_after, std::chrono::milliseconds{0});
}

Result<http::ClientRequest> QianfanClientImpl::build_request(std::string_view route,
                                                             std::string_view action,
                                                             std::string body) const {
  if (!simdjson::validate_utf8(body.data(), body.size())) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("{} request contains text that is not valid UTF-8", action));
  }
  http::ClientRequest request;
  request.method = "POST";
  if (base_url_.host_header.empty()) {
    return fail(ErrorCode::InvalidInput, "Qianfan client has no usable base URL");
  }
  request.url = fmt::format("{}{}?Action={}", base_url_.url, route, action);
  const std::string path = base_url_.path_prefix + std::string(route);
  const std::string& host = base_url_.host_header;

  const auto timestamp = std::chrono::floor<std::chrono::seconds>(clock_.system_now());
  const std::string date = bce::format_timestamp(timestamp);
  const std::string length = std::to_string(body.size());

  bce::CanonicalInput canonical{
      .method = "POST",
      .path = path,
      .query = {{"Action", std::string(action)}},
      .headers = {{"Content-Type", std::string(kContentType)},
                  {"Host", host},
                  {"Content-Length", length},
                  {"x-bce-date", date}},
  };
  const bce::Signature signature =
      bce::sign(config_.credentials, canonical,
                bce::SigningOptions{
                    .timestamp = timestamp,
                    .expiration_seconds = config_.signature_expiration_seconds,
                    .headers_to_sign = {"content-length", "content-type", "host", "x-bce-date"},
                });

  request.headers = {
      {"Content-Type", std::string(kContentType)},
      {"Host", host},
      {"Content-Length", length},
      {"x-bce-date", date},
      {"Authorization", signature.authorization},
      {"Accept", "application/json"},
      {"User-Agent", "qfscale/" QFS_VERSION},
  };
  request.body = std::move(body);
  request.timeout = config_.request_timeout;
  return request;
}

std::chrono::milliseconds QianfanClientImpl::backoff(int attempt) {
  // min(cap, base * 2^attempt) without overflow: stop doubling once past the cap.
  const auto cap = std::max<std::int64_t>(config_.retry.max_delay.count(), 0);
  std::int64_t bound = std::max<std::int64_t>(config_.retry.base_delay.count(), 0);
  for (int i = 0; i < attempt && bound < cap; ++i) bound *= 2;
  bound = std::min(bound, cap);
  double u = 0;
  {
    const std::lock_guard lock(random_mutex_);
    u = random_.uniform01();
  }
  // u in [0, 1): the delay is in [0, bound]; floor keeps it an integral millisecond count.
  const auto delay = static_cast<std::int64_t>(u * static_cast<double>(bound + 1));
  return std::chrono::milliseconds{std::min(delay, bound)};
}

template <class T, class Decode>
Result<T> QianfanClientImpl::call(model::QianfanAction action_id, std::string_view subject,
                                  std::string body, Decode&& decode, std::int64_t fencing_token) {
  const std::string_view action = model::to_string(action_id);
  const std::string_view route =
      action_id == model::QianfanAction::DescribeComputeUnit ? kComputeUnitRoute : kServiceRoute;
  const std::string what =
      subject.empty() ? std::string(action) : fmt::format("{} {}", action, subject);
  const RetryPolicy& retry = config_.retry;
  Error last;
  int attempts = 0;
  std::chrono::milliseconds asked_so_far{0};
  while (true) {
    ++attempts;
    // Re-signed every attempt: a fresh x-bce-date keeps a slow retry from expiring.
    auto request = build_request(route, action, body);
    if (!request) return fail(std::move(request).error().with_context(what));
    if (fencing_token != 0) {
      request->headers.push_back({kFencingTokenHeader, std::to_string(fencing_token)});
    }
    auto response = http_.send(*request);
    Result<T> out = response ? decode(*response, clock_.system_now())
                             : Result<T>(fail(std::move(response).error()));
    if (config_.on_attempt) {
      config_.on_attempt(Attempt{.action = action_id, .error = out ? nullptr : &out.error()});
    }
    if (out) return out;
    last = std::move(out).error();
    if (!last.retryable() || attempts >= retry.max_attempts) break;
    const std::chrono::milliseconds asked = last.retry_after.value_or(std::chrono::milliseconds{0});
    if (asked_so_far + asked > retry.max_retry_after) {
      // Blocking a reconcile thread that long would stall every other service's tick; the
      // controller re-plans next tick instead. Summed over retries, so max_attempts x the cap
      // cannot add up behind it.
      last.message +=
          asked_so_far.count() == 0
              ? fmt::format(
                    "; the server asked to retry after {}, longer than the client waits "
                    "(max_retry_after {}), so it was not retried",
                    seconds_text(asked), seconds_text(retry.max_retry_after))
              : fmt::format(
                    "; the server asked to retry after {} more, beyond the {} the "
                    "client waits in all (max_retry_after), so it was not retried",
                    seconds_text(asked), seconds_text(retry.max_retry_after));
      break;
    }
    asked_so_far += asked;
    // Retry-After is a floor under the jittered backoff, not a replacement: clients throttled
    // together still spread out once the asked time has passed.
    sleep_(std::max(backoff(attempts - 1), asked));
  }
  if (attempts > 1)
    return fail(std::move(last).with_context(fmt::format("{} ({} attempts)", what, attempts)));
  return fail(std::move(last).with_context(what));
}

Result<ServiceInfo> QianfanClientImpl::describe_service(const model::ServiceId& service) {
  if (auto s = require_id("serviceId", service.value); !s) return fail(std::move(s).error());
  auto body = util::JsonObjectWriter{}.string("serviceId", service.value).finish();
  return call<ServiceInfo>(model::QianfanAction::DescribeService, service.value, std::move(body),
                           detail::decode_describe_service);
}

Result<ServicePage> QianfanClientImpl::describe_services(const DescribeServicesRequest& request) {
  if (request.max_keys < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("maxKeys must not be negative, got {}", request.max_keys));
  }
  util::JsonObjectWriter writer;
  if (!request.marker.empty()) writer.string("marker", request.marker);
  if (request.max_keys > 0) writer.integer("maxKeys", request.max_keys);
  if (!request.name.empty()) writer.string("name", request.name);
  if (!request.run_status.empty()) writer.string_array("runStatus", request.run_status);
  return call<ServicePage>(model::QianfanAction::DescribeServices, request.marker,
                           std::move(writer).finish(), detail::decode_describe_services);
}

// ScaleService sets an absolute replica count, so sending it again after a timeout or a 5xx
// cannot scale twice: retrying it is as safe as retrying a read.
Result<Ack> QianfanClientImpl::scale_service(const ScaleServiceRequest& request) {
  if (auto s = require_id("serviceId", request.service.value); !s)
    return fail(std::move(s).error());
  if (auto s = require_id("instanceId", request.instance.value); !s) {
    return fail(std::move(s).error());
  }
  if (request.replicas.value < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("deploymentReplicasCount must not be negative, got {}",
                            request.replicas.value));
  }
  auto body = util::JsonObjectWriter{}
                  .string("serviceId", request.service.value)
                  .string("instanceId", request.instance.value)
                  .integer("deploymentReplicasCount", request.replicas.value)
                  .finish();
  return call<Ack>(
      model::QianfanAction::ScaleService,
      fmt::format("{} on {} to {}", request.service, request.instance, request.replicas),
      std::move(body),
      [](const http::Response& r, util::SystemTime now) {
        return detail::decode_ack(r, "ScaleService", now);
      },
      request.fencing_token);
}

// ModifyService names the target version absolutely, so a retry is idempotent too.
Result<Ack> QianfanClientImpl::modify_service(const ModifyServiceRequest& request) {
  if (auto s = require_id("serviceId", request.service.value); !s)
    return fail(std::move(s).error());
  if (auto s = require_id("modelSetId", request.model_set_id); !s)
    return fail(std::move(s).error());
  if (auto s = require_id("modelId", request.model_id); !s) return fail(std::move(s).error());
  auto body = util::JsonObjectWriter{}
                  .string("serviceId", request.service.value)
                  .string("modelSetId", request.model_set_id)
                  .string("modelId", request.model_id)
                  .finish();
  return call<Ack>(
      model::QianfanAction::ModifyService, request.service.value, std::move(body),
      [](const http::Response& r, util::SystemTime now) {
        return detail::decode_ack(r, "ModifyService", now);
      },
      request.fencing_token);
}

Result<ComputeUnitInfo> QianfanClientImpl::describe_compute_unit(
    const model::InstanceId& instance) {
  if (auto s = require_id("instanceId", instance.value); !s) return fail(std::move(s).error());
  auto body = util::JsonObjectWriter{}.string("instanceId", instance.value).finish();
  return call<ComputeUnitInfo>(model::QianfanAction::DescribeComputeUnit, instance.value,
                               std::move(body), detail::decode_describe_compute_unit);
}

Result<ServiceMetrics> QianfanClientImpl::describe_service_metric(
    const DescribeServiceMetricRequest& request) {
  if (request.services.empty()) {
    return fail(ErrorCode::InvalidInput, "DescribeServiceMetric needs at least one serviceId");
  }
  std::vector<std::string> ids;
  for (const auto& id : request.services) {
    if (auto s = require_id("serviceIds[]", id.value); !s) return fail(std::move(s).error());
    ids.push_back(id.value);
  }
  const auto start = std::chrono::floor<std::chrono::seconds>(request.start);
  const auto end = std::chrono::floor<std::chrono::seconds>(request.end);
  if (end <= start) {
    return fail(ErrorCode::InvalidInput, "DescribeServiceMetric endTime must be after startTime");
  }
  auto body = util::JsonObjectWriter{}
                  .string_array("serviceIds", ids)
                  .string("startTime", bce::format_timestamp(start))
                  .string("endTime", bce::format_timestamp(end))
                  .finish();
  return call<ServiceMetrics>(model::QianfanAction::DescribeServiceMetric, "", std::move(body),
                              detail::decode_describe_service_metric);
}

Result<std::unique_ptr<QianfanApi>> make_qianfan_client(ClientConfig config, http::Client& http,
                                                        const util::Clock& clock,
                                                        util::Random& random, SleepFunction sleep) {
  if (config.credentials.access_key.empty() || config.credentials.secret_key.empty()) {
    return fail(ErrorCode::InvalidInput,
                "Qianfan credentials are missing: set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY");
  }
  auto base = resolve_base_url(config.base_url);
  if (!base) return fail(std::move(base).error());
  return std::make_unique<QianfanClientImpl>(std::move(config), std::move(*base), http, clock,
                                             random, std::move(sleep));
}

}  // namespace qfscale::qianfan
