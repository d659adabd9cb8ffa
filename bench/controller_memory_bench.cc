// The controller's memory at 1,000 and 10,000 configured services (10 services per compute-unit
// instance), every service on the shipped `balanced` policy, against the in-memory Qianfan API
// (fake/memory_qianfan_api.h over fake::Cloud: no HTTP, no call log) and a table-driven QPS source.
//
// Heap in use is glibc's mallinfo2() over all arenas (uordblks + hblkhd: small and mmapped
// chunks in use), sampled
//   base    after the API fake, the QPS source and the policy exist (not the controller's);
//   config  after the Config and the Controller (and, with exporter:1, the Prometheus exporter
//           that `qfscale run` attaches) are built;
//   warm    after 40 ticks at 15 s (600 s of history: balanced keeps 60 s of samples, 300 s of
//           recommendations for the scale-down stabilization and 60 s of scale events, so every
//           window is full), the last TickReport destroyed;
//   report  during one more tick's TickReport, while it is held (the per-tick transient).
// Counters: config_B/svc, retained_B/svc (warm - base, per service) and retained_MiB,
// report_B/svc; VmRSS_MiB at `warm`, rss_B/svc ((VmRSS at warm - at base) per service) and
// series/svc (exporter:1: /metrics series naming a service, per service, after the last tick);
// VmHWM_MiB of the whole process from /proc/self/status (they include the API fake and the
// benchmark library, so run one row per process for a clean VmHWM); trimmed_RSS_MiB and
// arena_free_MiB after malloc_trim(0) at `warm` (freed per-tick memory that glibc keeps in its
// arenas, e.g. the observe workers', is most of the gap between RSS and the heap in use). The
// timed loop (Time column) is one in-memory tick, no HTTP.
//
// One row per process (likewise services:1000 and exporter:1), from build/release/bench:
//   ./qfscale_bench --benchmark_filter='ControllerMemory/services:10000/exporter:0'

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <numbers>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <malloc.h>

#include "qfscale/controller/controller.h"
#include "qfscale/fake/memory_qianfan_api.h"
#include "qfscale/telemetry/exporter.h"
#include "qfscale/util/check.h"
#include "qfscale/util/clock.h"

#include "support/bench_qps_source.h"
#include "support/controller_scenario.h"

namespace {

using namespace qfscale;

struct Memory {
  double heap = 0;  // bytes in use, all arenas
  double rss = 0;   // VmRSS, bytes
  double hwm = 0;   // VmHWM, bytes
  double free = 0;  // free bytes kept inside the arenas (fordblks): fragmentation, caches
};

double status_kib(const std::string& text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

Memory sample() {
  const struct mallinfo2 m = mallinfo2();
  Memory out{.heap = static_cast<double>(m.uordblks + m.hblkhd),
             .free = static_cast<double>(m.fordblks)};
  std::ifstream in("/proc/self/status");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  out.rss = status_kib(text, "VmRSS:") * 1024;
  out.hwm = status_kib(text, "VmHWM:") * 1024;
  return out;
}

/// Service k's QPS at tick n: a level of 10-40 QPS (2-6 replicas of 10 QPS at 70%) swinging
/// +-60% over a 16-tick (4 min) period with its own phase, so services scale up and down and
/// every engine window holds real history.
double traffic(std::size_t k, std::int64_t n) {
  const double base = 10 + static_cast<double>((k * 7919) % 31);
  const double phase = static_cast<double>(k % 16);
  return base * (1 + 0.6 * std::sin(2 * std::numbers::pi * (static_cast<double>(n) + phase) / 16));
}

// Args: services, exporter (0: the controller alone, 1: with the Prometheus exporter sink).
void BM_ControllerMemory(benchmark::State& st) {
  const int services = static_cast<int>(st.range(0));
  const bool with_exporter = st.range(1) != 0;
  // 64 QPS / (10 x 0.7) -> 10 replicas at most; 12 per service leaves headroom on every instance.
  const bench::ControllerShape shape{
      .services = services, .instances = services / 10, .max_replicas = 12};
  const util::SystemClock clock;  // latencies and TickReport::duration
  util::ManualClock now;
  auto scenario = bench::make_fake_scenario(shape);
  fake::MemoryQianfanApi api(
      fake::Cloud(std::move(scenario.instances), std::move(scenario.services),
                  {.startup_delay = scenario.startup_delay}, now.system_now()),
      now);
  bench::BenchQpsSource qps(traffic);
  const auto text = controller::shipped_policy("balanced");
  QFS_CHECK(text.has_value(), "the balanced policy is shipped");
  const auto policy = bench::load_bench_policy(*text, "balanced.yaml");

  malloc_trim(0);
  const Memory base = sample();
  Memory config;
  Memory warm;
  Memory report;
  Memory trimmed;
  double failed = 0;
  double series_per_service = 0;
  {
    std::unique_ptr<telemetry::Exporter> exporter;
    controller::Dependencies deps{.api = &api, .qps = &qps, .clock = &clock};
    if (with_exporter) {
      auto made = telemetry::Exporter::create({}, clock);
      QFS_CHECK(made.has_value(), "the exporter must be created");
      exporter = std::move(*made);
      deps.sinks.push_back(exporter.get());
    }
    auto created = controller::Controller::create(
        bench::make_controller_config(shape, policy, "http://unused.invalid", 16), deps);
    QFS_CHECK(created.has_value(), created ? std::string() : created.error().to_string());
    auto& ctl = **created;
    config = sample();

    const auto tick = [&] {
      now.advance(std::chrono::seconds{15});
      auto r = ctl.tick(now.system_now());
      if (!r.success || !r.errors.empty()) ++failed;
      return r;
    };
    for (int i = 0; i < 40; ++i) benchmark::DoNotOptimize(tick());
    warm = sample();
    malloc_trim(0);  // what the process would hold with the allocator's caches given back
    trimmed = sample();
    for (auto _ : st) benchmark::DoNotOptimize(tick());
    {
      const auto held = tick();
      report = sample();
    }
    if (exporter) {  // after every sample: the exposition text is not the exporter's to keep
      const std::string metrics = exporter->render_metrics();
      double lines = 0;
      for (std::size_t at = 0; (at = metrics.find("{service=\"", at)) != std::string::npos; ++at) {
        ++lines;
      }
      for (std::size_t at = 0; (at = metrics.find(",service=\"", at)) != std::string::npos; ++at) {
        ++lines;
      }
      series_per_service = lines / services;
    }
  }
  if (failed > 0) st.SkipWithError("a tick failed or reported errors");
  const double n = services;
  st.counters["config_B/svc"] = (config.heap - base.heap) / n;
  st.counters["retained_B/svc"] = (warm.heap - base.heap) / n;
  st.counters["retained_MiB"] = (warm.heap - base.heap) / (1 << 20);
  st.counters["report_B/svc"] = (report.heap - warm.heap) / n;
  st.counters["VmRSS_MiB"] = warm.rss / (1 << 20);
  st.counters["rss_B/svc"] = (warm.rss - base.rss) / n;
  st.counters["trimmed_RSS_MiB"] = trimmed.rss / (1 << 20);
  st.counters["arena_free_MiB"] = trimmed.free / (1 << 20);
  st.counters["VmHWM_MiB"] = report.hwm / (1 << 20);
  st.counters["base_RSS_MiB"] = base.rss / (1 << 20);
  if (with_exporter) st.counters["series/svc"] = series_per_service;
}
BENCHMARK(BM_ControllerMemory)
    ->ArgNames({"services", "exporter"})
    ->ArgsProduct({{1'000, 10'000}, {0, 1}})
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
