#include "qfscale/sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <deque>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/capacity/request.h"
#include "qfscale/policy/engine.h"
#include "qfscale/util/check.h"

namespace qfscale::sim {
namespace {

using model::Replicas;

const model::InstanceId kSharedInstance{"sim-shared-capacity"};

/// Replicas of one service: ready ones and batches still starting, oldest batch first. With a
/// fixed startup delay batches become ready in the order they were started.
class Lifecycle {
 public:
  explicit Lifecycle(int ready) : ready_(ready), total_(ready) {}

  [[nodiscard]] int ready() const { return ready_; }
  [[nodiscard]] int total() const { return total_; }

  /// Makes every batch due by second `s` ready.
  void promote(std::int64_t s) {
    while (!starting_.empty() && starting_.front().first <= s) {
      ready_ += starting_.front().second;
      starting_.pop_front();
    }
  }

  void scale_to(int target, std::int64_t now, std::int64_t delay) {
    if (target > total_) {
      const int add = target - total_;
      if (delay == 0) {
        ready_ += add;
      } else {
        starting_.emplace_back(now + delay, add);
      }
    } else {
      // Starting replicas go first, newest first: they serve nothing yet.
      int remove = total_ - target;
      while (remove > 0 && !starting_.empty()) {
        const int take = std::min(remove, starting_.back().second);
        starting_.back().second -= take;
        remove -= take;
        if (starting_.back().second == 0) starting_.pop_back();
      }
      ready_ -= remove;
    }
    total_ = target;
  }

 private:
  int ready_;
  int total_;
  std::deque<std::pair<std::int64_t, int>> starting_;  ///< (ready at second, count)
};

/// Per-service running totals, turned into a Summary at the end.
struct Accumulator {
  double requests = 0;
  double over = 0;
  std::int64_t seconds_over = 0;
  std::int64_t unit_seconds = 0;
  std::int64_t replica_seconds = 0;
  std::int64_t seconds = 0;
  std::int64_t scale_operations = 0;
  int max_replicas = 0;
  std::vector<float> utilization;  ///< reserved once for the whole trace
  FifoQueue queue;
  double last_capacity = 0;  ///< the last second's ready capacity: the queue drains at it
};

struct ServiceRun {
  const ServiceSpec* spec = nullptr;
  std::int64_t length = 0;  ///< trace seconds
  Lifecycle replicas{0};
  policy::EngineState state;
  Accumulator acc;
  ServiceResult result;
};

Status validate(std::span<const ServiceSpec> services, const SimOptions& options) {
  if (services.empty()) return fail(ErrorCode::InvalidInput, "simulate: no services");
  if (options.tick.count() <= 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("simulate: tick {}s must be > 0", options.tick.count()));
  }
  if (options.metric_span.count() < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("simulate: metric span {}s must be >= 0", options.metric_span.count()));
  }
  if (options.startup_delay.count() < 0) {
    return fail(ErrorCode::InvalidInput, fmt::format("simulate: startup delay {}s must be >= 0",
                                                     options.startup_delay.count()));
  }
  if (auto st = validate(options.queue); !st) {
    return fail(std::move(st.error()).with_context("simulate"));
  }
  if (options.capacity_units && options.capacity_units->value < 0) {
    return fail(ErrorCode::InvalidInput, fmt::format("simulate: capacity units {} must be >= 0",
                                                     options.capacity_units->value));
  }
  std::set<model::ServiceId> seen;
  for (const auto& s : services) {
    const auto where = fmt::format("simulate: service '{}'", s.id);
    if (!seen.insert(s.id).second) {
      return fail(ErrorCode::InvalidInput, where + ": duplicate id");
    }
    if (!s.trace) return fail(ErrorCode::InvalidInput, where + ": no trace");
    if (!std::isfinite(s.replica_qps) || s.replica_qps <= 0) {
      return fail(
          ErrorCode::InvalidInput,
          fmt::format("{}: replica_qps {} must be a finite number > 0", where, s.replica_qps));
    }
    if (s.units_per_replica.value < 1) {
      return fail(ErrorCode::InvalidInput, fmt::format("{}: units_per_replica {} must be >= 1",
                                                       where, s.units_per_replica.value));
    }
    if (s.weight < 1) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("{}: weight {} must be >= 1", where, s.weight));
    }
    if (s.initial_replicas && s.initial_replicas->value < 0) {
      return fail(ErrorCode::InvalidInput, fmt::format("{}: initial replicas {} must be >= 0",
                                                       where, s.initial_replicas->value));
    }
  }
  return util::ok();
}

