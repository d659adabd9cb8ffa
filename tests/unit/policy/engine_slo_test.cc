// target.slo: the capacity formula, the burstiness estimate, and the engine sizing with them.
// Engine rows use `plain()` plus an SLO of 99% within 5 s: replica_qps 10 serves 10 qps per
// replica (utilization is not used), and the 1 s metric window makes the level the latest sample.
// ln(1 / 0.01) = 4.60517.

#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/model/decision.h"
#include "qfscale/policy/slo_sizing.h"

#include "engine_support.h"

namespace qfscale::policy {
namespace {

using namespace testing;

const SloTarget kSlo99{.wait = 5s, .attainment = 0.99};

PolicySpec slo_sized(bool forecast = false) {
  auto spec = plain();
  spec.target.slo = kSlo99;
  spec.forecast.enabled = forecast;
  return spec;
}

TEST_SUITE("policy") {
  TEST_CASE("slo sizing: capacity = (L + sqrt(L^2 + 2 V ln(1/eps) / w)) / 2") {
    struct Case {
      std::string name;
      double level, variance;
      SloTarget slo;
      double capacity;
    };
    const std::vector<Case> cases = {
        // (1000 + sqrt(1e6 + 2 x 1000 x 4.60517 / 5)) / 2
        {"Poisson at 1000 qps", 1000, 1000, kSlo99, 1000.4603},
        {"40 x Poisson at 1000 qps", 1000, 40000, kSlo99, 1018.0933},
        {"a bursty trickle", 3, 375, kSlo99, 14.726635},
        {"Poisson at 10 qps", 10, 10, kSlo99, 10.441063},
        {"nothing at all", 0, 0, kSlo99, 0},
        {"no level, some variance", 0, 10, kSlo99, 2.145966},
        // ln(1000) = 6.90776: a stricter SLO needs more.
        {"99.9%", 1000, 1000, {.wait = 5s, .attainment = 0.999}, 1000.6903},
        // A longer wait needs less: 2 x 1000 x 4.60517 / 50.
        {"50 s wait", 1000, 1000, {.wait = 50s, .attainment = 0.99}, 1000.0461},
        {"negative inputs count as 0", -5, -5, kSlo99, 0},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(slo_capacity(c.level, c.variance, c.slo) == doctest::Approx(c.capacity).epsilon(1e-6));
    }
  }

  TEST_CASE("slo sizing: the line fit and the per-second variance") {
    std::vector<QpsSample> samples;
    const double ys[] = {10, 30, 10, 30, 10, 30};
    for (int i = 0; i < 6; ++i)
      samples.push_back({.at = at(std::chrono::seconds{15 * i}), .qps = ys[i]});
    // Times -75 .. 0: mean -37.5, sxx 3937.5; slope 450 / 3937.5 = 0.1143; residuals about the
    // line 548.57 over 4 degrees of freedom = 137.14.
    const auto fit = fit_line(samples, at(75s), 300s, 0s);
    REQUIRE(fit.has_value());
    CHECK(fit->samples == 6);
    CHECK(fit->spacing == doctest::Approx(15));
    CHECK(fit->slope == doctest::Approx(0.1142857));
    CHECK(fit->residual_variance == doctest::Approx(137.142857));
    CHECK(fit->residual_freedom == doctest::Approx(4));  // no overlap: n - 2
    CHECK(fit->slope_standard_error == doctest::Approx(std::sqrt(137.142857 / 3937.5)));
    // Each sample the mean since the previous one: span = spacing = 15 s, and
    // 15 x 137.14 = 2057.1 > the Poisson floor of 30.
    CHECK(sample_seconds(fit, 0s) == doctest::Approx(15));
    CHECK(per_second_variance(fit, 30) == doctest::Approx(2057.142857));
    // A level above that: Poisson wins.
    CHECK(per_second_variance(fit, 3000) == doctest::Approx(3000));
    // 5 s means 15 s apart do not overlap either: the same fit, V = 5 x 137.14.
    const auto short_span = fit_line(samples, at(75s), 300s, 5s);
    REQUIRE(short_span.has_value());
    CHECK(short_span->residual_freedom == doctest::Approx(4));
    CHECK(per_second_variance(short_span, 30) == doctest::Approx(685.714286));
    // The same values said to be 60 s means: neighbours share 3/4, 1/2 and 1/4 of their seconds,
    // which leaves tr((I - H) R) = 1.1619 degrees of freedom for the residual 548.57 (a zig-zag
    // that overlapping means can hardly show), so sigma^2 = 472.13 and V = 60 x 472.13 = 28328;
    // the slope's standard error grows from 0.1866 to 0.4477.
    const auto overlapping = fit_line(samples, at(75s), 300s, 60s);
    REQUIRE(overlapping.has_value());
    CHECK(sample_seconds(overlapping, 60s) == 60);
    CHECK(overlapping->residual_freedom == doctest::Approx(1.161905));
    CHECK(overlapping->slope_standard_error == doctest::Approx(0.447677));
    CHECK(per_second_variance(overlapping, 30) == doctest::Approx(28327.8689));
    // 120 s means: under one degree of freedom (0.533) is no estimate: Poisson, and no slope is
    // clear, however steep (the forecast's test is slope > 2 standard errors).
    const auto too_long = fit_line(samples, at(75s), 300s, 120s);
    REQUIRE(too_long.has_value());
    CHECK(too_long->residual_freedom == doctest::Approx(0.533333));
    CHECK(per_second_variance(too_long, 30) == 30);
    CHECK(std::isinf(too_long->slope_standard_error));
    CHECK_FALSE(too_long->slope > 2 * too_long->slope_standard_error);
    // Without a span a missed tick is not overlap: samples 15 s apart but one 30 s gap (mean
    // spacing 18 s) keep n - 2 = 3 degrees of freedom.
    std::vector<QpsSample> gap;
    for (const int t : {0, 15, 45, 60, 75}) gap.push_back({.at = at(std::chrono::seconds{t})});
    for (std::size_t i = 0; i < gap.size(); ++i) gap[i].qps = i % 2 == 0 ? 10 : 30;
    const auto with_gap = fit_line(gap, at(75s), 300s, 0s);
    REQUIRE(with_gap.has_value());
    CHECK(with_gap->span == doctest::Approx(18.75));
    CHECK(with_gap->residual_freedom == doctest::Approx(3));
    // No fit (fewer than three samples): Poisson, and a span of 1 s unless told.
    CHECK_FALSE(fit_line(samples, at(75s), 30s, 0s).has_value());
    CHECK(per_second_variance(std::nullopt, 30) == 30);
    CHECK(per_second_variance(std::nullopt, -1) == 0);
    CHECK(sample_seconds(std::nullopt, 0s) == 1);
    CHECK(sample_seconds(std::nullopt, 5s) == 5);
  }

  TEST_CASE("slo sizing: overlapping means give back the seconds' variance, on average") {
    // Independent seconds of variance 400 about 1000 qps, read as means over `span` every 15 s;
    // each tick fits the last 300 s. Averaged over 13,000 ticks the estimate is the truth within
    // 10% when the span is told; 60 s means taken for 15 s ones show less than a quarter of it
    // (a quarter from the span, less again as overlapping values hug the line: 73 of 400 here).
    constexpr std::size_t kSeconds = 200'000;
    std::mt19937_64 random(7);
    std::normal_distribution<double> second(1000, 20);
    std::vector<double> prefix(kSeconds + 1, 0);
    for (std::size_t i = 0; i < kSeconds; ++i) prefix[i + 1] = prefix[i] + second(random);
    const auto mean_estimate = [&](std::size_t span, std::chrono::seconds told) {
      std::vector<QpsSample> samples;
      double sum = 0;
      int fits = 0;
      for (std::size_t t = 300; t <= kSeconds; t += 15) {
        const auto now = at(std::chrono::seconds{static_cast<std::int64_t>(t)});
        samples.push_back(
            {.at = now, .qps = (prefix[t] - prefix[t - span]) / static_cast<double>(span)});
        if (samples.size() < 20) continue;
        const auto fit = fit_line(samples, now, 300s, told);
        REQUIRE(fit.has_value());
        sum += fit->span * fit->residual_variance;
        ++fits;
        samples.erase(samples.begin());
      }
      return sum / fits;
    };
    CHECK(mean_estimate(15, 15s) == doctest::Approx(400).epsilon(0.1));
    CHECK(mean_estimate(60, 60s) == doctest::Approx(400).epsilon(0.1));
    CHECK(mean_estimate(120, 120s) == doctest::Approx(400).epsilon(0.1));
    CHECK(mean_estimate(60, 0s) < 400.0 / 4);
  }

  TEST_CASE("engine slo: raw desired is ceil(slo capacity / replica qps)") {
    struct Sample {
      int t;
      double qps;
    };
    struct Case {
      std::string name;
      PolicySpec spec;
      std::vector<Sample> samples;
      double stable_qps;
      int raw;
      std::chrono::seconds span{0};  ///< EngineInput::sample_span; 0: the 15 s spacing
    };
    const std::vector<Case> cases = {
        // One sample, no fit: V = L. 99.5 -> (99.5 + sqrt(9900.25 + 183.27)) / 2 = 99.958 -> 10.
        {"just under a replica boundary", slo_sized(), {{0, 99.5}}, 99.9584, 10},
        // 100 -> 100.458: the Poisson headroom crosses the boundary -> 11.
        {"at a replica boundary", slo_sized(), {{0, 100}}, 100.4584, 11},
        // Flat 100: residuals 0, so V = L again.
        {"flat", slo_sized(), {{0, 100}, {15, 100}, {30, 100}, {45, 100}}, 100.4584, 11},
        // Level 30 (latest), V = 15 x 137.14 = 2057.1: C = (30 + sqrt(900 + 3789.3)) / 2 = 49.24
        // -> 5. At utilization 0.5 it would be ceil(30 / 5) = 6, at 1.0 3.
        {"bursty",
         slo_sized(),
         {{0, 10}, {15, 30}, {30, 10}, {45, 30}, {60, 10}, {75, 30}},
         49.2396,
         5},
        // The same samples said to be 60 s means (a 1m rate read every 15 s): V = 28328 (the fit
        // test above), C = (30 + sqrt(900 + 52182)) / 2 = 130.2 -> 14.
        {"bursty, 60 s means",
         slo_sized(),
         {{0, 10}, {15, 30}, {30, 10}, {45, 30}, {60, 10}, {75, 30}},
         130.197507,
         14,
         60s},
        // Said to be 5 s means (a 5 s rate read every 15 s): V = 685.7, C = 38.25 -> 4.
        {"bursty, 5 s means",
         slo_sized(),
         {{0, 10}, {15, 30}, {30, 10}, {45, 30}, {60, 10}, {75, 30}},
         38.2547,
         4,
         5s},
        // Said to be 15 s means: what the spacing gives.
        {"bursty, 15 s means",
         slo_sized(),
         {{0, 10}, {15, 30}, {30, 10}, {45, 30}, {60, 10}, {75, 30}},
         49.2396,
         5,
         15s},
        // A clear rise 10, 20, 30, 40: the forecast puts the level at 100 (+90 s), the line has no
        // residuals, V = 100: 100.458 -> 11.
        {"rising trend", slo_sized(true), {{0, 10}, {15, 20}, {30, 30}, {45, 40}}, 100.4584, 11},
        // The same without the forecast: level 40, V = 40: 40.455 -> 5.
        {"rising trend, forecast off",
         slo_sized(),
         {{0, 10}, {15, 20}, {30, 30}, {45, 40}},
         40.4553,
         5},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      Driver d{make(c.spec), {}};
      Recommendation last;
      for (const auto& s : c.samples) {
        auto in = input(std::chrono::seconds{s.t}, s.qps, 1);
        in.sample_span = c.span;
        last = d.tick(in);
      }
      REQUIRE(last.stable_qps.has_value());
      CHECK(*last.stable_qps == doctest::Approx(c.stable_qps).epsilon(1e-5));
      CHECK(step(last, model::Stage::RawDesired).output.value == c.raw);
    }
  }

  TEST_CASE("engine slo: utilization is not used, and the step says what it sized for") {
    auto a = slo_sized();
    auto b = slo_sized();
    b.target.utilization = 0.2;
    const auto ra = recommend(make(a), input(0s, 100, 1), {}).recommendation;
    const auto rb = recommend(make(b), input(0s, 100, 1), {}).recommendation;
    CHECK(ra.replicas == rb.replicas);
    CHECK(ra.replicas.value == 11);
    CHECK(step(ra, model::Stage::MetricWindow).detail ==
          "stable 100 qps over 1s (1 samples); slo 99% within 5s: variance 100/s -> capacity "
          "100.458 qps");
    CHECK(step(ra, model::Stage::RawDesired).detail ==
          "max(1, ceil(100.458 / (10 x 1))) = max(1, ceil(10.0458)) = 11");
  }

  TEST_CASE("engine slo: the samples are kept for the fit window, not only the metric window") {
    auto spec = slo_sized();
    Driver d{make(spec), {}};
    for (int t = 0; t <= 300; t += 15) d.tick(input(std::chrono::seconds{t}, 10, 1));
    // Samples with at > 300 - 300 = 0 stay: 15 .. 300, 20 of them (1 s would keep one).
    CHECK(d.state.samples.size() == 20);
  }
}

}  // namespace
}  // namespace qfscale::policy
