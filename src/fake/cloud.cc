#include "qfscale/fake/cloud.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace qfscale::fake {
namespace {

using util::SystemTime;

constexpr std::int64_t kTrafficRetentionSeconds = 24 * 3600;

std::int64_t epoch_second(SystemTime t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

SystemTime::duration since(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<SystemTime::duration>(d);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool contains_ignore_case(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char a, char b) { return lower(a) == lower(b); }) != haystack.end();
}

tl::unexpected<Refusal> refuse(RefusalKind kind, std::string_view subject) {
  return tl::unexpected(Refusal{.kind = kind, .subject = std::string(subject)});
}

}  // namespace

std::string_view error_code(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::ServiceNotFound:
    case RefusalKind::InstanceNotFound:
      return "ResourceNotFound";
    case RefusalKind::ResourceTypeMismatch:
      return "ResourceTypeMismatch";
    case RefusalKind::InsufficientComputeUnits:
      return "InsufficientComputeUnits";
    case RefusalKind::ModelUpdateInProgress:
      return "ModelUpdateInProgress";
    case RefusalKind::InvalidReplicaCount:
      return "InappropriateJSON";
  }
  return "InternalError";
}

int http_status(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::ServiceNotFound:
    case RefusalKind::InstanceNotFound:
      return 404;
    case RefusalKind::ModelUpdateInProgress:
      return 409;
    case RefusalKind::ResourceTypeMismatch:
    case RefusalKind::InsufficientComputeUnits:
    case RefusalKind::InvalidReplicaCount:
      return 400;
  }
  return 500;
}

std::string to_message(const Refusal& r) {
  switch (r.kind) {
    case RefusalKind::ServiceNotFound:
      return fmt::format("service '{}' does not exist; DescribeServices lists the services",
                         r.subject);
    case RefusalKind::InstanceNotFound:
      return fmt::format("compute-unit instance '{}' does not exist", r.subject);
    case RefusalKind::ResourceTypeMismatch:
      return fmt::format(
          "service {} cannot run on instance {}: {}. Scale it on an instance of its own kind",
          r.subject, r.instance, r.mismatch);
    case RefusalKind::InsufficientComputeUnits:
      return fmt::format(
          "instance {} has {} compute units left; {} replicas of {} need {} (capacity {}, used by "
          "other services and foreign usage {}). Ask for at most {} replicas here, or free "
          "compute units on the instance first",
          r.instance, r.left.value, r.asked.value, r.service_type, r.need.value, r.capacity.value,
          r.held_elsewhere.value, r.fit.value);
    case RefusalKind::ModelUpdateInProgress:
      return fmt::format(
          "service {} is still updating to {} / {} for another {} ms; retry once DescribeService "
          "reports isModelUpdating false",
          r.subject, r.pending_model_set_id, r.pending_model_id, r.remaining.count());
    case RefusalKind::InvalidReplicaCount:
      return fmt::format("field 'deploymentReplicasCount' must be 0 or more, got {}",
                         r.asked.value);
  }
  return "refused";
}

Cloud::Cloud(std::vector<InstanceSpec> instances, std::vector<ServiceSpec> services,
             CloudTimings timings, SystemTime now)
    : timings_(timings) {
  for (auto& instance : instances) add_instance(std::move(instance));
  for (auto& service : services) add_service(std::move(service), now);
}

void Cloud::add_instance(InstanceSpec spec) {
  auto& instance = instances_[spec.id.value];
  instance.spec = std::move(spec);
}

void Cloud::add_service(ServiceSpec spec, SystemTime now) {
  const std::string id = spec.id.value;
  if (auto old = services_.find(id); old != services_.end()) {
    for (auto& [instance_id, ready] : old->second.replicas) {
      if (auto it = instances_.find(instance_id); it != instances_.end()) it->second.held.erase(id);
    }
    services_.erase(old);
  }
  Service service;
  service.units_per_replica =
      model::units_per_replica(spec.type).value_or(model::ComputeUnits{1}).value;
  service.created = now;
  if (spec.url.empty()) spec.url = fmt::format("http://qianfan.fake/traffic/{}", id);
  const auto deployments = std::move(spec.deployments);
  spec.deployments.clear();
  service.spec = std::move(spec);
  services_.emplace(id, std::move(service));
  for (const auto& d : deployments) place(model::ServiceId{id}, d.instance, d.replicas, now);
}

