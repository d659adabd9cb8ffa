#include "support/memory_qianfan_api.h"

#include <fmt/format.h>

#include "qfscale/model/units.h"
#include "qfscale/qianfan/errors.h"

namespace qfscale::bench {

namespace {

Error remote(std::string_view code, std::string message, int status) {
  Error error{.code = ErrorCode::Remote, .message = std::move(message)};
  error.remote_code = std::string(code);
  error.http_status = status;
  return error;
}

}  // namespace

MemoryQianfanApi::MemoryQianfanApi(const ControllerShape& shape) {
  const int capacity = instance_capacity(shape);
  instances_.reserve(static_cast<std::size_t>(shape.instances));
  for (int i = 0; i < shape.instances; ++i) {
    instances_.push_back(Instance{.id = bench_instance_id(i), .capacity = capacity});
    instance_index_.emplace(instances_.back().id.value, instances_.size() - 1);
  }
  services_.reserve(static_cast<std::size_t>(shape.services));
  for (int k = 0; k < shape.services; ++k) {
    // The fields a real reply carries, so the controller copies strings of realistic length.
    qianfan::ServiceInfo info;
    info.service_id = bench_service_id(k);
    info.base_model = "ERNIE-Speed-8K";
    info.model_set_id = "am-fakeset0001";
    info.model_id = "amv-fakever0001";
    info.name = fmt::format("bench-{}", k);
    info.description = fmt::format("{} (qfscale bench)", info.name);
    info.url = fmt::format("http://qianfan.fake/traffic/{}", info.service_id);
    info.service_type = "chat";
    info.run_status_text = "Serving";
    info.run_status = model::RunStatus::Serving;
    info.charge_type = "ComputingUnit";
    info.pay_type = "Postpay";
    info.charge_status = "NORMAL";
    info.resource_config = {.region = "bj",
                            .type = fmt::format("GPU-I-{}", shape.units_per_replica),
                            .replicas = model::Replicas{shape.start_replicas},
                            .qps = shape.replica_qps};
    info.creator = "qfscale-bench";
    info.create_time = "2024-05-01T08:00:00Z";
    service_index_.emplace(info.service_id.value, services_.size());
    services_.push_back(
        Service{.info = std::move(info), .units_per_replica = shape.units_per_replica});
    auto& home = instances_[static_cast<std::size_t>(k % shape.instances)];
    home.placements.push_back({.service = services_.size() - 1, .replicas = shape.start_replicas});
    if (shape.instances > 1) {
      // The spare instance, empty until the allocator uses it; reserved here so ScaleService
      // never grows a vector during the measurement.
      instances_[static_cast<std::size_t>((k + 1) % shape.instances)].placements.push_back(
          {.service = services_.size() - 1, .replicas = 0});
    }
  }
}

Result<qianfan::ServiceInfo> MemoryQianfanApi::describe_service(const model::ServiceId& service) {
  const std::lock_guard lock(mutex_);
  const auto it = service_index_.find(service.value);
  if (it == service_index_.end()) {
    return tl::unexpected(remote("ResourceNotFound", fmt::format("no service {}", service), 404));
  }
  return services_[it->second].info;
}

Result<qianfan::ComputeUnitInfo> MemoryQianfanApi::describe_compute_unit(
    const model::InstanceId& instance) {
  const std::lock_guard lock(mutex_);
  const auto it = instance_index_.find(instance.value);
  if (it == instance_index_.end()) {
    return tl::unexpected(remote("ResourceNotFound", fmt::format("no instance {}", instance), 404));
  }
  const Instance& in = instances_[it->second];
  qianfan::ComputeUnitInfo info{
      .instance = {.instance_id = in.id,
                   .region = "bj",
                   .type = "gpu-1",
                   .status = "Running",
                   .compute_unit_count = model::ComputeUnits{in.capacity}}};
  for (const auto& p : in.placements) {
    if (p.replicas == 0) continue;
    const Service& s = services_[p.service];
    info.usage.push_back(
        {.service_id = s.info.service_id,
         .deployment_replicas_count = model::Replicas{p.replicas},
         .compute_unit_count = model::ComputeUnits{p.replicas * s.units_per_replica}});
  }
  return info;
}

Result<qianfan::Ack> MemoryQianfanApi::scale_service(const qianfan::ScaleServiceRequest& request) {
  const std::lock_guard lock(mutex_);
  const auto s = service_index_.find(request.service.value);
  const auto i = instance_index_.find(request.instance.value);
  if (s == service_index_.end() || i == instance_index_.end()) {
    return tl::unexpected(remote(
        "ResourceNotFound",
        fmt::format("no service {} or instance {}", request.service, request.instance), 404));
  }
  Service& service = services_[s->second];
  Instance& instance = instances_[i->second];
  int used = 0;
  Placement* mine = nullptr;
  for (auto& p : instance.placements) {
    if (p.service == s->second) {
      mine = &p;
    } else {
      used += p.replicas * services_[p.service].units_per_replica;
    }
  }
  if (mine == nullptr) {
    return tl::unexpected(remote(qianfan::kInsufficientComputeUnits,
                                 "the benchmark only places services on their two instances", 400));
  }
  if (used + request.replicas.value * service.units_per_replica > instance.capacity) {
    return tl::unexpected(remote(qianfan::kInsufficientComputeUnits,
                                 fmt::format("instance {} is full", request.instance), 400));
  }
  service.info.resource_config.replicas.value += request.replicas.value - mine->replicas;
  mine->replicas = request.replicas.value;
  return qianfan::Ack{.request_id = "bench"};
}

Result<qianfan::ServicePage> MemoryQianfanApi::describe_services(
    const qianfan::DescribeServicesRequest& /*request*/) {
  return fail(ErrorCode::Internal, "DescribeServices is not used by the benchmark");
}

Result<qianfan::Ack> MemoryQianfanApi::modify_service(
    const qianfan::ModifyServiceRequest& /*request*/) {
  return fail(ErrorCode::Internal, "ModifyService is not used by the benchmark");
}

Result<qianfan::ServiceMetrics> MemoryQianfanApi::describe_service_metric(
    const qianfan::DescribeServiceMetricRequest& /*request*/) {
  return fail(ErrorCode::Internal, "DescribeServiceMetric is not used by the benchmark");
}

}  // namespace qfscale::bench
