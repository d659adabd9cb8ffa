// The forecast in the metric-window stage: a rising trend is sized for now + horizon, anything
// that is not clearly a rise (noise, a fall, too few samples) leaves the demand figure alone.
// Every case uses `plain()`: one replica serves 10 x 0.5 = 5 qps, and the 1 s metric window makes
// the stable figure the latest sample, so raw desired without a forecast is ceil(latest / 5).

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/model/decision.h"

#include "engine_support.h"

namespace qfscale::policy {
namespace {

using namespace testing;

struct Sample {
  int t;
  double qps;
};

/// Ticks through `samples` (seconds, qps) at current = 1 and returns the last recommendation.
Recommendation run(const PolicySpec& spec, const std::vector<Sample>& samples) {
  Driver d{make(spec), {}};
  Recommendation last;
  for (const auto& s : samples) last = d.tick(input(std::chrono::seconds{s.t}, s.qps, 1));
  return last;
}

PolicySpec forecasting(std::chrono::seconds horizon = 90s, std::chrono::seconds window = 300s) {
  auto spec = plain();
  spec.forecast = {.enabled = true, .horizon = horizon, .window = window};
  return spec;
}

TEST_SUITE("policy") {
  TEST_CASE("engine forecast: a rising trend is sized for now + horizon") {
    struct Case {
      std::string name;
      PolicySpec spec;
      std::vector<Sample> samples;
      double stable_qps;
      int raw;
    };
    const std::vector<Case> cases = {
        // 10, 20, 30, 40 at 15 s steps: slope 2/3 qps/s, no residuals. At now = 45 the line is
        // at 40; +90 s: 40 + 60 = 100 qps -> ceil(100 / 5) = 20.
        {"exact line, 90 s ahead", forecasting(), {{0, 10}, {15, 20}, {30, 30}, {45, 40}}, 100, 20},
        // Horizon 0: the line's value at now, 40 -> 8 (= the latest sample: no lift beyond it).
        {"horizon 0 gives the line at now",
         forecasting(0s),
         {{0, 10}, {15, 20}, {30, 30}, {45, 40}},
         40,
         8},
        // Forecast off: the latest sample, 40 -> 8.
        {"disabled", plain(), {{0, 10}, {15, 20}, {30, 30}, {45, 40}}, 40, 8},
        // Falling 40, 30, 20, 10: never sized below the stable figure, 10 -> 2.
        {"a falling trend is not used",
         forecasting(),
         {{0, 40}, {15, 30}, {30, 20}, {45, 10}},
         10,
         2},
        // Two samples always fit a line: no forecast, 20 -> 4.
        {"fewer than three samples", forecasting(), {{0, 10}, {15, 20}}, 20, 4},
        // 10, 12, 10, 12, 10, 12: slope 45 / 3937.5 = 0.0114 qps/s, standard error
        // sqrt(5.486 / 4 / 3937.5) = 0.0187; 0.0114 < 2 x 0.0187, so it is noise: 12 -> 3.
        {"noise is not a trend",
         forecasting(),
         {{0, 10}, {15, 12}, {30, 10}, {45, 12}, {60, 10}, {75, 12}},
         12,
         3},
        // Window 60 s at now = 75: samples at 30, 45, 60, 75 (> 15) = 10, 20, 30, 40, slope 2/3;
        // the old peak of 100 at t = 0 and 15 is outside. 40 + 60 = 100 qps -> 20. With it
        // inside, the slope would be negative and the answer 40 / 5 = 8.
        {"only samples inside the window count",
         forecasting(90s, 60s),
         {{0, 100}, {15, 100}, {30, 10}, {45, 20}, {60, 30}, {75, 40}},
         100,
         20},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto r = run(c.spec, c.samples);
      REQUIRE(r.stable_qps.has_value());
      CHECK(*r.stable_qps == doctest::Approx(c.stable_qps));
      CHECK(step(r, model::Stage::RawDesired).output.value == c.raw);
    }
  }

  TEST_CASE("engine forecast: the metric step explains the trend") {
    auto spec = forecasting();
    Driver d{make(spec), {}};
    d.tick(input(0s, 10, 1));
    d.tick(input(15s, 20, 1));
    CHECK(step(d.tick(input(30s, 30, 1)), model::Stage::MetricWindow).detail ==
          "stable 30 qps over 1s (1 samples); trend over 300s at +90s 90 qps, sized for it");
    CHECK(step(d.tick(input(45s, 5, 1)), model::Stage::MetricWindow).detail ==
          "stable 5 qps over 1s (1 samples); no clear rising trend");
  }

  TEST_CASE("engine forecast: samples are kept for the forecast window, and no longer") {
    Driver d{make(forecasting(90s, 60s)), {}};
    for (int t = 0; t <= 300; t += 15) d.tick(input(std::chrono::seconds{t}, 10, 1));
    // At 300 the window holds samples at > 240: 255, 270, 285, 300.
    CHECK(d.state.samples.size() == 4);
    Driver off{make(plain()), {}};
    for (int t = 0; t <= 300; t += 15) off.tick(input(std::chrono::seconds{t}, 10, 1));
    CHECK(off.state.samples.size() == 1);
  }
}

}  // namespace
}  // namespace qfscale::policy
