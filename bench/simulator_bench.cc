// Simulator: one week of per-second synthetic traffic (604,800 s) for one service, run under
// five shipped policies, plus the oracle on the same trace. docs/DESIGN.md quality bar: a week for
// one service in well under a second (per policy, and here for all five together). And a fleet:
// 1,000 services for one day, with and without a shared compute-unit capacity (the allocator
// then runs over all 1,000 every tick). And the over-capacity floor on the week.

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/demand/synthetic.h"
#include "qfscale/policy/loader.h"
#include "qfscale/sim/floor.h"
#include "qfscale/sim/oracle.h"
#include "qfscale/sim/queue.h"
#include "qfscale/sim/simulator.h"
#include "qfscale/sim/sweep.h"

namespace {

using namespace std::chrono_literals;
namespace sim = qfscale::sim;

constexpr std::size_t kWeek = 7 * 86'400;
constexpr std::array<std::string_view, 5> kPolicies = {"balanced", "latency-first", "cost-saver",
                                                       "hpa-default", "kpa-default"};

std::shared_ptr<const qfscale::trace::Trace> week_trace() {
  static const auto trace = [] {
    auto traffic = qfscale::demand::SyntheticTraffic::create(
        {.seed = 42, .base_qps = 50, .amplitude = 0.6, .noise = 0.15, .bursts_per_hour = 2});
    return std::make_shared<const qfscale::trace::Trace>(traffic->trace(kWeek));
  }();
  return trace;
}

qfscale::policy::Policy shipped(std::string_view name) {
  const auto text = qfscale::controller::shipped_policy(name);
  if (!text) std::abort();
  auto p = qfscale::policy::load_policy(
      *text, name, [](std::string_view) { return std::optional<std::string>{}; });
  if (!p) std::abort();
  return *p;
}

sim::ServiceSpec week_service() {
  return {.id = qfscale::model::ServiceId{"svc-week"},
          .trace = week_trace(),
          .replica_qps = 5,
          .units_per_replica = qfscale::model::ComputeUnits{2}};
}

const sim::SimOptions kOptions{
    .tick = 15s, .startup_delay = 90s, .capacity_units = {}, .start = {}, .timeline = true};

// All five policies over the week, one after the other: the figure the quality bar is about.
void BM_SimulateWeekFivePolicies(benchmark::State& st) {
  std::vector<qfscale::policy::Policy> policies;
  for (auto name : kPolicies) policies.push_back(shipped(name));
  const sim::ServiceSpec svc[] = {week_service()};
  for (auto _ : st) {
    for (const auto& p : policies) {
      auto r = sim::simulate(p, svc, kOptions);
      benchmark::DoNotOptimize(r);
    }
  }
  st.counters["policies"] = static_cast<double>(policies.size());
  st.counters["seconds_simulated"] = static_cast<double>(kWeek * policies.size());
}
BENCHMARK(BM_SimulateWeekFivePolicies)->Unit(benchmark::kMillisecond)->UseRealTime();

// One policy at a time, to see which one costs most (panic and long windows keep more state).
void BM_SimulateWeekOnePolicy(benchmark::State& st) {
  const auto policy = shipped(kPolicies[static_cast<std::size_t>(st.range(0))]);
  const sim::ServiceSpec svc[] = {week_service()};
  std::optional<sim::Summary> summary;
  for (auto _ : st) {
    auto r = sim::simulate(policy, svc, kOptions);
    benchmark::DoNotOptimize(r);
    if (r) summary = r->services[0].summary;
  }
  if (summary) {
    // What the run found, for bench/RESULTS.md next to the time.
    st.counters["cu_hours"] = summary->compute_unit_hours;
    st.counters["over_pct"] = summary->requests_over_capacity_pct;
    st.counters["attain_pct"] = summary->queue.attainment_pct();
    st.counters["scale_ops"] = static_cast<double>(summary->scale_operations);
  }
  st.SetLabel(std::string(kPolicies[static_cast<std::size_t>(st.range(0))]));
}
BENCHMARK(BM_SimulateWeekOnePolicy)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

// The sweep behind `qfscale simulate --sweep` and `qfscale tune`: the week, the five policies,
// target.utilization 0.30..0.95 by 0.05 (14 values): 70 runs on hardware_concurrency workers,
// each variant built by reloading the policy's YAML. docs: issue 16 asks for under 2 s.
void BM_SweepWeekFivePolicies14(benchmark::State& st) {
  std::vector<qfscale::policy::Policy> policies;
  for (auto name : kPolicies) policies.push_back(shipped(name));
  const sim::ServiceSpec svc[] = {week_service()};
  const auto range = sim::parse_sweep("target.utilization=0.30:0.95:0.05");
  if (!range) std::abort();
  const auto no_zones = [](std::string_view) { return std::optional<std::string>{}; };
  sim::SweepOptions options;
  options.sim = kOptions;
  options.threads = std::max(1U, std::thread::hardware_concurrency());
  std::size_t runs = 0;
  // CPU seconds of the whole process (every worker): on an idle machine the wall time is about
  // this / threads; on a loaded one the wall time says more about the neighbours.
  const std::clock_t cpu_before = std::clock();
  for (auto _ : st) {
    auto curves = sim::sweep(policies, svc, *range, no_zones, options);
    if (!curves) std::abort();
    runs = 0;
    for (const auto& c : *curves) runs += c.points.size();
    benchmark::DoNotOptimize(curves);
  }
  st.counters["process_cpu_s"] =
      benchmark::Counter(static_cast<double>(std::clock() - cpu_before) / CLOCKS_PER_SEC,
                         benchmark::Counter::kAvgIterations);
  st.counters["runs"] = static_cast<double>(runs);
  st.counters["threads"] = options.threads;
}
BENCHMARK(BM_SweepWeekFivePolicies14)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(3);

constexpr std::size_t kDay = 86'400;
constexpr int kFleet = 1'000;

/// 1,000 services, each with its own day of traffic (seeded, so the same on every run) of 5 to
/// 200 qps base, 10 qps per replica, GPU-I-2. Built once: 1,000 x 86,400 seconds.
const std::vector<sim::ServiceSpec>& fleet() {
  static const auto services = [] {
    std::vector<sim::ServiceSpec> out;
    out.reserve(kFleet);
    for (int i = 0; i < kFleet; ++i) {
      auto traffic =
          qfscale::demand::SyntheticTraffic::create({.seed = static_cast<std::uint64_t>(1000 + i),
                                                     .base_qps = 5.0 + (i % 40) * 5.0,
                                                     .amplitude = 0.6,
                                                     .noise = 0.15,
                                                     .bursts_per_hour = 2});
      out.push_back({.id = qfscale::model::ServiceId{fmt::format("svc-{:04}", i)},
                     .trace = std::make_shared<const qfscale::trace::Trace>(traffic->trace(kDay)),
                     .replica_qps = 10,
                     .units_per_replica = qfscale::model::ComputeUnits{2},
                     .priority = i % 3});
    }
    return out;
  }();
  return services;
}

// range(0): 0 = unlimited capacity (engine only), 1 = one shared instance with 60% of the units
// the fleet's mean demand needs at the target, so the allocator cuts services every tick.
void BM_SimulateDayThousandServices(benchmark::State& st) {
  const auto policy = shipped("balanced");
  const auto& services = fleet();
  auto options = kOptions;
  options.timeline = false;
  if (st.range(0) == 1) {
    double mean_units = 0;
    for (const auto& s : services) mean_units += s.trace->mean(0, kDay) / (10 * 0.7) * 2;
    options.capacity_units = qfscale::model::ComputeUnits{static_cast<int>(0.6 * mean_units)};
  }
  double over_pct = 0;
  for (auto _ : st) {
    auto r = sim::simulate(policy, services, options);
    benchmark::DoNotOptimize(r);
    if (r) {
      double over = 0, total = 0;
      for (const auto& s : r->services) {
        over += s.summary.requests_over_capacity;
        total += s.summary.requests_total;
      }
      over_pct = 100 * over / total;
    }
  }
  const double ticks = static_cast<double>(kDay / 15);
  st.counters["services"] = kFleet;
  st.counters["ticks"] = ticks;
  st.counters["over_pct"] = over_pct;
  st.counters["per_tick_us"] = benchmark::Counter(
      ticks, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  st.SetLabel(st.range(0) == 1 ? "shared capacity" : "unlimited");
}
BENCHMARK(BM_SimulateDayThousandServices)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(3);

void BM_OracleWeek(benchmark::State& st) {
  const auto trace = week_trace();
  for (auto _ : st) {
    auto r = sim::oracle(*trace, 5, qfscale::model::ComputeUnits{2}, {.startup_delay = 90s});
    benchmark::DoNotOptimize(r);
    if (r) st.counters["cu_hours"] = r->summary.compute_unit_hours;
  }
}
BENCHMARK(BM_OracleWeek)->Unit(benchmark::kMillisecond);

// The queue alone over the week (5 s SLO, 30 s abandon) at a fixed 60 QPS, 1.2x the base load:
// what the simulator's per-second loop pays for it.
void BM_FifoQueueWeek(benchmark::State& st) {
  const auto values = week_trace()->per_second();
  for (auto _ : st) {
    sim::FifoQueue queue(sim::QueueOptions{});
    for (float d : values) queue.second(d, 60.0);
    queue.drain(60.0);
    benchmark::DoNotOptimize(queue.stats());
    st.counters["attain_pct"] = queue.stats().attainment_pct();
  }
}
BENCHMARK(BM_FifoQueueWeek)->Unit(benchmark::kMillisecond);

// The over-capacity floor on the week: built once per service by `qfscale simulate`, then
// evaluated once per policy.
void BM_FloorWeek(benchmark::State& st) {
  const auto trace = week_trace();
  for (auto _ : st) {
    auto f = sim::OverCapacityFloor::build(trace->per_second(), 5, 15s, 90s);
    if (!f) std::abort();
    benchmark::DoNotOptimize(f->at(1e6));
    st.counters["bands"] = static_cast<double>(f->items());
  }
}
BENCHMARK(BM_FloorWeek)->Unit(benchmark::kMillisecond);

void BM_FloorWeekAt(benchmark::State& st) {
  const auto f = sim::OverCapacityFloor::build(week_trace()->per_second(), 5, 15s, 90s);
  if (!f) std::abort();
  double budget = 0;
  for (auto _ : st) {
    budget = budget > 1e7 ? 0 : budget + 997;
    benchmark::DoNotOptimize(f->at(budget));
  }
}
BENCHMARK(BM_FloorWeekAt);

}  // namespace