bool Cloud::set_hidden_units(const model::InstanceId& instance, model::ComputeUnits units) {
  auto it = instances_.find(instance.value);
  if (it == instances_.end()) return false;
  it->second.spec.foreign_usage = units;
  return true;
}

bool Cloud::place(const model::ServiceId& service, const model::InstanceId& instance,
                  model::Replicas replicas, SystemTime now) {
  auto s = services_.find(service.value);
  auto i = instances_.find(instance.value);
  if (s == services_.end() || i == instances_.end() || replicas.value < 0) return false;
  auto& ready = s->second.replicas[instance.value];
  ready.assign(static_cast<std::size_t>(replicas.value), now);
  set_replicas(s->second, i->second, ready.size(), now);
  return true;
}

bool Cloud::set_run_status(const model::ServiceId& service,
                           std::optional<model::RunStatus> status) {
  auto it = services_.find(service.value);
  if (it == services_.end()) return false;
  it->second.spec.run_status = status;
  return true;
}

void Cloud::set_replicas(Service& service, Instance& instance, std::size_t count,
                         SystemTime ready_at) {
  auto& ready = service.replicas[instance.spec.id.value];
  // Growth starts now and is ready at `ready_at`; shrinking drops replicas still starting (at
  // the back) first.
  ready.resize(count, ready_at);
  if (ready.empty()) {
    service.replicas.erase(instance.spec.id.value);
    instance.held.erase(service.spec.id.value);
  } else {
    instance.held[service.spec.id.value] = static_cast<int>(ready.size());
  }
}

void Cloud::settle(Service& service, SystemTime now) {
  if (service.pending_model && now >= service.pending_model->done_at) {
    service.spec.model_set_id = std::move(service.pending_model->model_set_id);
    service.spec.model_id = std::move(service.pending_model->model_id);
    service.pending_model.reset();
  }
}

std::int64_t Cloud::units_held(const Instance& instance, const Service* except) const {
  std::int64_t used = instance.spec.foreign_usage.value;
  for (const auto& [id, replicas] : instance.held) {
    const auto it = services_.find(id);
    if (it == services_.end() || &it->second == except) continue;
    used += std::int64_t{replicas} * it->second.units_per_replica;
  }
  return used;
}

ServiceStatus Cloud::status(const Service& service, SystemTime now) const {
  ServiceStatus out{.spec = service.spec, .created = service.created};
  if (const auto& pending = service.pending_model) {
    if (now >= pending->done_at) {
      out.spec.model_set_id = pending->model_set_id;
      out.spec.model_id = pending->model_id;
    } else {
      out.model_updating = true;
    }
  }
  for (const auto& [instance, ready] : service.replicas) {
    out.replicas.value += static_cast<int>(ready.size());
    out.ready.value += static_cast<int>(
        std::count_if(ready.begin(), ready.end(), [&](SystemTime t) { return t <= now; }));
    out.spec.deployments.push_back(
        Deployment{.instance = model::InstanceId{instance},
                   .replicas = model::Replicas{static_cast<int>(ready.size())}});
  }
  // Deploying only while nothing is ready: a service that reported Deploying during every
  // scale-up would be frozen mid-scale-up by a controller that freezes what is not Serving.
  if (service.spec.run_status) {
    out.run_status = *service.spec.run_status;
  } else if (out.replicas.value > 0 && out.ready.value == 0) {
    out.run_status = model::RunStatus::Deploying;
  }
  return out;
}

CloudResult<ServiceStatus> Cloud::service(std::string_view id, SystemTime now) const {
  const auto it = services_.find(id);
  if (it == services_.end()) return refuse(RefusalKind::ServiceNotFound, id);
  return status(it->second, now);
}

