// The engine states in etcd at 10,000 services: etcd writes (transactions) and value bytes per
// tick, against a real etcd (the JSON gateway over our HTTP client, the production
// EtcdStateStore). The controller is in-process against fake::MemoryQianfanApi, so the tick
// measures the state store, not Qianfan calls. Needs an etcd: bench/etcd_state_bench.sh starts a
// single member on a free loopback port and sets QFSCALE_BENCH_ETCD; without it the benchmark is
// skipped.
//
// The policy keeps HPA's default 300 s scale-down window and a 60 s metric window at 15 s ticks,
// so each state holds about 20 recommendations and 4 samples, as in production.
//   changing:0  steady: every reading is 15 QPS (2 replicas): no scale calls.
//   changing:1  readings alternate 15 / 25 QPS: the window holds 3, scale-ups every other tick.
// Counters: writes/tick (etcd txns; at most 60 services each), bytes/tick (state values sent),
// tick_ms (wall).
//
//   cmake --build --preset ci --target qfscale_bench && bash bench/etcd_state_bench.sh build/ci

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "qfscale/controller/controller.h"
#include "qfscale/controller/etcd_state_store.h"
#include "qfscale/coordination/etcd.h"
#include "qfscale/fake/memory_qianfan_api.h"
#include "qfscale/http/client.h"
#include "qfscale/util/check.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/random.h"

#include "support/bench_qps_source.h"
#include "support/controller_scenario.h"

namespace {

using namespace qfscale;

constexpr std::string_view kProductionWindows = R"(apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: bench-etcd-state}
spec:
  target: {utilization: 1.0, tolerance: 0}
  replicas: {min: 1, max: 20}
  metricWindow: 60s
  panic: {enabled: false}
  scaleUp:
    stabilizationWindow: 0s
    policies: [{type: Replicas, value: 100, period: 15s}]
  scaleDown:
    stabilizationWindow: 300s
    policies: [{type: Percent, value: 100, period: 15s}]
)";

void BM_EtcdState10000Services(benchmark::State& st) {
  const char* endpoint = std::getenv("QFSCALE_BENCH_ETCD");  // NOLINT(concurrency-mt-unsafe)
  if (endpoint == nullptr || *endpoint == '\0') {
    st.SkipWithError("set QFSCALE_BENCH_ETCD to an etcd URL (bench/etcd_state_bench.sh does)");
    return;
  }
  const bool changing = st.range(0) == 1;
  const bench::ControllerShape shape{.services = 10'000, .instances = 1'000};
  auto http = http::make_client(http::ClientOptions{});
  QFS_CHECK(http.has_value(), "HTTP client must be created");
  util::Random random{7};
  auto etcd = coordination::make_etcd_client(
      {.endpoints = {endpoint}, .request_timeout = std::chrono::seconds{10}}, **http, random);
  QFS_CHECK(etcd.has_value(), etcd ? std::string() : etcd.error().to_string());
  // A fresh prefix per run; the leader key's create revision is the store's fencing token.
  const std::string prefix = fmt::format("/bench{}", changing ? "-changing" : "-steady");
  QFS_CHECK((*etcd)
                ->delete_range({.key = prefix, .range_end = coordination::prefix_end(prefix)})
                .has_value(),
            "clearing the prefix");
  auto token = (*etcd)->put({.key = prefix + "/leader", .value = "bench"});
  QFS_CHECK(token.has_value(), token ? std::string() : token.error().to_string());
  controller::EtcdStateStore store(**etcd, prefix);
  store.set_fencing_token(*token);

  util::ManualClock clock;
  auto scenario = bench::make_fake_scenario(shape);
  fake::MemoryQianfanApi api(
      fake::Cloud(std::move(scenario.instances), std::move(scenario.services),
                  {.startup_delay = scenario.startup_delay}, clock.system_now()),
      clock);
  bench::BenchQpsSource qps([changing](std::size_t, std::int64_t read) {
    return changing && read % 2 == 1 ? 25.0 : 15.0;
  });
  const auto policy = bench::load_bench_policy(kProductionWindows, "<bench policy>");
  auto created = controller::Controller::create(
      bench::make_controller_config(shape, policy, "http://memory.invalid", 16),
      {.api = &api, .qps = &qps, .clock = &clock, .state_store = &store});
  QFS_CHECK(created.has_value(), created ? std::string() : created.error().to_string());
  auto& controller = **created;

  // Fill the windows first (300 s at 15 s ticks), so the figures are for full states.
  auto now = util::SystemTime{std::chrono::hours{24 * 365 * 56}};
  for (int i = 0; i < 21; ++i) {
    now += std::chrono::seconds{15};
    (void)controller.tick(now);
  }
  const auto writes0 = store.writes();
  const auto bytes0 = store.bytes_written();
  double tick_seconds = 0;
  std::int64_t failed = 0;
  for (auto _ : st) {
    now += std::chrono::seconds{15};
    const auto started = std::chrono::steady_clock::now();
    const auto report = controller.tick(now);
    // (report.duration is on the ManualClock, which does not move.)
    tick_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!report.success) ++failed;
  }
  using benchmark::Counter;
  st.counters["writes/tick"] =
      Counter(static_cast<double>(store.writes() - writes0), Counter::kAvgIterations);
  st.counters["bytes/tick"] =
      Counter(static_cast<double>(store.bytes_written() - bytes0), Counter::kAvgIterations);
  st.counters["tick_ms"] = Counter(tick_seconds * 1e3, Counter::kAvgIterations);
  st.counters["failed_ticks"] = Counter(static_cast<double>(failed));
}

BENCHMARK(BM_EtcdState10000Services)
    ->ArgNames({"changing"})
    ->Arg(0)
    ->Arg(1)
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