int initial_replicas(const ServiceSpec& s, const policy::PolicySpec& p, std::int64_t tick) {
  if (s.initial_replicas) return s.initial_replicas->value;
  const double qps = s.trace->mean(0, static_cast<double>(tick));
  const int need = static_cast<int>(std::ceil(qps / (s.replica_qps * p.target.utilization)));
  return std::clamp(need, p.replicas.min.value, p.replicas.max.value);
}

/// Runs the allocator over every service's recommendation and returns the grants, or the
/// recommended counts unchanged without shared capacity. Requests are built as the controller
/// builds them (capacity/request.h), so the floor reserved is the one the engine applied.
Result<std::vector<int>> allocate(const std::vector<ServiceRun>& runs,
                                  const std::vector<policy::Recommendation>& recs,
                                  const SimOptions& options) {
  std::vector<int> wanted(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) wanted[i] = recs[i].replicas.value;
  if (!options.capacity_units) return wanted;
  capacity::AllocationInput in;
  in.instances.push_back({kSharedInstance, *options.capacity_units, model::ComputeUnits{0}});
  in.services.reserve(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    std::vector<capacity::Placement> current;
    if (r.replicas.total() > 0) current.push_back({kSharedInstance, Replicas{r.replicas.total()}});
    auto req = capacity::service_request({.id = r.spec->id,
                                          .units_per_replica = r.spec->units_per_replica,
                                          .priority = r.spec->priority,
                                          .weight = r.spec->weight,
                                          .instances = std::span(&kSharedInstance, 1)},
                                         recs[i], std::move(current));
    // The simulated services are always Serving, so never frozen.
    QFS_CHECK(req.has_value(), "simulate: a Serving service makes a request");
    in.services.push_back(std::move(*req));
  }
  auto alloc = capacity::allocate(in);
  if (!alloc) return fail(std::move(alloc.error()).with_context("simulate: allocate"));
  std::vector<int> granted(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) granted[i] = alloc->services[i].granted.value;
  return granted;
}

/// Accounts seconds [from, to) of one service (clipped to its trace).
void account(ServiceRun& r, std::int64_t from, std::int64_t to) {
  const auto values = r.spec->trace->per_second();
  const double q = r.spec->replica_qps;
  const std::int64_t units = r.spec->units_per_replica.value;
  auto& a = r.acc;
  to = std::min(to, r.length);
  for (std::int64_t s = from; s < to; ++s) {
    r.replicas.promote(s);
    const double d = values[static_cast<std::size_t>(s)];
    const int ready = r.replicas.ready();
    const int total = r.replicas.total();
    const double cap = ready * q;
    a.requests += d;
    if (d > cap) {
      a.over += d - cap;
      ++a.seconds_over;
    }
    a.unit_seconds += total * units;
    a.replica_seconds += total;
    a.max_replicas = std::max(a.max_replicas, total);
    if (ready > 0 && d > 0) a.utilization.push_back(static_cast<float>(d / cap));
    a.queue.second(d, cap);
    a.last_capacity = cap;
  }
  a.seconds += std::max<std::int64_t>(0, to - from);
}

Summary summarize(Accumulator& a) {
  Summary s;
  s.requests_total = a.requests;
  s.requests_over_capacity = a.over;
  s.requests_over_capacity_pct = a.requests > 0 ? 100.0 * a.over / a.requests : 0.0;
  s.seconds_over_capacity = a.seconds_over;
  s.compute_unit_hours = static_cast<double>(a.unit_seconds) / 3600.0;
  s.scale_operations = a.scale_operations;
  s.max_replicas = a.max_replicas;
  s.mean_replicas =
      a.seconds > 0 ? static_cast<double>(a.replica_seconds) / static_cast<double>(a.seconds) : 0;
  s.utilization_p50 = percentile(a.utilization, 0.50);
  s.utilization_p99 = percentile(a.utilization, 0.99);
  a.queue.drain(a.last_capacity);
  s.queue = a.queue.stats();
  return s;
}

}  // namespace

