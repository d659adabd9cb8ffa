#include "qfscale/sim/floor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/sim/simulator.h"

#include "sim_fixtures.h"

namespace {

using namespace std::chrono_literals;
using qfscale::sim::OverCapacityFloor;

OverCapacityFloor build(const std::vector<float>& demand, double q, std::chrono::seconds tick,
                        std::chrono::seconds delay) {
  auto f = OverCapacityFloor::build(demand, q, tick, delay);
  REQUIRE(f);
  return *f;
}

/// The segments the ready count is constant on, straight from the definition in floor.h.
std::vector<std::pair<int, int>> segments(int n, int tick, int delay) {
  std::vector<int> cuts = {0, n};
  for (int t = tick; t < n; t += tick) {
    cuts.push_back(t);
    if (t + delay < n) cuts.push_back(t + delay);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<std::pair<int, int>> out;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) out.emplace_back(cuts[i], cuts[i + 1]);
  return out;
}

/// Brute force over every whole ready count per segment: the fewest requests over capacity at
/// a cost of at most `budget` replica-seconds.
double brute_force(const std::vector<float>& d, double q, int tick, int delay, double budget) {
  const auto segs = segments(static_cast<int>(d.size()), tick, delay);
  std::vector<int> top;  // the count that serves the whole segment
  for (auto [a, b] : segs) {
    float peak = 0;
    for (int s = a; s < b; ++s) peak = std::max(peak, d[static_cast<std::size_t>(s)]);
    top.push_back(static_cast<int>(std::ceil(peak / q)));
  }
  double best = std::numeric_limits<double>::infinity();
  std::vector<int> c(segs.size(), 0);
  std::function<void(std::size_t, double, double)> walk = [&](std::size_t j, double cost,
                                                              double over) {
    if (cost > budget + 1e-9) return;
    if (j == segs.size()) {
      best = std::min(best, over);
      return;
    }
    for (int k = 0; k <= top[j]; ++k) {
      double o = 0;
      for (int s = segs[j].first; s < segs[j].second; ++s) {
        o += std::max(0.0, d[static_cast<std::size_t>(s)] - k * q);
      }
      walk(j + 1, cost + k * (segs[j].second - segs[j].first), over + o);
    }
  };
  walk(0, 0, 0);
  return best;
}

}  // namespace

