// The live loop: one controller tick over 1,000 services against the fake Qianfan, over signed
// HTTP on loopback (docs/DESIGN.md quality bar: "1,000 services reconciled against the fake within
// one second"). Everything is the production stack: the fake's Beast server (2 threads) with
// signature checks and capacity accounting, the Beast keep-alive client, the signed Qianfan
// client and the controller; only the QPS source is a fixed table (bench_qps_source.h).
//
// Each iteration is one `Controller::tick(now)`, `now` moving 15 s per tick on a ManualClock.
// A tick is 1,000 DescribeService + 100 DescribeComputeUnit (at most `concurrency` in flight),
// the engine and the allocator, and the ScaleService calls (at most `concurrency` in flight,
// every down back before the first up).
//   changing:0  steady: every reading is 15 QPS, 2 replicas of 10 QPS each fit: no scale calls.
//   changing:1  every reading alternates 15 / 25 QPS each tick, so every service goes
//               2 -> 3 -> 2 replicas: 1,000 ScaleService calls per tick (half the ticks up,
//               half down). The policy has no tolerance, no stabilization and no rate limit
//               that would hold a change back.
//
// Counters: describe/tick and scale/tick (API calls per tick), tick_ms (TickReport::duration),
// scale_ms (summed ScaleService latency per tick; above the act phase's wall time when calls
// overlap),
// describe_ms (summed Describe* latency per tick: the observe phase at concurrency 1),
// max_call_ms (slowest single call of the run), loadavg1 (the machine's 1-minute load average at
// the end of the run: other work on this shared machine shows up as scheduling delay).
// CPU is the benchmark thread only; the observe workers and the fake's threads are not in it.
//
//   cmake --preset release && cmake --build --preset release --target qfscale_bench
//   build/release/bench/qfscale_bench --benchmark_filter=LiveLoop --benchmark_repetitions=3

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "qfscale/controller/controller.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/util/check.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/random.h"

#include "support/bench_qps_source.h"
#include "support/controller_scenario.h"

namespace {

using namespace qfscale;

// Every tick acts on the reading of that tick: utilization 1 and tolerance 0 make desired =
// ceil(qps / 10), so 15 QPS -> 2 replicas and 25 QPS -> 3; a 1 s metric window at 15 s ticks
// holds only the current sample; no panic, no stabilization, and rate limits far above 1 replica.
constexpr std::string_view kEveryTickPolicy = R"(apiVersion: qfscale/v1
kind: ScalingPolicy
metadata: {name: bench-every-tick}
spec:
  target: {utilization: 1.0, tolerance: 0}
  replicas: {min: 1, max: 20}
  metricWindow: 1s
  panic: {enabled: false}
  scaleUp:
    stabilizationWindow: 0s
    select: Max
    policies: [{type: Replicas, value: 100, period: 1s}]
  scaleDown:
    stabilizationWindow: 0s
    select: Max
    policies: [{type: Replicas, value: 100, period: 1s}]
)";

constexpr double kLowQps = 15;   // 2 replicas
constexpr double kHighQps = 25;  // 3 replicas

/// The fake behind its server, the signed client and the controller, for one benchmark run.
struct LiveStack {
  util::SystemClock clock;  // x-bce-date, the fake's signature window, call latencies
  util::Random random{7};   // retry jitter (max_attempts is 1: never used)
  std::unique_ptr<fake::FakeQianfan> qianfan;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Client> http;
  std::unique_ptr<qianfan::QianfanApi> api;
  std::unique_ptr<bench::BenchQpsSource> qps;
  std::unique_ptr<controller::Controller> controller;

  LiveStack(const bench::ControllerShape& shape, int concurrency, bool changing,
            std::chrono::milliseconds api_latency) {
    auto scenario = bench::make_fake_scenario(shape);
    scenario.credentials = fake::generate_credentials();
    // The fake answers after a timer, so slow answers do not hold its two threads.
    if (api_latency.count() > 0) {
      scenario.faults.actions.emplace_back("*", fake::ActionFaults{.latency = api_latency});
    }
    auto fake = fake::FakeQianfan::create(std::move(scenario), clock);
    QFS_CHECK(fake.has_value(), fake ? std::string() : fake.error().to_string());
    qianfan = std::move(*fake);
    auto started = http::start_server({.listen = "127.0.0.1:0", .threads = 2}, qianfan->router());
    QFS_CHECK(started.has_value(), "fake server must start on 127.0.0.1:0");
    server = std::move(*started);
    auto client = http::make_client(http::ClientOptions{});
    QFS_CHECK(client.has_value(), "HTTP client must be created");
    http = std::move(*client);

    const auto policy = bench::load_bench_policy(kEveryTickPolicy, "<bench policy>");
    auto config = bench::make_controller_config(
        shape, policy, fmt::format("http://{}", server->address()), concurrency);
    auto made =
        qianfan::make_qianfan_client({.credentials = qianfan->credentials(),
                                      .base_url = config.qianfan.base_url,
                                      .retry = {.max_attempts = config.qianfan.max_attempts},
                                      .request_timeout = config.qianfan.timeout},
                                     *http, clock, random);
    QFS_CHECK(made.has_value(), "Qianfan client must be created");
    api = std::move(*made);
    qps = std::make_unique<bench::BenchQpsSource>([changing](std::size_t, std::int64_t read) {
      return changing && read % 2 == 1 ? kHighQps : kLowQps;
    });
    auto created = controller::Controller::create(
        std::move(config), {.api = api.get(), .qps = qps.get(), .clock = &clock});
    QFS_CHECK(created.has_value(), created ? std::string() : created.error().to_string());
    controller = std::move(*created);
  }
  ~LiveStack() { server->stop(); }
  LiveStack(const LiveStack&) = delete;
  LiveStack& operator=(const LiveStack&) = delete;
  LiveStack(LiveStack&&) = delete;
  LiveStack& operator=(LiveStack&&) = delete;
};

