#include "qfscale/sim/oracle.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/util/check.h"

namespace qfscale::sim {
namespace {

/// A fixed-capacity deque of indices for sliding-window extremes: one allocation per window.
class IndexQueue {
 public:
  explicit IndexQueue(std::size_t capacity) : data_(capacity) {}
  [[nodiscard]] bool empty() const { return head_ == tail_; }
  [[nodiscard]] std::int64_t front() const { return data_[head_]; }
  [[nodiscard]] std::int64_t back() const { return data_[tail_ - 1]; }
  void push_back(std::int64_t v) { data_[tail_++] = v; }
  void pop_back() { --tail_; }
  void pop_front() { ++head_; }

 private:
  std::vector<std::int64_t> data_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace

int replicas_needed(double demand, double replica_qps) {
  if (!(demand > 0)) return 0;
  const double ratio = demand / replica_qps;
  if (ratio >= static_cast<double>(std::numeric_limits<int>::max() - 1)) {
    return std::numeric_limits<int>::max() - 1;
  }
  auto n = static_cast<int>(std::ceil(ratio));
  // Division may round across an integer: settle on the definition n x q >= d directly.
  while (n > 0 && static_cast<double>(n - 1) * replica_qps >= demand) --n;
  while (static_cast<double>(n) * replica_qps < demand) ++n;
  return n;
}

Result<OracleResult> oracle(const trace::Trace& trace, double replica_qps,
                            model::ComputeUnits units_per_replica, const OracleOptions& options) {
  if (!std::isfinite(replica_qps) || replica_qps <= 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("oracle: replica_qps {} must be a finite number > 0", replica_qps));
  }
  if (units_per_replica.value < 1) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("oracle: units_per_replica {} must be >= 1", units_per_replica.value));
  }
  if (options.startup_delay.count() < 0) {
    return fail(ErrorCode::InvalidInput, fmt::format("oracle: startup delay {}s must be >= 0",
                                                     options.startup_delay.count()));
  }
  if (options.max_replicas && options.max_replicas->value < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("oracle: max replicas {} must be >= 0", options.max_replicas->value));
  }
  const auto values = trace.per_second();
  const auto n_sec = static_cast<std::int64_t>(values.size());
  const std::int64_t delay = options.startup_delay.count();
  const int cap =
      options.max_replicas ? options.max_replicas->value : std::numeric_limits<int>::max();

  std::vector<int> need(values.size());
  for (std::size_t s = 0; s < values.size(); ++s) {
    need[s] = std::min(replicas_needed(values[s], replica_qps), cap);
  }

  // on(t) = max need over [t, t + delay], scanning t downwards.
  std::vector<int> on(values.size());
  {
    IndexQueue q(values.size());
    for (std::int64_t t = n_sec - 1; t >= 0; --t) {
      while (!q.empty() &&
             need[static_cast<std::size_t>(q.back())] <= need[static_cast<std::size_t>(t)]) {
        q.pop_back();
      }
      q.push_back(t);
      while (q.front() > t + delay) q.pop_front();
      on[static_cast<std::size_t>(t)] = need[static_cast<std::size_t>(q.front())];
    }
  }
  return schedule_result(trace, replica_qps, units_per_replica, options.startup_delay,
                         std::move(on), options.keep_schedule);
}

OracleResult schedule_result(const trace::Trace& trace, double replica_qps,
                             model::ComputeUnits units_per_replica,
                             std::chrono::seconds startup_delay, std::vector<int> on,
                             bool keep_schedule) {
  const auto values = trace.per_second();
  QFS_ASSERT(on.size() == values.size(), "one replica count per trace second");
  const auto n_sec = static_cast<std::int64_t>(values.size());
  const std::int64_t delay = startup_delay.count();
  // ready(t) = min on over [max(0, t - delay), t].
  std::vector<int> ready(values.size());
  {
    IndexQueue q(values.size());
    for (std::int64_t t = 0; t < n_sec; ++t) {
      while (!q.empty() &&
             on[static_cast<std::size_t>(q.back())] >= on[static_cast<std::size_t>(t)]) {
        q.pop_back();
      }
      q.push_back(t);
      while (q.front() < t - delay) q.pop_front();
      ready[static_cast<std::size_t>(t)] = on[static_cast<std::size_t>(q.front())];
    }
  }

  OracleResult out;
  auto& s = out.summary;
  std::vector<float> utilization;
  utilization.reserve(values.size());
  std::int64_t replica_seconds = 0;
  for (std::size_t t = 0; t < values.size(); ++t) {
    const double d = values[t];
    const double capacity = ready[t] * replica_qps;
    s.requests_total += d;
    if (d > capacity) {
      s.requests_over_capacity += d - capacity;
      ++s.seconds_over_capacity;
    }
    replica_seconds += on[t];
    s.max_replicas = std::max(s.max_replicas, on[t]);
    if (t > 0 && on[t] != on[t - 1]) ++s.scale_operations;
    if (ready[t] > 0 && d > 0) utilization.push_back(static_cast<float>(d / capacity));
  }
  s.requests_over_capacity_pct =
      s.requests_total > 0 ? 100.0 * s.requests_over_capacity / s.requests_total : 0.0;
  s.compute_unit_hours = static_cast<double>(replica_seconds * units_per_replica.value) / 3600.0;
  s.mean_replicas =
      n_sec > 0 ? static_cast<double>(replica_seconds) / static_cast<double>(n_sec) : 0.0;
  s.utilization_p50 = percentile(utilization, 0.50);
  s.utilization_p99 = percentile(utilization, 0.99);
  if (keep_schedule) {
    out.on = std::move(on);
    out.ready = std::move(ready);
  }
  return out;
}

Result<std::int64_t> fit_to_capacity(std::span<std::vector<int>> on,
                                     std::span<const ServiceSpec> services,
                                     model::ComputeUnits capacity) {
  QFS_ASSERT(on.size() == services.size(), "one schedule per service");
  const model::InstanceId instance{"shared"};
  std::size_t horizon = 0;
  for (const auto& o : on) horizon = std::max(horizon, o.size());
  capacity::AllocationInput in;
  in.instances.push_back({instance, capacity, model::ComputeUnits{0}});
  for (const auto& s : services) {
    in.services.push_back({.id = s.id,
                           .units_per_replica = s.units_per_replica,
                           .desired = model::Replicas{0},
                           .min = model::Replicas{0},
                           .priority = s.priority,
                           .weight = s.weight,
                           .instances = {instance},
                           .current = {}});
  }
  std::int64_t cut = 0;
  for (std::size_t t = 0; t < horizon; ++t) {
    std::int64_t units = 0;
    for (std::size_t i = 0; i < on.size(); ++i) {
      if (t < on[i].size()) units += std::int64_t{on[i][t]} * services[i].units_per_replica.value;
    }
    if (units <= capacity.value) continue;
    ++cut;
    for (std::size_t i = 0; i < on.size(); ++i) {
      in.services[i].desired = model::Replicas{t < on[i].size() ? on[i][t] : 0};
    }
    auto granted = capacity::allocate(in);
    if (!granted) return fail(std::move(granted.error()).with_context("oracle: fit to capacity"));
    for (std::size_t i = 0; i < on.size(); ++i) {
      if (t < on[i].size()) on[i][t] = granted->services[i].granted.value;
    }
  }
  return cut;
}

}  // namespace qfscale::sim