ServicePage Cloud::services(const ServiceQuery& query, SystemTime now) const {
  std::vector<ServiceStatus> matching;
  for (const auto& [id, service] : services_) {
    if (!contains_ignore_case(service.spec.name, query.name)) continue;
    const auto& types = query.service_type;
    if (!types.empty() &&
        std::find(types.begin(), types.end(), service.spec.service_type) == types.end()) {
      continue;
    }
    auto s = status(service, now);
    const auto& statuses = query.run_status;
    if (!statuses.empty() &&
        std::find(statuses.begin(), statuses.end(), s.run_status) == statuses.end()) {
      continue;
    }
    matching.push_back(std::move(s));
  }
  if (query.reverse) std::reverse(matching.begin(), matching.end());
  auto start = matching.begin();
  if (!query.marker.empty()) {
    start = std::find_if(matching.begin(), matching.end(), [&](const ServiceStatus& s) {
      return query.reverse ? s.spec.id.value <= query.marker : s.spec.id.value >= query.marker;
    });
  }
  const auto remaining = matching.end() - start;
  const auto take = std::min<std::ptrdiff_t>(remaining, std::max(query.max_keys, 0));
  ServicePage page;
  if (remaining > take) page.next_marker = (start + take)->spec.id.value;
  page.services.assign(std::make_move_iterator(start), std::make_move_iterator(start + take));
  return page;
}

CloudResult<InstanceStatus> Cloud::instance(std::string_view id) const {
  const auto it = instances_.find(id);
  if (it == instances_.end()) return refuse(RefusalKind::InstanceNotFound, id);
  const Instance& instance = it->second;
  InstanceStatus out{.spec = instance.spec,
                     .used = model::ComputeUnits{static_cast<int>(units_held(instance, nullptr))}};
  for (const auto& [service_id, replicas] : instance.held) {
    const auto s = services_.find(service_id);
    if (s == services_.end()) continue;
    out.usage.push_back(
        UnitUsage{.service = model::ServiceId{service_id},
                  .replicas = model::Replicas{replicas},
                  .units = model::ComputeUnits{replicas * s->second.units_per_replica}});
  }
  return out;
}

CloudResult<Scaled> Cloud::scale(std::string_view service_id, std::string_view instance_id,
                                 model::Replicas replicas, SystemTime now) {
  const auto s = services_.find(service_id);
  if (s == services_.end()) return refuse(RefusalKind::ServiceNotFound, service_id);
  const auto i = instances_.find(instance_id);
  if (i == instances_.end()) return refuse(RefusalKind::InstanceNotFound, instance_id);
  Service& service = s->second;
  Instance& instance = i->second;
  Refusal refusal{
      .subject = service.spec.id.value, .instance = instance.spec.id.value, .asked = replicas};
  if (replicas.value < 0) {
    refusal.kind = RefusalKind::InvalidReplicaCount;
    return tl::unexpected(std::move(refusal));
  }
  if (auto mismatch = kind_mismatch(service.spec.type, instance.spec.type)) {
    refusal.kind = RefusalKind::ResourceTypeMismatch;
    refusal.mismatch = std::move(*mismatch);
    return tl::unexpected(std::move(refusal));
  }
  const std::int64_t left = instance.spec.capacity.value - units_held(instance, &service);
  const std::int64_t need = std::int64_t{replicas.value} * service.units_per_replica;
  if (need > left) {
    const auto left_or_zero = std::max<std::int64_t>(left, 0);
    refusal.kind = RefusalKind::InsufficientComputeUnits;
    refusal.service_type = service.spec.type;
    refusal.left = model::ComputeUnits{static_cast<int>(left_or_zero)};
    refusal.need = model::ComputeUnits{static_cast<int>(need)};
    refusal.capacity = instance.spec.capacity;
    refusal.held_elsewhere =
        model::ComputeUnits{static_cast<int>(instance.spec.capacity.value - left)};
    refusal.fit = model::Replicas{static_cast<int>(left_or_zero / service.units_per_replica)};
    return tl::unexpected(std::move(refusal));
  }
  const auto held = instance.held.find(service_id);
  const model::Replicas from{held == instance.held.end() ? 0 : held->second};
  set_replicas(service, instance, static_cast<std::size_t>(replicas.value),
               now + since(timings_.startup_delay));
  return Scaled{.from = from, .to = replicas};
}

