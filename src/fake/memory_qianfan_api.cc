#include "qfscale/fake/memory_qianfan_api.h"

#include <algorithm>

#include <fmt/format.h>

#include "qfscale/bce/signer.h"
#include "qfscale/qianfan/errors.h"

namespace qfscale::fake {
namespace {

constexpr int kMaxKeys = 100;
constexpr int kDefaultMaxKeys = 10;

std::int64_t epoch_second(util::SystemTime t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

}  // namespace

qianfan::ServiceInfo to_service_info(const ServiceStatus& status) {
  const auto& spec = status.spec;
  qianfan::ServiceInfo info;
  info.service_id = spec.id;
  info.base_model = spec.base_model;
  info.model_set_id = spec.model_set_id;
  info.model_id = spec.model_id;
  info.name = spec.name;
  info.description = fmt::format("{} (qfscale fake)", spec.name);
  info.url = spec.url;
  info.service_type = spec.service_type;
  info.run_status = status.run_status;
  info.run_status_text = std::string(model::to_string(status.run_status));
  info.charge_type = "ComputingUnit";
  info.pay_type = "Postpay";
  info.charge_status = "NORMAL";
  info.resource_config = {
      .region = spec.region, .type = spec.type, .replicas = status.replicas, .qps = spec.qps};
  info.is_model_updating = status.model_updating;
  info.creator = "qfscale-fake";
  info.create_time =
      bce::format_timestamp(std::chrono::floor<std::chrono::seconds>(status.created));
  return info;
}

MemoryQianfanApi::MemoryQianfanApi(Cloud cloud, const util::Clock& clock, MemoryApiOptions options)
    : cloud_(std::move(cloud)), clock_(clock), options_(options) {}

std::string MemoryQianfanApi::next_request_id() { return fmt::format("fake-req-{}", ++requests_); }

Error MemoryQianfanApi::refused(const Refusal& refusal) {
  const int status = http_status(refusal.kind);
  const auto code = error_code(refusal.kind);
  Error error = util::make_error(qianfan::classify(status, code), to_message(refusal));
  error.remote_code = std::string(code);
  error.http_status = status;
  error.request_id = next_request_id();
  return error;
}

Result<qianfan::ServiceInfo> MemoryQianfanApi::describe_service(const model::ServiceId& service) {
  const std::lock_guard lock(mutex_);
  auto status = cloud_.service(service.value, clock_.system_now());
  if (!status) return fail(refused(status.error()));
  return to_service_info(*status);
}

Result<qianfan::ServicePage> MemoryQianfanApi::describe_services(
    const qianfan::DescribeServicesRequest& request) {
  ServiceQuery query{
      .marker = request.marker,
      .max_keys = request.max_keys > 0 ? std::min(request.max_keys, kMaxKeys) : kDefaultMaxKeys,
      .name = request.name};
  for (const auto& text : request.run_status) {
    const auto status = model::parse_run_status(text);
    if (status == model::RunStatus::Unknown) {
      return fail(ErrorCode::InvalidInput, fmt::format("unknown runStatus '{}'", text));
    }
    query.run_status.push_back(status);
  }
  const std::lock_guard lock(mutex_);
  auto page = cloud_.services(query, clock_.system_now());
  qianfan::ServicePage out{.is_truncated = !page.next_marker.empty(),
                           .next_marker = std::move(page.next_marker)};
  out.services.reserve(page.services.size());
  for (const auto& s : page.services) out.services.push_back(to_service_info(s));
  return out;
}

Result<qianfan::Ack> MemoryQianfanApi::scale_service(const qianfan::ScaleServiceRequest& request) {
  const std::lock_guard lock(mutex_);
  auto scaled = cloud_.scale(request.service.value, request.instance.value, request.replicas,
                             clock_.system_now());
  if (!scaled) return fail(refused(scaled.error()));
  return qianfan::Ack{.request_id = next_request_id()};
}

Result<qianfan::Ack> MemoryQianfanApi::modify_service(
    const qianfan::ModifyServiceRequest& request) {
  const std::lock_guard lock(mutex_);
  auto update = cloud_.modify(request.service.value, request.model_set_id, request.model_id,
                              clock_.system_now());
  if (!update) return fail(refused(update.error()));
  return qianfan::Ack{.request_id = next_request_id()};
}

Result<qianfan::ComputeUnitInfo> MemoryQianfanApi::describe_compute_unit(
    const model::InstanceId& instance) {
  const std::lock_guard lock(mutex_);
  auto status = cloud_.instance(instance.value);
  if (!status) return fail(refused(status.error()));
  const auto& spec = status->spec;
  qianfan::ComputeUnitInfo info{.instance = {.instance_id = spec.id,
                                             .region = spec.region,
                                             .type = spec.type,
                                             .status = spec.status,
                                             .compute_unit_count = spec.capacity}};
  if (options_.report_available_units) {
    info.instance.available_compute_unit_count = status->available();
  }
  info.usage.reserve(status->usage.size());
  for (const auto& u : status->usage) {
    info.usage.push_back(qianfan::ServiceUsage{.service_id = u.service,
                                               .deployment_replicas_count = u.replicas,
                                               .compute_unit_count = u.units});
  }
  return info;
}

Result<qianfan::ServiceMetrics> MemoryQianfanApi::describe_service_metric(
    const qianfan::DescribeServiceMetricRequest& request) {
  const std::lock_guard lock(mutex_);
  qianfan::ServiceMetrics out{
      .start_time = bce::format_timestamp(std::chrono::floor<std::chrono::seconds>(request.start)),
      .end_time = bce::format_timestamp(std::chrono::floor<std::chrono::seconds>(request.end))};
  for (const auto& id : request.services) {
    const auto counts =
        cloud_.calls(id.value, epoch_second(request.start), epoch_second(request.end));
    if (!counts) return fail(refused(counts.error()));
    const auto served = static_cast<std::int64_t>(counts->served);
    const auto rejected = static_cast<std::int64_t>(counts->rejected);
    out.services.push_back(qianfan::ServiceMetric{
        .service_id = id,
        .service_name = cloud_.service(id.value, util::SystemTime{})->spec.name,
        .apps = {qianfan::AppMetric{.app_id = 1,
                                    .metric = {.succeed_call_total = served,
                                               .failure_call_total = rejected,
                                               .call_total = served + rejected}}}});
  }
  return out;
}

}  // namespace qfscale::fake
