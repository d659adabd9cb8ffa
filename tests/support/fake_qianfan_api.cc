#include "support/fake_qianfan_api.h"

#include <fmt/format.h>

namespace qfscale::testing {

std::string_view to_string(QianfanAction action) {
  switch (action) {
    case QianfanAction::DescribeService:
      return "DescribeService";
    case QianfanAction::DescribeServices:
      return "DescribeServices";
    case QianfanAction::ScaleService:
      return "ScaleService";
    case QianfanAction::ModifyService:
      return "ModifyService";
    case QianfanAction::DescribeComputeUnit:
      return "DescribeComputeUnit";
    case QianfanAction::DescribeServiceMetric:
      return "DescribeServiceMetric";
  }
  return "Unknown";
}

void FakeQianfanApi::add_service(qianfan::ServiceInfo service) {
  const std::lock_guard lock(mutex_);
  const auto id = service.service_id;
  services_[id] = std::move(service);
  refresh_replicas(id);
}

void FakeQianfanApi::update_service(const model::ServiceId& id,
                                    const std::function<void(qianfan::ServiceInfo&)>& f) {
  const std::lock_guard lock(mutex_);
  if (auto it = services_.find(id); it != services_.end()) f(it->second);
}

void FakeQianfanApi::add_instance(const model::InstanceId& id, model::ComputeUnits capacity) {
  const std::lock_guard lock(mutex_);
  instances_[id].capacity = capacity;
}

void FakeQianfanApi::set_unlisted(const model::InstanceId& id, model::ComputeUnits units) {
  const std::lock_guard lock(mutex_);
  instances_[id].unlisted = units;
}

void FakeQianfanApi::place(const model::ServiceId& service, const model::InstanceId& instance,
                           model::Replicas replicas) {
  const std::lock_guard lock(mutex_);
  instances_[instance].placements[service] = replicas;
  refresh_replicas(service);
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
  const std::lock_guard lock(mutex_);
  const auto it = instances_.find(instance);
  if (it == instances_.end()) return {};
  const auto p = it->second.placements.find(service);
  return p == it->second.placements.end() ? model::Replicas{} : p->second;
}

model::ComputeUnits FakeQianfanApi::free_units(const model::InstanceId& instance) const {
  const std::lock_guard lock(mutex_);
  const auto it = instances_.find(instance);
  if (it == instances_.end()) return {};
  return it->second.capacity - used_units(it->second, nullptr);
}

std::optional<qianfan::ServiceInfo> FakeQianfanApi::service(const model::ServiceId& id) const {
  const std::lock_guard lock(mutex_);
  const auto it = services_.find(id);
  if (it == services_.end()) return std::nullopt;
  return it->second;
}

std::optional<Error> FakeQianfanApi::take_fault(QianfanAction action, const std::string& subject) {
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

Error FakeQianfanApi::remote(std::string_view code, std::string message, int http_status) {
  Error e = util::make_error(ErrorCode::Remote, std::move(message));
  e.remote_code = std::string(code);
  e.http_status = http_status;
  e.request_id = fmt::format("fake-req-{}", next_request_++);
  return e;
}

void FakeQianfanApi::record(QianfanAction action, std::string subject,
                            std::optional<qianfan::ScaleServiceRequest> scale) {
  calls_.push_back(FakeCall{.action = action, .subject = std::move(subject), .scale = scale});
}

model::ComputeUnits FakeQianfanApi::used_units(const Instance& instance,
                                               const model::ServiceId* except) const {
  model::ComputeUnits used = instance.unlisted;
  for (const auto& [service, replicas] : instance.placements) {
    if (except != nullptr && service == *except) continue;
    const auto s = services_.find(service);
    if (s == services_.end()) continue;
    const auto per = model::units_per_replica(s->second.resource_config.type);
    if (per) used += replicas * *per;
  }
  return used;
}

void FakeQianfanApi::refresh_replicas(const model::ServiceId& service) {
  const auto s = services_.find(service);
  if (s == services_.end()) return;
  model::Replicas total;
  for (const auto& [id, instance] : instances_) {
    if (const auto p = instance.placements.find(service); p != instance.placements.end()) {
      total += p->second;
    }
  }
  s->second.resource_config.replicas = total;
}

Result<qianfan::ServiceInfo> FakeQianfanApi::describe_service(const model::ServiceId& service) {
  const std::lock_guard lock(mutex_);
  record(QianfanAction::DescribeService, service.value);
  if (auto fault = take_fault(QianfanAction::DescribeService, service.value)) {
    return fail(std::move(*fault));
  }
  const auto it = services_.find(service);
  if (it == services_.end()) {
    return fail(remote(kNotFound, fmt::format("service {} not found", service), 404));
  }
  return it->second;
}

Result<qianfan::ServicePage> FakeQianfanApi::describe_services(
    const qianfan::DescribeServicesRequest& request) {
  const std::lock_guard lock(mutex_);
  record(QianfanAction::DescribeServices, "");
  if (auto fault = take_fault(QianfanAction::DescribeServices)) return fail(std::move(*fault));
  // Marker = the first service id of the page, in id order.
  const std::size_t max_keys =
      request.max_keys > 0 ? static_cast<std::size_t>(std::min(request.max_keys, 100)) : 10;
  qianfan::ServicePage page;
  auto it = request.marker.empty() ? services_.begin()
                                   : services_.lower_bound(model::ServiceId{request.marker});
  for (; it != services_.end() && page.services.size() < max_keys; ++it) {
    page.services.push_back(it->second);
  }
  if (it != services_.end()) {
    page.is_truncated = true;
    page.next_marker = it->first.value;
  }
  return page;
}

Result<qianfan::Ack> FakeQianfanApi::scale_service(const qianfan::ScaleServiceRequest& request) {
  const std::lock_guard lock(mutex_);
  record(QianfanAction::ScaleService, request.service.value, request);
  if (auto fault = take_fault(QianfanAction::ScaleService, request.service.value)) {
    return fail(std::move(*fault));
  }
  const auto s = services_.find(request.service);
  if (s == services_.end()) {
    return fail(remote(kNotFound, fmt::format("service {} not found", request.service), 404));
  }
  const auto inst = instances_.find(request.instance);
  if (inst == instances_.end()) {
    return fail(remote(kNotFound, fmt::format("instance {} not found", request.instance), 404));
  }
  if (request.replicas.value < 0) {
    return fail(remote(kInvalidParameter, "deploymentReplicasCount must not be negative", 400));
  }
  const auto per = model::units_per_replica(s->second.resource_config.type);
  if (!per) {
    return fail(remote(
        kInvalidParameter,
        fmt::format("resource type {} has no unit count", s->second.resource_config.type), 400));
  }
  const auto wanted = request.replicas * *per;
  const auto available = inst->second.capacity - used_units(inst->second, &request.service);
  if (wanted > available) {
    return fail(
        remote(kInsufficientCapacity,
               fmt::format("{} replicas x {} units = {} units exceed the {} units left on {}",
                           request.replicas, *per, wanted, available, request.instance),
               400));
  }
  // The total moves by this instance's change alone: no walk over every instance, so a tick of
  // 1,000 ScaleService calls stays cheap.
  auto& placements = inst->second.placements;
  const auto old = placements.find(request.service);
  s->second.resource_config.replicas +=
      request.replicas - (old == placements.end() ? model::Replicas{} : old->second);
  if (request.replicas.value == 0) {
    if (old != placements.end()) placements.erase(old);
  } else {
    placements[request.service] = request.replicas;
  }
  return qianfan::Ack{.request_id = fmt::format("fake-req-{}", next_request_++)};
}

Result<qianfan::Ack> FakeQianfanApi::modify_service(const qianfan::ModifyServiceRequest& request) {
  const std::lock_guard lock(mutex_);
  record(QianfanAction::ModifyService, request.service.value);
  if (auto fault = take_fault(QianfanAction::ModifyService)) return fail(std::move(*fault));
  const auto s = services_.find(request.service);
  if (s == services_.end()) {
    return fail(remote(kNotFound, fmt::format("service {} not found", request.service), 404));
  }
  s->second.model_set_id = request.model_set_id;
  s->second.model_id = request.model_id;
  s->second.is_model_updating = true;  // until a test calls update_service to finish it
  return qianfan::Ack{.request_id = fmt::format("fake-req-{}", next_request_++)};
}

Result<qianfan::ComputeUnitInfo> FakeQianfanApi::describe_compute_unit(
    const model::InstanceId& instance) {
  const std::lock_guard lock(mutex_);
  record(QianfanAction::DescribeComputeUnit, instance.value);
  if (auto fault = take_fault(QianfanAction::DescribeComputeUnit, instance.value)) {
    return fail(std::move(*fault));
  }
  const auto it = instances_.find(instance);
  if (it == instances_.end()) {
    return fail(remote(kNotFound, fmt::format("instance {} not found", instance), 404));
  }
  qianfan::ComputeUnitInfo info;
  info.instance = qianfan::ComputeUnitInstance{.instance_id = instance,
                                               .region = "bj",
                                               .type = "gpu-1",
                                               .status = "Running",
                                               .compute_unit_count = it->second.capacity};
  for (const auto& [service, replicas] : it->second.placements) {
    const auto s = services_.find(service);
    const auto per = s == services_.end()
                         ? std::nullopt
                         : model::units_per_replica(s->second.resource_config.type);
    info.usage.push_back(
        qianfan::ServiceUsage{.service_id = service,
                              .deployment_replicas_count = replicas,
                              .compute_unit_count = per ? replicas * *per : model::ComputeUnits{}});
  }
  return info;
}

Result<qianfan::ServiceMetrics> FakeQianfanApi::describe_service_metric(
    const qianfan::DescribeServiceMetricRequest& request) {
  const std::lock_guard lock(mutex_);
  record(QianfanAction::DescribeServiceMetric, "");
  if (auto fault = take_fault(QianfanAction::DescribeServiceMetric)) {
    return fail(std::move(*fault));
  }
  qianfan::ServiceMetrics out;
  for (const auto& id : request.services) {
    const auto s = services_.find(id);
    if (s == services_.end()) continue;
    const auto calls = call_totals_.contains(id) ? call_totals_.at(id) : 0;
    out.services.push_back(qianfan::ServiceMetric{
        .service_id = id,
        .service_name = s->second.name,
        .apps = {qianfan::AppMetric{
            .app_id = 1, .metric = {.succeed_call_total = calls, .call_total = calls}}}});
  }
  return out;
}

}  // namespace qfscale::testing