CloudResult<SystemTime> Cloud::modify(std::string_view service_id, std::string model_set_id,
                                      std::string model_id, SystemTime now) {
  const auto it = services_.find(service_id);
  if (it == services_.end()) return refuse(RefusalKind::ServiceNotFound, service_id);
  Service& service = it->second;
  settle(service, now);
  // One update at a time: a second one is refused and the running one keeps its window.
  if (const auto& pending = service.pending_model) {
    return tl::unexpected(
        Refusal{.kind = RefusalKind::ModelUpdateInProgress,
                .subject = service.spec.id.value,
                .pending_model_set_id = pending->model_set_id,
                .pending_model_id = pending->model_id,
                .remaining = std::chrono::ceil<std::chrono::milliseconds>(pending->done_at - now)});
  }
  const SystemTime done_at = now + since(timings_.model_update_duration);
  service.pending_model = PendingModel{
      .model_set_id = std::move(model_set_id), .model_id = std::move(model_id), .done_at = done_at};
  settle(service, now);  // a zero-length window applies at once
  return done_at;
}

CloudResult<CallCounts> Cloud::calls(std::string_view service_id, std::int64_t from,
                                     std::int64_t to) const {
  const auto it = services_.find(service_id);
  if (it == services_.end()) return refuse(RefusalKind::ServiceNotFound, service_id);
  CallCounts out;
  for (const auto& second : it->second.traffic) {
    if (second.second >= from && second.second < to) {
      out.served += second.counts.served;
      out.rejected += second.counts.rejected;
    }
  }
  return out;
}

CloudResult<TrafficOutcome> Cloud::request(std::string_view service_id, SystemTime now) {
  const auto it = services_.find(service_id);
  if (it == services_.end()) return refuse(RefusalKind::ServiceNotFound, service_id);
  Service& service = it->second;
  const auto second = epoch_second(now);
  if (service.traffic.empty() || service.traffic.back().second != second) {
    service.traffic.push_back(TrafficSecond{.second = second});
    while (service.traffic.front().second < second - kTrafficRetentionSeconds) {
      service.traffic.pop_front();
    }
  }
  auto& counts = service.traffic.back().counts;
  const auto s = status(service, now);
  TrafficOutcome out{.ready = s.ready,
                     .replica_qps = service.spec.qps,
                     .capacity_per_second = capacity_per_second(service_id, now)};
  out.served = static_cast<std::int64_t>(counts.served) < out.capacity_per_second;
  ++(out.served ? counts.served : counts.rejected);
  ++(out.served ? service.totals.served : service.totals.rejected);
  out.served_total = service.totals.served;
  return out;
}

std::vector<std::string> Cloud::service_ids() const {
  std::vector<std::string> out;
  out.reserve(services_.size());
  for (const auto& [id, service] : services_) out.push_back(id);
  return out;
}

std::vector<InstanceStatus> Cloud::instances() const {
  std::vector<InstanceStatus> out;
  out.reserve(instances_.size());
  for (const auto& [id, instance] : instances_) out.push_back(*this->instance(id));
  return out;
}

CallCounts Cloud::call_totals(std::string_view service) const {
  const auto it = services_.find(service);
  return it == services_.end() ? CallCounts{} : it->second.totals;
}

std::int64_t Cloud::capacity_per_second(std::string_view service, SystemTime now) const {
  const auto it = services_.find(service);
  if (it == services_.end()) return 0;
  std::int64_t ready = 0;
  for (const auto& [instance, times] : it->second.replicas) {
    ready += std::count_if(times.begin(), times.end(), [&](SystemTime t) { return t <= now; });
  }
  return static_cast<std::int64_t>(
      std::floor(static_cast<double>(ready) * it->second.spec.qps + 1e-9));
}

std::optional<std::string_view> resource_kind(std::string_view type) {
  const auto starts_with = [type](std::string_view prefix) {
    if (type.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (lower(type[i]) != prefix[i]) return false;
    }
    return true;
  };
  if (starts_with("gpu")) return "GPU";
  if (starts_with("cpu")) return "CPU";
  return std::nullopt;
}

std::optional<std::string> kind_mismatch(std::string_view service_type,
                                         std::string_view instance_type) {
  const auto service_kind = resource_kind(service_type);
  const auto instance_kind = resource_kind(instance_type);
  if (!service_kind || !instance_kind || *service_kind == *instance_kind) return std::nullopt;
  return fmt::format("{} is a {} type but instance type {} is {}", service_type, *service_kind,
                     instance_type, *instance_kind);
}

}  // namespace qfscale::fake