TEST_SUITE("sim") {
  TEST_CASE("floor: a worked example, band by band") {
    // tick 2, no delay: segments [0,2) = {4, 0} and [2,4) = {2, 6}; q = 2, 12 requests.
    // Bands (replica-seconds, requests served, per replica-second):
    //   [2,4) first replica: serves 2 + 2 in 2 s -> density 2
    //   [0,2) replicas 1-2 (only the 4 is above): 4 in 4 s -> 1
    //   [2,4) replicas 2-3 (only the 6 is above): 4 in 4 s -> 1
    const auto f = build({4, 0, 2, 6}, 2, 2s, 0s);
    CHECK(f.requests_total() == 12);
    CHECK(f.items() == 3);
    const std::vector<std::pair<double, double>> rows = {
        {0, 12}, {1, 10},                    // half of the first band: 2 of its 4
        {2, 8},  {4, 6},   {6, 4},  {8, 2},  // half of the last band
        {10, 0}, {1e9, 0}, {-5, 12}};
    for (const auto& row : rows) {
      const double budget = row.first;  // CAPTURE cannot take a structured binding (clang 14)
      CAPTURE(budget);
      CHECK(f.at(budget) == doctest::Approx(row.second));
    }
  }

  TEST_CASE("floor: a startup delay that is not a multiple of the tick cuts finer segments") {
    // 2 s of demand 5 at [6, 8). With tick 4 and delay 2 a scale-up at 4 is ready at 6, so
    // [6, 8) is its own segment and 2 replica-seconds serve everything. With delay 0 the
    // segment is [4, 8): one replica over 4 s costs 4, and 2 replica-seconds serve half.
    const std::vector<float> d = {0, 0, 0, 0, 0, 0, 5, 5, 0, 0};
    CHECK(build(d, 5, 4s, 2s).at(2) == 0);
    CHECK(build(d, 5, 4s, 0s).at(2) == doctest::Approx(5));
    CHECK(build(d, 5, 4s, 4s).at(2) == doctest::Approx(5));  // 4 + 4 = 8: a tick again
  }

  TEST_CASE("floor: equals the brute-force optimum within one segment's cost of budget") {
    // The relaxed bound is below every whole-count schedule at the same budget, and rounding
    // its one fractional band up costs at most the longest segment: so for every budget B,
    //   brute(B + longest) <= floor(B) <= brute(B).
    std::mt19937 rng(20261123);
    int cases = 0;
    for (int round = 0; round < 150; ++round) {
      const int n = 4 + static_cast<int>(rng() % 5);
      const int tick = 2 + static_cast<int>(rng() % 2);
      const int delay = static_cast<int>(rng() % 4);
      const double q = std::array{1.0, 2.5, 3.0}[rng() % 3];
      std::vector<float> d(static_cast<std::size_t>(n));
      for (auto& v : d) v = rng() % 3 == 0 ? 0.0F : static_cast<float>(rng() % 70) / 10.0F;
      const auto f = build(d, q, std::chrono::seconds{tick}, std::chrono::seconds{delay});
      int longest = 0;
      for (auto [a, b] : segments(n, tick, delay)) longest = std::max(longest, b - a);
      for (double budget = 0; budget <= 3.0 * n; budget += 0.5) {
        CAPTURE(round);
        CAPTURE(budget);
        const double floor = f.at(budget);
        CHECK(floor <= brute_force(d, q, tick, delay, budget) + 1e-6);
        CHECK(floor >= brute_force(d, q, tick, delay, budget + longest) - 1e-6);
        ++cases;
      }
    }
    CHECK(cases > 1000);
  }

  TEST_CASE("floor: no simulated policy leaves fewer requests over capacity than its floor") {
    std::mt19937 rng(7);
    for (int round = 0; round < 40; ++round) {
      std::vector<float> d(600);
      float level = 20;
      for (auto& v : d) {  // a random walk with bursts
        level = std::clamp(level + static_cast<float>(static_cast<int>(rng() % 21) - 10) / 4.0F,
                           0.0F, 80.0F);
        v = rng() % 10 == 0 ? 3 * level : level;
      }
      const auto trace = std::make_shared<const qfscale::trace::Trace>(d);
      const std::array delays = {0s, 20s, 25s, 90s};
      const auto delay = delays[static_cast<std::size_t>(round) % delays.size()];
      const qfscale::sim::ServiceSpec spec{.id = qfscale::model::ServiceId{"s"},
                                           .trace = trace,
                                           .replica_qps = 10,
                                           .units_per_replica = qfscale::model::ComputeUnits{2},
                                           .initial_replicas = {}};
      const qfscale::sim::SimOptions o{.tick = 10s, .startup_delay = delay, .timeline = false};
      const auto r = qfscale::sim::simulate(qfscale::sim::test::exact_policy(), {&spec, 1}, o);
      REQUIRE(r);
      const auto& s = r->services[0].summary;
      const auto f = build(d, 10, 10s, delay);
      CAPTURE(round);
      CHECK(f.requests_total() == doctest::Approx(s.requests_total));
      CHECK(f.at(s.compute_unit_hours * 3600 / 2) <= s.requests_over_capacity + 1e-6);
    }
  }

  TEST_CASE("floor: non-increasing in the budget, from all demand to none") {
    std::vector<float> d(3000);
    std::mt19937 rng(3);
    for (auto& v : d) v = static_cast<float>(rng() % 1000) / 7.0F;
    const auto f = build(d, 3.5, 15s, 90s);
    double previous = f.at(0);
    CHECK(previous == doctest::Approx(f.requests_total()));
    for (double budget = 0; budget < 3000 * 45; budget += 97) {
      const double now = f.at(budget);
      CHECK(now <= previous);
      previous = now;
    }
    CHECK(f.at(3000.0 * 42) == 0);  // ceil(999 / 7 / 3.5) = 41 replicas every second serve all
  }

  TEST_CASE("floor: a long segment builds in linear time per band, not quadratic") {
    // One 200,000 s segment (tick longer than the trace) of distinct values: 200,000 bands of
    // q = 1 for values 0.5, 1.5, ... Each band is counted once, so building is quick enough to
    // run here; the old rescan from the top made it 2 x 10^10 steps.
    std::vector<float> d(200'000);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<float>(i) + 0.5F;
    const auto f = build(d, 1, std::chrono::seconds{1'000'000}, 0s);
    CHECK(f.items() <= 2 * d.size());
    CHECK(f.at(0) == doctest::Approx(f.requests_total()));
    CHECK(f.at(1e12) == 0);
  }

  TEST_CASE("floor: bands without a value inside are merged, however small a replica is") {
    // 1000 QPS, 0.001 QPS per replica: a million bands per segment, all of one gain.
    const std::vector<float> d(60, 1000.0F);
    const auto f = build(d, 0.001, 15s, 0s);
    CHECK(f.items() <= 2 * d.size());
    CHECK(f.at(61.0 * 1e6) == 0);
    CHECK(f.at(30.0 * 1e6) == doctest::Approx(30000));
  }

  TEST_CASE("floor: rejects bad inputs") {
    const std::vector<float> d = {1, 2};
    const std::array<std::tuple<double, std::chrono::seconds, std::chrono::seconds, const char*>, 5>
        rows = {{{0.0, 15s, 0s, "replica_qps 0 must"},
                 {std::nan(""), 15s, 0s, "replica_qps nan must"},
                 {std::numeric_limits<double>::infinity(), 15s, 0s, "replica_qps inf must"},
                 {1.0, 0s, 0s, "tick 0s must be > 0"},
                 {1.0, 15s, -1s, "startup delay -1s must be >= 0"}}};
    for (const auto& [q, tick, delay, expected] : rows) {
      const std::string message = expected;  // CAPTURE cannot take a structured binding
      CAPTURE(message);
      const auto f = OverCapacityFloor::build(d, q, tick, delay);
      REQUIRE_FALSE(f);
      CHECK(f.error().code == qfscale::ErrorCode::InvalidInput);
      CHECK(f.error().message.find(message) != std::string::npos);
    }
    CHECK(build({}, 1, 15s, 0s).at(10) == 0);  // an empty trace has nothing to serve
    // 100 QPS at 1e-17 per replica is 1e19 replicas: past 2^53, band edges are not exact.
    const auto huge = OverCapacityFloor::build(std::vector<float>{100}, 1e-17, 15s, 0s);
    REQUIRE_FALSE(huge);
    CHECK(huge.error().message.find("more than 2^53 replicas") != std::string::npos);
    CHECK(OverCapacityFloor::build(std::vector<float>{100}, 1e-13, 15s, 0s));  // 1e15: fine
  }
}