/// Calls of one tick by action, and whether anything went wrong.
struct TickCount {
  std::int64_t describe = 0;
  std::int64_t scale = 0;
  std::int64_t failed = 0;   // API calls that did not return Ok, plus tick errors
  double scale_seconds = 0;  // summed ScaleService latency
  double max_seconds = 0;    // slowest single call
  double describe_seconds = 0;
};

TickCount count(const telemetry::TickReport& report) {
  TickCount c;
  for (const auto& call : report.api_calls) {
    if (call.action == telemetry::ApiAction::ScaleService) {
      ++c.scale;
      c.scale_seconds += call.latency.count();
    } else {
      ++c.describe;
      c.describe_seconds += call.latency.count();
    }
    if (call.code != telemetry::ApiCode::Ok) ++c.failed;
    c.max_seconds = std::max(c.max_seconds, call.latency.count());
  }
  c.failed += static_cast<std::int64_t>(report.errors.size()) + (report.success ? 0 : 1);
  return c;
}

// Args: changing (0 steady, 1 every service scales each tick), qianfan.concurrency, and the
// latency the fake adds to every answer in ms (a remote API instead of loopback).
void BM_LiveLoop1000Services(benchmark::State& st) {
  const bool changing = st.range(0) != 0;
  const int concurrency = static_cast<int>(st.range(1));
  const std::chrono::milliseconds latency{st.range(2)};
  const bench::ControllerShape shape{.services = 1'000, .instances = 100};
  LiveStack stack(shape, concurrency, changing, latency);
  util::ManualClock now;
  // The first tick opens the keep-alive connections and, for `changing`, is the 15 QPS reading
  // that matches the 2 starting replicas; timed ticks then alternate 25 / 15 QPS.
  if (count(stack.controller->tick(now.system_now())).failed != 0) {
    st.SkipWithError("the warm-up tick failed");
    return;
  }
  TickCount total;
  double tick_seconds = 0;
  for (auto _ : st) {
    now.advance(std::chrono::seconds{15});
    const auto report = stack.controller->tick(now.system_now());
    const auto c = count(report);
    total.describe += c.describe;
    total.scale += c.scale;
    total.failed += c.failed;
    total.scale_seconds += c.scale_seconds;
    total.describe_seconds += c.describe_seconds;
    total.max_seconds = std::max(total.max_seconds, c.max_seconds);
    tick_seconds += report.duration.count();
  }
  const std::int64_t want_scale = changing ? shape.services : 0;
  if (total.failed != 0 || total.scale != want_scale * st.iterations()) {
    st.SkipWithError(fmt::format("{} failed calls or tick errors; {} ScaleService calls, wanted {}",
                                 total.failed, total.scale, want_scale * st.iterations())
                         .c_str());
  }
  using benchmark::Counter;
  st.counters["describe/tick"] =
      Counter(static_cast<double>(total.describe), Counter::kAvgIterations);
  st.counters["scale/tick"] = Counter(static_cast<double>(total.scale), Counter::kAvgIterations);
  // The controller's own measure (TickReport::duration); the Time column is the same plus the
  // report's destruction.
  st.counters["tick_ms"] = Counter(tick_seconds * 1e3, Counter::kAvgIterations);
  st.counters["scale_ms"] = Counter(total.scale_seconds * 1e3, Counter::kAvgIterations);
  st.counters["describe_ms"] = Counter(total.describe_seconds * 1e3, Counter::kAvgIterations);
  st.counters["max_call_ms"] = total.max_seconds * 1e3;
  double load[1] = {0};
  if (getloadavg(load, 1) == 1) st.counters["loadavg1"] = load[0];
}
BENCHMARK(BM_LiveLoop1000Services)
    ->ArgNames({"changing", "concurrency", "latency_ms"})
    ->ArgsProduct({{0, 1}, {1, 16, 64}, {0}})
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// A remote API: 10 ms per answer. Serially that is 21 s per changing tick, so only the
// concurrent settings run here.
BENCHMARK(BM_LiveLoop1000Services)
    ->ArgNames({"changing", "concurrency", "latency_ms"})
    ->ArgsProduct({{1}, {16, 64}, {10}})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
