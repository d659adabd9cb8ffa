// The controller's I/O steps (observe, act) and small helpers; see controller_detail.h.

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <unordered_set>

#include <fmt/format.h>

#include "qfscale/qianfan/errors.h"
#include "qfscale/util/check.h"
#include "qfscale/util/concurrency.h"

#include "controller/controller_detail.h"

namespace qfscale::controller::detail {

using telemetry::ApiAction;
using telemetry::ApiCall;
using telemetry::ApiCode;
using util::for_each_concurrently;

ApiCode api_code(const Error& error) {
  if (!error.remote_code.empty()) {
    return telemetry::api_code_from_remote(error.remote_code);
  }
  switch (error.code) {
    case ErrorCode::Transient:
      return ApiCode::Transport;
    case ErrorCode::Remote:
      return ApiCode::BadReply;
    case ErrorCode::InvalidInput:
    case ErrorCode::Internal:
      break;
  }
  return ApiCode::Other;
}

namespace {

template <class T>
ApiCode code_of(const Result<T>& result) {
  return result ? ApiCode::Ok : api_code(result.error());
}

std::chrono::duration<double> since(const util::Clock& clock, util::MonotonicTime start) {
  return {clock.monotonic_now() - start};
}

}  // namespace

Observation observe(qianfan::QianfanApi& api, const util::Clock& clock,
                    std::span<const model::ServiceId> services,
                    std::span<const model::InstanceId> instances, int concurrency,
                    const std::function<void()>& meanwhile) {
  const std::size_t n = services.size() + instances.size();
  Observation obs;
  const auto not_called = fail(ErrorCode::Internal, "not called");
  obs.services.assign(services.size(), not_called);
  obs.instances.assign(instances.size(), not_called);
  obs.calls.resize(n);
  // Each call writes only its own slots.
  for_each_concurrently(
      n, concurrency,
      [&](std::size_t i) {
        const auto start = clock.monotonic_now();
        if (i < services.size()) {
          obs.services[i] = api.describe_service(services[i]);
          obs.calls[i] = ApiCall{.action = ApiAction::DescribeService,
                                 .code = code_of(obs.services[i]),
                                 .latency = since(clock, start)};
        } else {
          const std::size_t k = i - services.size();
          obs.instances[k] = api.describe_compute_unit(instances[k]);
          obs.calls[i] = ApiCall{.action = ApiAction::DescribeComputeUnit,
                                 .code = code_of(obs.instances[k]),
                                 .latency = since(clock, start)};
        }
      },
      meanwhile);
  return obs;
}

Actuation act(qianfan::QianfanApi& api, const util::Clock& clock, const capacity::Plan& plan,
              bool dry_run, int concurrency) {
  const std::size_t n = plan.steps.size();
  QFS_CHECK(plan.downs <= n, "a plan's downs are a prefix of its steps");
  std::vector<model::ScaleCall> calls(n);
  std::vector<std::optional<ApiCall>> sent(n);
  // Each call writes only its own slots.
  const auto send = [&](std::size_t i) {
    const capacity::ScaleStep& step = plan.steps[i];
    const auto start = clock.monotonic_now();
    auto ack = api.scale_service(qianfan::ScaleServiceRequest{
        .service = step.service, .instance = step.instance, .replicas = step.to});
    sent[i] = ApiCall{
        .action = ApiAction::ScaleService, .code = code_of(ack), .latency = since(clock, start)};
    model::ScaleCall& call = calls[i];
    if (ack) {
      call.outcome = model::ActuationOutcome::Applied;
      call.request_id = std::move(ack->request_id);
    } else {
      call.outcome = qianfan::is_capacity_refusal(ack.error()) ? model::ActuationOutcome::Refused
                                                               : model::ActuationOutcome::Failed;
      call.request_id = ack.error().request_id;
      call.error = ack.error().to_string();
    }
  };
  for (std::size_t i = 0; i < n; ++i) {
    const auto& step = plan.steps[i];
    calls[i] = model::ScaleCall{.instance = step.instance, .from = step.from, .to = step.to};
    if (dry_run) calls[i].outcome = model::ActuationOutcome::DryRun;
  }
  if (!dry_run) {
    // Every down has returned before any up is sent: the ups count on the units they free.
    for_each_concurrently(plan.downs, concurrency, send, {});
    std::unordered_set<model::InstanceId> down_failed;
    for (std::size_t i = 0; i < plan.downs; ++i) {
      if (calls[i].outcome != model::ActuationOutcome::Applied) {
        down_failed.insert(plan.steps[i].instance);
      }
    }
    std::vector<std::size_t> ups;
    for (std::size_t i = plan.downs; i < n; ++i) {
      if (!down_failed.contains(plan.steps[i].instance)) {
        ups.push_back(i);
        continue;
      }
      calls[i].outcome = model::ActuationOutcome::Skipped;
      calls[i].error = fmt::format(
          "not sent: a scale-down on {} failed this tick, so the units this scale-up counts on "
          "may still be in use; re-planned next tick",
          plan.steps[i].instance);
    }
    for_each_concurrently(ups.size(), concurrency, [&](std::size_t k) { send(ups[k]); }, {});
  }
  Actuation out;
  out.calls = std::move(calls);
  out.codes.reserve(n);
  for (auto& call : sent) {
    out.codes.push_back(call ? call->code : ApiCode::Ok);
    if (call) out.api_calls.push_back(*call);
  }
  return out;
}

model::ActuationOutcome summarise(std::span<const model::ScaleCall> calls) {
  using model::ActuationOutcome;
  const auto rank = [](ActuationOutcome o) {
    switch (o) {
      case ActuationOutcome::Failed:
        return 5;
      case ActuationOutcome::Refused:
        return 4;
      case ActuationOutcome::Skipped:
        return 3;
      case ActuationOutcome::Applied:
        return 2;
      case ActuationOutcome::DryRun:
        return 1;
      case ActuationOutcome::NotNeeded:
        break;
    }
    return 0;
  };
  ActuationOutcome worst = ActuationOutcome::NotNeeded;
  for (const auto& call : calls) {
    if (rank(call.outcome) > rank(worst)) {
      worst = call.outcome;
    }
  }
  return worst;
}

Status check_config(const Config& config) {
  std::vector<std::string> problems;
  std::set<model::InstanceId> instances;
  for (const auto& instance : config.instances) {
    if (instance.id.empty()) {
      problems.emplace_back("an instance has an empty id");
    }
    if (!instances.insert(instance.id).second) {
      problems.push_back(fmt::format("instance {} is listed twice", instance.id));
    }
    if (instance.capacity && instance.capacity->value < 0) {
      problems.push_back(
          fmt::format("instance {}: capacity {} is negative", instance.id, *instance.capacity));
    }
  }
  std::set<model::ServiceId> services;
  for (const auto& service : config.services) {
    if (service.id.empty()) {
      problems.emplace_back("a service has an empty id");
    }
    if (!services.insert(service.id).second) {
      problems.push_back(fmt::format("service {} is listed twice", service.id));
    }
    if (service.instances.empty()) {
      problems.push_back(fmt::format("service {}: instances is empty", service.id));
    }
    for (const auto& id : service.instances) {
      if (!instances.contains(id)) {
        problems.push_back(fmt::format(
            "service {}: instance {} is not among the configured instances", service.id, id));
      }
    }
    if (service.weight < 1) {
      problems.push_back(
          fmt::format("service {}: weight {} is below 1", service.id, service.weight));
    }
    if (service.units_per_replica && service.units_per_replica->value < 1) {
      problems.push_back(fmt::format("service {}: unitsPerReplica {} is below 1", service.id,
                                     *service.units_per_replica));
    }
  }
  if (problems.empty()) {
    return util::ok();
  }
  return fail(ErrorCode::InvalidInput,
              fmt::format("invalid controller config: {}", fmt::join(problems, "; ")));
}

}  // namespace qfscale::controller::detail