double percentile(std::span<float> values, double p) {
  if (values.empty()) return 0;
  const auto n = values.size();
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  auto nth = values.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

Result<SimulationResult> simulate(const policy::Policy& policy,
                                  std::span<const ServiceSpec> services,
                                  const SimOptions& options) {
  if (auto st = validate(services, options); !st) return fail(std::move(st.error()));
  const auto& p = policy.spec();
  const std::int64_t tick = options.tick.count();
  const std::int64_t delay = options.startup_delay.count();
  const auto span = options.metric_span.count() > 0 ? options.metric_span : options.tick;

  std::vector<ServiceRun> runs(services.size());
  std::int64_t horizon = 0;
  std::vector<int> wanted(services.size());
  std::vector<policy::Recommendation> recs(services.size());
  for (std::size_t i = 0; i < services.size(); ++i) {
    auto& r = runs[i];
    r.spec = &services[i];
    r.length = static_cast<std::int64_t>(r.spec->trace->size());
    horizon = std::max(horizon, r.length);
    r.acc.utilization.reserve(static_cast<std::size_t>(r.length));
    r.acc.queue = FifoQueue(options.queue);
    r.result.id = r.spec->id;
    if (options.timeline) r.result.timeline.reserve(static_cast<std::size_t>(r.length / tick + 1));
    wanted[i] = initial_replicas(*r.spec, p, tick);
    recs[i] = {.replicas = Replicas{wanted[i]}, .floor = p.replicas.min};
  }
  // The initial counts must fit the shared capacity too: the allocator decides, as at a tick.
  auto initial = allocate(runs, recs, options);
  if (!initial) return fail(std::move(initial.error()));
  for (std::size_t i = 0; i < runs.size(); ++i) runs[i].replicas = Lifecycle((*initial)[i]);

  std::vector<double> samples(runs.size());
  // Ticks run at t = tick, 2 x tick, … while t < horizon.
  const std::int64_t total_ticks = horizon > 0 ? (horizon - 1) / tick : 0;
  const std::int64_t report_every = std::max<std::int64_t>(1, (total_ticks + 99) / 100);
  std::int64_t ticks_done = 0;
  std::int64_t prev = 0;
  for (std::int64_t t = tick;; t += tick) {
    const std::int64_t until = std::min(t, horizon);
    for (auto& r : runs) {
      const double late_before = r.acc.queue.late();
      account(r, prev, until);
      if (!r.result.timeline.empty())
        r.result.timeline.back().late += r.acc.queue.late() - late_before;
    }
    if (t >= horizon) break;
    prev = t;
    const auto now = options.start + std::chrono::seconds{t};
    for (std::size_t i = 0; i < runs.size(); ++i) {
      auto& r = runs[i];
      // The timeline shows the tick's demand; the engine sees the metric's span (the same
      // unless --metric-span says otherwise).
      samples[i] = r.spec->trace->mean(static_cast<double>(t - tick), static_cast<double>(t));
      const double seen =
          span.count() == tick
              ? samples[i]
              : r.spec->trace->mean(static_cast<double>(t - span.count()), static_cast<double>(t));
      const policy::EngineInput in{.now = now,
                                   .qps = seen,
                                   .replica_qps = r.spec->replica_qps,
                                   .current = Replicas{r.replicas.total()},
                                   .explain = false,
                                   .sample_span = span};
      auto res = policy::recommend(policy, in, std::move(r.state));
      r.state = std::move(res.state);
      recs[i] = std::move(res.recommendation);
      wanted[i] = recs[i].replicas.value;
    }
    auto granted = allocate(runs, recs, options);
    if (!granted) return fail(std::move(granted.error()));
    for (std::size_t i = 0; i < runs.size(); ++i) {
      auto& r = runs[i];
      const int g = (*granted)[i];
      if (g != r.replicas.total() && t < r.length) ++r.acc.scale_operations;
      r.replicas.scale_to(g, t, delay);
      r.replicas.promote(t);
      if (options.timeline && t < r.length) {
        r.result.timeline.push_back(TimelinePoint{
            .t = t,
            .demand = samples[i],
            .ready_capacity = r.replicas.ready() * r.spec->replica_qps,
            .replicas = Replicas{r.replicas.total()},
            .ready = Replicas{r.replicas.ready()},
            .desired = Replicas{wanted[i]},
            .granted = Replicas{g},
            .reason = g < wanted[i] ? model::Reason::CappedCapacity : recs[i].reason});
      }
    }
    ++ticks_done;
    if (options.progress && ticks_done % report_every == 0 && ticks_done < total_ticks) {
      options.progress(ticks_done, total_ticks);
    }
  }
  if (options.progress) options.progress(total_ticks, total_ticks);

  SimulationResult out;
  out.policy = policy.name();
  out.services.reserve(runs.size());
  for (auto& r : runs) {
    const double late_before = r.acc.queue.late();
    r.result.summary = summarize(r.acc);  // drains the queue
    if (!r.result.timeline.empty()) {
      r.result.timeline.back().late += r.result.summary.queue.late - late_before;
    }
    out.services.push_back(std::move(r.result));
  }
  return out;
}

}  // namespace qfscale::sim
