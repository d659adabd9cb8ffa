// Trace CSV parsing: the 2-day ServeGen trace (172,800 rows, about 2 MB) read into a per-second
// series. The file is read once outside the timed loop; each iteration is one parse_trace. The
// quality bar is "a few ms per parse". A second scenario times window means over the result,
// which the simulator computes every simulated tick.

#include <string>

#include <benchmark/benchmark.h>

#include "qfscale/trace/trace.h"
#include "qfscale/util/file.h"

namespace {

const std::string kServeGen = QFS_EXAMPLES_DIR "/traces/servegen-language-mmid-2d.csv";

void BM_ParseServeGenTwoDays(benchmark::State& state) {
  const auto text = qfscale::util::read_file(kServeGen, qfscale::util::kMaxTraceFileBytes);
  if (!text) {
    state.SkipWithError(("trace not available: " + text.error().to_string()).c_str());
    return;
  }
  std::size_t rows = 0;
  for (auto _ : state) {
    auto trace = qfscale::trace::parse_trace(*text, kServeGen);
    if (!trace) {
      state.SkipWithError("trace did not parse");
      return;
    }
    rows = trace->size();
    benchmark::DoNotOptimize(trace);
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(text->size()));
}
BENCHMARK(BM_ParseServeGenTwoDays)->Unit(benchmark::kMillisecond);

void BM_WindowMean60s(benchmark::State& state) {
  auto trace = qfscale::trace::load_trace(kServeGen);
  if (!trace) {
    state.SkipWithError("trace not available");
    return;
  }
  const auto n = static_cast<double>(trace->size());
  double t = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(trace->mean(t - 60, t));
    t = t + 1 < n ? t + 1 : 0;
  }
}
BENCHMARK(BM_WindowMean60s);

}  // namespace
