#include "support/fake_qianfan_api.h"

namespace qfscale::testing {
namespace {

/// 2024-01-01T00:00:00Z.
const util::SystemTime kStart{std::chrono::seconds{1'704'067'200}};

fake::Cloud ready_at_once() {
  return fake::Cloud({}, {}, fake::CloudTimings{.startup_delay = std::chrono::milliseconds{0}},
                     kStart);
}

}  // namespace

FakeQianfanApi::FakeQianfanApi()
    : own_clock_(kStart), api_(ready_at_once(), own_clock_, {.report_available_units = false}) {}

FakeQianfanApi::FakeQianfanApi(const util::Clock& clock)
    : own_clock_(kStart), api_(ready_at_once(), clock, {.report_available_units = false}) {}

void FakeQianfanApi::add_service(const qianfan::ServiceInfo& service) {
  fake::ServiceSpec spec{.id = service.service_id,
                         .name = service.name,
                         .type = service.resource_config.type,
                         .qps = service.resource_config.qps,
                         .region = service.resource_config.region};
  if (!service.service_type.empty()) spec.service_type = service.service_type;
  if (!service.model_set_id.empty()) spec.model_set_id = service.model_set_id;
  if (!service.model_id.empty()) spec.model_id = service.model_id;
  if (service.run_status != model::RunStatus::Serving &&
      service.run_status != model::RunStatus::Unknown) {
    spec.run_status = service.run_status;
  }
  const auto now = api_.now();
  api_.with_cloud([&](fake::Cloud& cloud) { cloud.add_service(std::move(spec), now); });
}

void FakeQianfanApi::update_service(const model::ServiceId& id,
                                    std::function<void(qianfan::ServiceInfo&)> f) {
  const std::lock_guard lock(mutex_);
  auto& patch = patches_[id];
  if (!patch) {
    patch = std::move(f);
    return;
  }
  patch = [first = std::move(patch), then = std::move(f)](qianfan::ServiceInfo& info) {
    first(info);
    then(info);
  };
}

void FakeQianfanApi::add_instance(const model::InstanceId& id, model::ComputeUnits capacity) {
  api_.with_cloud([&](fake::Cloud& cloud) {
    cloud.add_instance(fake::InstanceSpec{.id = id, .type = "any", .capacity = capacity});
  });
}

void FakeQianfanApi::set_unlisted(const model::InstanceId& id, model::ComputeUnits units) {
  api_.with_cloud([&](fake::Cloud& cloud) { return cloud.set_hidden_units(id, units); });
}

void FakeQianfanApi::place(const model::ServiceId& service, const model::InstanceId& instance,
                           model::Replicas replicas) {
  const auto now = api_.now();
  api_.with_cloud(
      [&](fake::Cloud& cloud) { return cloud.place(service, instance, replicas, now); });
  const std::lock_guard lock(mutex_);
  patches_.erase(service);
}

void FakeQianfanApi::set_call_total(const model::ServiceId& service, std::int64_t calls) {
  const std::lock_guard lock(mutex_);
  call_totals_[service] = calls;
}

void FakeQianfanApi::fail_next(QianfanAction action, Error error, int times) {
  const std::lock_guard lock(mutex_);
  faults_[action] = Fault{.error = std::move(error), .remaining = times};
}

void FakeQianfanApi::fail_next_for(QianfanAction action, std::string subject, Error error,
                                   int times) {
  const std::lock_guard lock(mutex_);
  subject_faults_[{action, std::move(subject)}] =
      Fault{.error = std::move(error), .remaining = times};
}

std::vector<FakeCall> FakeQianfanApi::calls() const {
  const std::lock_guard lock(mutex_);
  return calls_;
}

std::size_t FakeQianfanApi::count(QianfanAction action) const {
  const std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& c : calls_) n += c.action == action ? 1 : 0;
  return n;
}

model::Replicas FakeQianfanApi::replicas(const model::ServiceId& service,
                                         const model::InstanceId& instance) const {
  return api_.with_cloud([&](const fake::Cloud& cloud) {
    const auto status = cloud.instance(instance.value);
    if (!status) return model::Replicas{};
    for (const auto& u : status->usage) {
      if (u.service == service) return u.replicas;
    }
    return model::Replicas{};
  });
}

model::ComputeUnits FakeQianfanApi::free_units(const model::InstanceId& instance) const {
  return api_.with_cloud([&](const fake::Cloud& cloud) {
    const auto status = cloud.instance(instance.value);
    return status ? status->available() : model::ComputeUnits{};
  });
}

std::optional<qianfan::ServiceInfo> FakeQianfanApi::service(const model::ServiceId& id) {
  auto info = api_.describe_service(id);
  if (!info) return std::nullopt;
  patch(*info);
  return *info;
}

std::optional<Error> FakeQianfanApi::enter(QianfanAction action, const std::string& subject,
                                           std::optional<qianfan::ScaleServiceRequest> scale) {
  const std::lock_guard lock(mutex_);
  calls_.push_back(FakeCall{.action = action, .subject = subject, .scale = std::move(scale)});
  if (!subject.empty()) {
    const auto it = subject_faults_.find({action, subject});
    if (it != subject_faults_.end() && it->second.remaining > 0) {
      --it->second.remaining;
      return it->second.error;
    }
  }
  const auto it = faults_.find(action);
  if (it == faults_.end() || it->second.remaining <= 0) return std::nullopt;
  --it->second.remaining;
  return it->second.error;
}

void FakeQianfanApi::patch(qianfan::ServiceInfo& info) const {
  const std::lock_guard lock(mutex_);
  if (const auto it = patches_.find(info.service_id); it != patches_.end()) it->second(info);
}

Result<qianfan::ServiceInfo> FakeQianfanApi::describe_service(const model::ServiceId& service) {
  if (auto fault = enter(QianfanAction::DescribeService, service.value)) {
    return fail(std::move(*fault));
  }
  auto info = api_.describe_service(service);
  if (info) patch(*info);
  return info;
}

Result<qianfan::ServicePage> FakeQianfanApi::describe_services(
    const qianfan::DescribeServicesRequest& request) {
  if (auto fault = enter(QianfanAction::DescribeServices, "")) return fail(std::move(*fault));
  auto page = api_.describe_services(request);
  if (page) {
    for (auto& info : page->services) patch(info);
  }
  return page;
}

Result<qianfan::Ack> FakeQianfanApi::scale_service(const qianfan::ScaleServiceRequest& request) {
  if (auto fault = enter(QianfanAction::ScaleService, request.service.value, request)) {
    return fail(std::move(*fault));
  }
  return api_.scale_service(request);
}

Result<qianfan::Ack> FakeQianfanApi::modify_service(const qianfan::ModifyServiceRequest& request) {
  if (auto fault = enter(QianfanAction::ModifyService, request.service.value)) {
    return fail(std::move(*fault));
  }
  return api_.modify_service(request);
}

Result<qianfan::ComputeUnitInfo> FakeQianfanApi::describe_compute_unit(
    const model::InstanceId& instance) {
  if (auto fault = enter(QianfanAction::DescribeComputeUnit, instance.value)) {
    return fail(std::move(*fault));
  }
  return api_.describe_compute_unit(instance);
}

Result<qianfan::ServiceMetrics> FakeQianfanApi::describe_service_metric(
    const qianfan::DescribeServiceMetricRequest& request) {
  if (auto fault = enter(QianfanAction::DescribeServiceMetric, "")) return fail(std::move(*fault));
  // Unknown services are left out of the reply (as a console may do), not refused.
  auto known = request;
  std::erase_if(known.services, [&](const model::ServiceId& id) {
    return api_.with_cloud(
        [&](const fake::Cloud& cloud) { return !cloud.service(id.value, {}).has_value(); });
  });
  auto metrics = api_.describe_service_metric(known);
  if (!metrics) return metrics;
  const std::lock_guard lock(mutex_);
  for (auto& service : metrics->services) {
    const auto it = call_totals_.find(service.service_id);
    if (it == call_totals_.end()) continue;
    service.apps = {qianfan::AppMetric{
        .app_id = 1, .metric = {.succeed_call_total = it->second, .call_total = it->second}}};
  }
  return metrics;
}

}  // namespace qfscale::testing
