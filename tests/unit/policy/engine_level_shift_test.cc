// target.slo.followLevelShifts: the normal quantile, the shift test, and the engine sizing for
// the latest tick when it is a level shift. Engine rows: 60 s metric window, 15 s ticks, replica
// qps 100, SLO 99% within 5 s (z = 2.326348, ln 100 = 4.60517), forecast off; nineteen ticks of
// 1000 qps (t = 15 .. 285) and then the row's latest tick at t = 300.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/model/decision.h"
#include "qfscale/policy/slo_sizing.h"

#include "engine_support.h"

namespace qfscale::policy {
namespace {

using namespace testing;

PolicySpec shift_following(bool follow) {
  auto spec = plain();
  spec.target.slo = SloTarget{.wait = 5s, .attainment = 0.99, .follow_level_shifts = follow};
  spec.metric_window = 60s;
  return spec;
}

Recommendation after_flat_then(const PolicySpec& spec, double latest) {
  Driver d{make(spec), {}};
  for (int t = 15; t <= 285; t += 15) d.tick(input(std::chrono::seconds{t}, 1000, 11, 100));
  return d.tick(input(300s, latest, 11, 100));
}

TEST_SUITE("policy") {
  TEST_CASE("level shift: the normal quantile") {
    struct Case {
      double p, z;
    };
    const std::vector<Case> cases = {{0.5, 0},          {0.8413447, 1.0},  {0.975, 1.959964},
                                     {0.99, 2.326348},  {0.999, 3.090232}, {0.9999, 3.719016},
                                     {0.01, -2.326348}, {0.2, -0.8416212}};
    for (const auto& c : cases) {
      CAPTURE(c.p);
      CHECK(normal_quantile(c.p) == doctest::Approx(c.z).epsilon(1e-6));
    }
  }

  TEST_CASE("level shift: a policy solves its z once, at load") {
    // The engine reads Policy::slo_z() on every tick; it is solved when the policy is created.
    PolicySpec spec;
    spec.name = "slo-999";
    spec.target.slo = SloTarget{.wait = 5s, .attainment = 0.999};
    const auto with_slo = Policy::create(spec);
    REQUIRE(with_slo.has_value());
    CHECK(with_slo->slo_z() == doctest::Approx(3.090232).epsilon(1e-6));
    spec.target.slo.reset();
    const auto without = Policy::create(spec);
    REQUIRE(without.has_value());
    CHECK(without->slo_z() == 0);
  }

  TEST_CASE("level shift: the level's variance, in units of one sample's") {
    // Samples every 15 s, the latest at now; the level is the mean of those in a 60 s window.
    std::vector<QpsSample> samples;
    for (int t = 0; t <= 300; t += 15) samples.push_back({.at = at(std::chrono::seconds{t})});
    const auto now = at(300s);
    // Four 15 s means that share no second: 1/4.
    CHECK(level_variance_share(samples, now, 60s, 15) == doctest::Approx(0.25));
    // Four 60 s means: neighbours share 3/4, 1/2, 1/4: (4 + 2 x 3.5) / 16 = 0.6875.
    CHECK(level_variance_share(samples, now, 60s, 60) == doctest::Approx(0.6875));
    // 120 s means: (4 + 2 x 4.75) / 16 = 0.84375.
    CHECK(level_variance_share(samples, now, 60s, 120) == doctest::Approx(0.84375));
    // A window of one sample: the level is that sample.
    CHECK(level_variance_share(samples, now, 15s, 15) == doctest::Approx(1));
    // No span (0): none overlap, whatever their spacing: 1/k.
    CHECK(level_variance_share(samples, now, 60s, 0) == doctest::Approx(0.25));
    CHECK(level_variance_share({}, now, 60s, 15) == 0);
  }

  TEST_CASE("level shift: latest > level + z x sqrt(V / span x (1 + level share))") {
    const SloTarget slo{.wait = 5s, .attainment = 0.99};
    struct Case {
      std::string name;
      double latest, level, variance, span, share;
      double noise, threshold;
      bool shifted;
    };
    const std::vector<Case> cases = {
        // Poisson at 1500 qps, 15 s ticks, 60 s window (share 1/4): noise sqrt(100 + 25) =
        // 11.18, threshold 1500 + 2.326 x 11.18 = 1526.0: a 10% step (1650) is a shift, +1%
        // (1515) is noise.
        {"a 10% step at 1500 qps", 1650, 1500, 1500, 15, 0.25, 11.18034, 1526.00936, true},
        {"+1% at 1500 qps", 1515, 1500, 1500, 15, 0.25, 11.18034, 1526.00936, false},
        {"just under the threshold", 1526.0, 1500, 1500, 15, 0.25, 11.18034, 1526.00936, false},
        // A bursty trickle: L 3, V 375: noise sqrt(25 + 6.25) = 5.590, threshold 16.0: a tick
        // at 15 qps is a burst the queueing term already covers (C = 14.7), not a new level.
        {"a burst in a trickle", 15, 3, 375, 15, 0.25, 5.5901699, 16.00468, false},
        {"a trickle that moved", 17, 3, 375, 15, 0.25, 5.5901699, 16.00468, true},
        // No variance: any rise is a shift; spans under 1 s count as 1 s.
        {"no noise", 100.001, 100, 0, 0.5, 0.25, 0, 100, true},
        // 1m rates, four in the window (share 0.6875): sqrt(25 x 1.6875) = 6.495.
        {"+1% in 60 s means", 1515, 1500, 1500, 60, 0.6875, 6.4951905, 1515.11007, false},
        {"+2% in 60 s means", 1530, 1500, 1500, 60, 0.6875, 6.4951905, 1515.11007, true},
        {"120 s means", 1512, 1500, 1500, 120, 0.84375, 4.8007161, 1511.16814, true},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto s = level_shift(c.latest, c.level, c.variance, c.span, c.share,
                                 normal_quantile(slo.attainment));
      CHECK(s.noise == doctest::Approx(c.noise).epsilon(1e-6));
      CHECK(s.z == doctest::Approx(2.326348).epsilon(1e-6));
      CHECK(s.threshold == doctest::Approx(c.threshold).epsilon(1e-6));
      CHECK(s.shifted == c.shifted);
    }
  }

  TEST_CASE("engine level shift: sizes for the latest tick only when it is a shift") {
    struct Case {
      std::string name;
      bool follow;
      double latest;
      double stable_qps;
      int raw;
    };
    const std::vector<Case> cases = {
        // Level (255 .. 300) = 1025; the fit's residual variance 452.4 gives V = 15 x 452.4 =
        // 6785.7; noise sqrt(6785.7 / 15 + 6785.7 / 60) = 23.78, threshold 1025 + 2.326 x 23.78
        // = 1080.3 < 1100: shifted. C at 1100 with V 6785.7: (1100 + sqrt(1100^2 + 2 x 6785.7 x
        // 4.60517 / 5)) / 2 = 1102.83 -> 12 replicas.
        {"+10%: a shift", true, 1100, 1102.8336, 12},
        // Off: C at the level 1025: (1025 + sqrt(1025^2 + 12499.7)) / 2 = 1028.04 -> 11. The
        // 1100 qps tick waits about a metricWindow to be fully seen.
        {"+10%, not following", false, 1100, 1028.0397, 11},
        // Level 1007.5, V = 1007.5 (15 x 40.71 = 610.7 is under Poisson); noise sqrt(67.17 +
        // 16.79) = 9.163, threshold 1028.82 < 1030: shifted; C(1030, 1030) = 1030.46.
        {"+3%: just a shift", true, 1030, 1030.4603, 11},
        // Level 1005, V 1005: noise 9.152, threshold 1026.29 > 1020: noise; C(1005, 1005).
        {"+2%: noise", true, 1020, 1005.4603, 11},
        // A fall is never a shift here (a scale-down waits for the window anyway): level 975,
        // V 6785.7, C = 978.19 -> 10.
        {"-10%: not followed down", true, 900, 978.1946, 10},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto r = after_flat_then(shift_following(c.follow), c.latest);
      REQUIRE(r.stable_qps.has_value());
      CHECK(*r.stable_qps == doctest::Approx(c.stable_qps).epsilon(1e-6));
      CHECK(step(r, model::Stage::RawDesired).output.value == c.raw);
    }
  }

  TEST_CASE("engine level shift: the metric-window step shows the test") {
    const auto shifted = after_flat_then(shift_following(true), 1100);
    CHECK(step(shifted, model::Stage::MetricWindow).detail ==
          "stable 1025 qps over 60s (4 samples); latest 1100 qps > 1025 + 2.326 x 23.7797 = "
          "1080.32: a level shift, sized for it; slo 99% within 5s: variance 6785.71/s from 15s "
          "means -> capacity 1102.83 qps");
    const auto noise = after_flat_then(shift_following(true), 1020);
    CHECK(step(noise, model::Stage::MetricWindow).detail ==
          "stable 1005 qps over 60s (4 samples); latest 1020 qps <= 1005 + 2.326 x 9.1515 = "
          "1026.29; slo 99% within 5s: variance 1005/s from 15s means -> capacity 1005.46 qps");
    const auto off = after_flat_then(shift_following(false), 1100);
    CHECK(step(off, model::Stage::MetricWindow).detail.find("latest") == std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::policy
