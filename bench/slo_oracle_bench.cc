// The SLO oracle (sim/slo_oracle.h) on one service: the LP lower bound solved by CLP plus the
// achievable schedule's rounding and repair, at 100%, 99.9% and 99% attainment (5 s wait, 30 s
// abandon, 90 s startup, 15 s ticks), on a day and on a week of per-second synthetic traffic (the
// week of simulator_bench.cc). Prints the bounds, the gap and the process's peak memory.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "qfscale/demand/synthetic.h"
#include "qfscale/sim/slo_oracle.h"

namespace {

using namespace std::chrono_literals;
namespace sim = qfscale::sim;

std::shared_ptr<const qfscale::trace::Trace> trace(std::size_t seconds) {
  auto traffic = qfscale::demand::SyntheticTraffic::create(
      {.seed = 42, .base_qps = 50, .amplitude = 0.6, .noise = 0.15, .bursts_per_hour = 2});
  return std::make_shared<const qfscale::trace::Trace>(traffic->trace(seconds));
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// Args: days of traffic; attainment in tenths of a percent (1000 = 100%); check_every seconds
// (0: the default, one tick; 1: the per-second LP).
void BM_SloOracle(benchmark::State& st) {
  const auto t = trace(static_cast<std::size_t>(st.range(0)) * 86'400);
  const sim::SloService service{.demand = t->per_second(),
                                .replica_qps = 5,
                                .units_per_replica = qfscale::model::ComputeUnits{2}};
  const std::vector<double> pct{static_cast<double>(st.range(1)) / 10.0};
  const sim::SloOracleOptions options{
      .tick = 15s, .startup_delay = 90s, .check_every = std::chrono::seconds{st.range(2)}};
  for (auto _ : st) {
    auto r = sim::slo_oracle(std::span(&service, 1), options, pct);
    if (!r || !(*r)[0].lower_bound_cu_hours || !(*r)[0].achievable_cu_hours) std::abort();
    st.counters["lower_cu_h"] = *(*r)[0].lower_bound_cu_hours;
    st.counters["achieve_cu_h"] = *(*r)[0].achievable_cu_hours;
    st.counters["gap_pct"] = *(*r)[0].gap_pct();
  }
  st.counters["peak_rss_mb"] = peak_rss_mb();
}
BENCHMARK(BM_SloOracle)
    ->ArgsProduct({{1, 7}, {1000, 999, 990}, {0}})
    ->Args({1, 1000, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
