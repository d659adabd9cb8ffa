#include "qfscale/sim/oracle.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/util/random.h"

namespace qfscale::sim {
namespace {

using namespace std::chrono_literals;
using model::ComputeUnits;
using model::Replicas;

/// Exhaustive reference: the least replica-seconds over every schedule, by memoised search over
/// the state "replicas on, by age" (age counts seconds since start, saturating at `delay`, where
/// a replica is ready). At each second any subset of the aged replicas may be kept and any number
/// of new ones started (at second 0 also any number of ready ones: the warm start), with at most
/// `limit` on; the ready ones must cover min(need, cap). Returns nullopt if nothing is feasible.
class BruteForce {
 public:
  BruteForce(std::vector<int> need, int delay, int limit)
      : need_(std::move(need)), delay_(delay), limit_(limit) {}

  std::optional<long> solve() {
    std::optional<long> best;
    for (int warm = 0; warm <= limit_; ++warm) {
      std::vector<int> ages(static_cast<std::size_t>(delay_ + 1), 0);
      ages[static_cast<std::size_t>(delay_)] = warm;
      auto c = choose_new(0, ages);
      if (c && (!best || *c < *best)) best = c;
    }
    return best;
  }

 private:
  using Key = std::pair<std::size_t, std::vector<int>>;

  /// Second `s` with the kept replicas `ages`: try every number of new ones.
  std::optional<long> choose_new(std::size_t s, std::vector<int> ages) {
    int on = 0;
    for (int a : ages) on += a;
    std::optional<long> best;
    for (int add = 0; on + add <= limit_; ++add) {
      auto state = ages;
      state[0] += add;
      if (state[static_cast<std::size_t>(delay_)] < need_[s]) continue;
      long rest = 0;
      if (s + 1 < need_.size()) {
        auto r = next(s + 1, state);
        if (!r) continue;
        rest = *r;
      }
      const long cost = on + add + rest;
      if (!best || cost < *best) best = cost;
    }
    return best;
  }

  /// Ages every replica by one second, then tries every subset to keep (by counts per age).
  std::optional<long> next(std::size_t s, const std::vector<int>& prev) {
    std::vector<int> aged(prev.size(), 0);
    for (std::size_t a = 0; a < prev.size(); ++a) {
      aged[std::min(a + 1, prev.size() - 1)] += prev[a];
    }
    const Key key{s, aged};
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    std::optional<long> best;
    std::vector<int> keep(aged.size(), 0);
    // Odometer over keep[a] in [0, aged[a]].
    while (true) {
      auto c = choose_new(s, keep);
      if (c && (!best || *c < *best)) best = c;
      std::size_t a = 0;
      while (a < keep.size() && keep[a] == aged[a]) keep[a++] = 0;
      if (a == keep.size()) break;
      ++keep[a];
    }
    memo_[key] = best;
    return best;
  }

  std::vector<int> need_;
  int delay_;
  int limit_;
  std::map<Key, std::optional<long>> memo_;
};

trace::Trace trace_of(std::vector<float> v) { return trace::Trace(std::move(v)); }

TEST_SUITE("sim") {
  TEST_CASE("oracle: replicas_needed agrees with the over-capacity test") {
    struct Case {
      double demand, qps;
      int want;
    };
    const Case cases[] = {
        {0, 5, 0},     {-1, 5, 0}, {4.999, 5, 1}, {5, 5, 1},
        {5.001, 5, 2}, {10, 5, 2}, {0.3, 0.1, 3},  // 0.3 / 0.1 = 2.9999999999999996 in doubles
        {0.7, 0.1, 7},                             // 0.7 / 0.1 = 6.999999999999999
    };
    for (const auto& c : cases) {
      CAPTURE(c.demand);
      CAPTURE(c.qps);
      const int n = replicas_needed(c.demand, c.qps);
      CHECK(n == c.want);
      CHECK(static_cast<double>(n) * c.qps >= c.demand);
      if (n > 0) CHECK(static_cast<double>(n - 1) * c.qps < c.demand);
    }
  }

  TEST_CASE("oracle: step trace is served in full at the hand-computed cost") {
    // 100 s at 10 QPS, 100 s at 30, 100 s at 10; replicas of 10 QPS, 2 units, delay 20 s.
    // Need 1, 3, 1. The two extra replicas start at 100 - 20 = 80 and stop at 200:
    // 1 x 80 + 3 x 120 + 1 x 100 = 540 replica-s x 2 units = 1080 unit-s = 0.3 unit-hours.
    std::vector<float> v(300, 10.0F);
    std::fill(v.begin() + 100, v.begin() + 200, 30.0F);
    auto r =
        oracle(trace_of(v), 10, ComputeUnits{2}, {.startup_delay = 20s, .keep_schedule = true});
    REQUIRE(r);
    const auto& s = r->summary;
    CHECK(s.requests_total == doctest::Approx(5000));
    CHECK(s.requests_over_capacity == 0);
    CHECK(s.seconds_over_capacity == 0);
    CHECK(s.compute_unit_hours == doctest::Approx(0.3));
    CHECK(s.scale_operations == 2);
    CHECK(s.max_replicas == 3);
    CHECK(s.mean_replicas == doctest::Approx(540.0 / 300.0));
    CHECK(r->on[79] == 1);
    CHECK(r->on[80] == 3);
    CHECK(r->ready[99] == 1);
    CHECK(r->ready[100] == 3);
    CHECK(r->on[200] == 1);
  }

  TEST_CASE("oracle: a gap shorter than the delay keeps the replica on, a longer one does not") {
    struct Case {
      std::string_view name;
      int gap;
      long want_replica_seconds;
    };
    // Need 2 at [20, 30) and at [30 + gap, 40 + gap), else 1, delay 5, horizon 60.
    // The second replica costs 5 (startup) + 10 for the first run, then min(gap, 5) + 10.
    const Case cases[] = {
        {"gap below the delay: kept on", 4, 60 + 5 + 10 + 4 + 10},
        {"gap equal to the delay: same either way", 5, 60 + 5 + 10 + 5 + 10},
        {"gap above the delay: off and restarted", 6, 60 + 5 + 10 + 5 + 10},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      std::vector<float> v(60, 1.0F);
      std::fill(v.begin() + 20, v.begin() + 30, 2.0F);
      std::fill(v.begin() + 30 + c.gap, v.begin() + 40 + c.gap, 2.0F);
      auto r = oracle(trace_of(v), 1, ComputeUnits{1}, {.startup_delay = 5s});
      REQUIRE(r);
      CHECK(std::lround(r->summary.compute_unit_hours * 3600) == c.want_replica_seconds);
      CHECK(r->summary.requests_over_capacity == 0);
    }
  }

  TEST_CASE("oracle: demand above max replicas is over capacity, the rest is served") {
    // Need 1, 4, 1 (10 s each), max 2: the 4 is capped at 2 -> 2 x 10 QPS x 10 s over.
    std::vector<float> v(30, 1.0F);
    std::fill(v.begin() + 10, v.begin() + 20, 4.0F);
    auto r =
        oracle(trace_of(v), 1, ComputeUnits{1}, {.startup_delay = 3s, .max_replicas = Replicas{2}});
    REQUIRE(r);
    CHECK(r->summary.requests_over_capacity == doctest::Approx(20));
    CHECK(r->summary.seconds_over_capacity == 10);
    CHECK(r->summary.max_replicas == 2);
    // 1 x 30 + 1 extra from 10 - 3 = 7 to 20 = 13 -> 43 replica-s.
    CHECK(std::lround(r->summary.compute_unit_hours * 3600) == 43);
  }

  TEST_CASE("oracle: equals the exhaustive optimum on small random traces") {
    util::Random rng(20261123);
    for (int trial = 0; trial < 300; ++trial) {
      const int horizon = 1 + static_cast<int>(rng.uniform01() * 7);  // 1..7 s
      const int delay = static_cast<int>(rng.uniform01() * 4);        // 0..3 s
      const bool capped = rng.uniform01() < 0.3;
      const int cap = 1 + static_cast<int>(rng.uniform01() * 2);  // 1..2
      std::vector<float> v;
      std::vector<int> need;
      int max_need = 0;
      for (int s = 0; s < horizon; ++s) {
        // Demand in steps of 0.5 QPS up to 3, replicas of 1 QPS: need 0..3.
        v.push_back(0.5F * static_cast<float>(static_cast<int>(rng.uniform01() * 7)));
        int n = replicas_needed(v.back(), 1.0);
        if (capped) n = std::min(n, cap);
        need.push_back(n);
        max_need = std::max(max_need, n);
      }
      CAPTURE(fmt::format("trial {} delay {} cap {} demand {}", trial, delay, capped ? cap : -1,
                          fmt::join(v, " ")));
      // One replica more than ever needed lets the search try wasteful schedules too.
      BruteForce brute(need, delay, max_need + 1);
      const auto want = brute.solve();
      REQUIRE(want);
      OracleOptions opts{.startup_delay = std::chrono::seconds{delay}, .keep_schedule = true};
      if (capped) opts.max_replicas = Replicas{cap};
      auto r = oracle(trace_of(v), 1.0, ComputeUnits{1}, opts);
      REQUIRE(r);
      CHECK(std::lround(r->summary.compute_unit_hours * 3600) == *want);
      // The schedule itself is feasible: enough ready replicas every second, and a replica is
      // ready only after `delay` seconds on (ready(t) <= on(v) for v in [t - delay, t]).
      for (int t = 0; t < horizon; ++t) {
        const auto ut = static_cast<std::size_t>(t);
        CHECK(r->ready[ut] >= need[ut]);
        for (int u = std::max(0, t - delay); u <= t; ++u) {
          CHECK(r->ready[ut] <= r->on[static_cast<std::size_t>(u)]);
        }
      }
      if (!capped) CHECK(r->summary.requests_over_capacity == 0);
    }
  }

  TEST_CASE("oracle: a week of seconds takes linear time and the same answer twice") {
    std::vector<float> v(604'800);
    util::Random rng(3);
    for (auto& x : v) x = static_cast<float>(rng.uniform01() * 100);
    const auto t = trace_of(v);
    auto a = oracle(t, 7, ComputeUnits{2}, {.startup_delay = 90s});
    auto b = oracle(t, 7, ComputeUnits{2}, {.startup_delay = 90s});
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == *b);
    CHECK(a->summary.requests_over_capacity == 0);
  }

  TEST_CASE("oracle: bad inputs are rejected") {
    const auto t = trace_of({1, 2, 3});
    CHECK_FALSE(oracle(t, 0, ComputeUnits{1}, {}));
    CHECK_FALSE(oracle(t, std::numeric_limits<double>::quiet_NaN(), ComputeUnits{1}, {}));
    CHECK_FALSE(oracle(t, 1, ComputeUnits{0}, {}));
    CHECK_FALSE(oracle(t, 1, ComputeUnits{1}, {.startup_delay = -1s}));
    auto r = oracle(t, 1, ComputeUnits{1}, {.max_replicas = Replicas{-1}});
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string().find("max replicas") != std::string::npos);
  }

  TEST_CASE("oracle: utilization leaves idle seconds out") {
    // 10 s at 10 QPS, 100 s idle, 10 s at 10 QPS; one replica of 10 QPS and a 200 s startup
    // delay, so the oracle keeps its warm replica on (and ready) throughout. 20 busy seconds at
    // 1.0 and 100 idle ones: counting idle seconds made p50 = 0 (rank 60 of 120).
    std::vector<float> qps(120, 0.0F);
    std::fill_n(qps.begin(), 10, 10.0F);
    std::fill_n(qps.end() - 10, 10, 10.0F);
    auto r = oracle(trace::Trace(std::move(qps)), 10, ComputeUnits{1},
                    {.startup_delay = 200s, .max_replicas = {}, .keep_schedule = false});
    REQUIRE(r);
    CHECK(r->summary.mean_replicas == 1.0);
    CHECK(r->summary.utilization_p50 == 1.0);
    CHECK(r->summary.utilization_p99 == 1.0);
  }

  TEST_CASE("oracle: fit_to_capacity cuts coinciding peaks as the allocator would") {
    // The worked numbers in oracle.h: u = 1, C = 10, both services 8 replicas at second 5 and
    // 0 elsewhere. 16 > 10: equal priority and weight get 5 each.
    const std::vector<int> alone = {0, 0, 0, 0, 0, 8, 0};
    ServiceSpec a{.id = model::ServiceId{"a"}, .replica_qps = 10};
    ServiceSpec b{.id = model::ServiceId{"b"}, .replica_qps = 10};
    {
      std::vector<std::vector<int>> on = {alone, alone};
      const ServiceSpec services[] = {a, b};
      auto cut = fit_to_capacity(on, services, ComputeUnits{10});
      REQUIRE(cut);
      CHECK(*cut == 1);
      CHECK(on[0] == std::vector<int>{0, 0, 0, 0, 0, 5, 0});
      CHECK(on[1] == std::vector<int>{0, 0, 0, 0, 0, 5, 0});
    }
    {
      // Priority first: a (priority 1) keeps its 8, b gets the remaining 2.
      a.priority = 1;
      std::vector<std::vector<int>> on = {alone, alone};
      const ServiceSpec services[] = {a, b};
      auto cut = fit_to_capacity(on, services, ComputeUnits{10});
      REQUIRE(cut);
      CHECK(on[0][5] == 8);
      CHECK(on[1][5] == 2);
    }
    {
      // Within the capacity nothing changes; 2 units per replica count double (2 x 5 = 10).
      b.units_per_replica = ComputeUnits{2};
      std::vector<std::vector<int>> on = {{0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 5, 0}};
      const ServiceSpec services[] = {a, b};
      auto cut = fit_to_capacity(on, services, ComputeUnits{10});
      REQUIRE(cut);
      CHECK(*cut == 0);
      CHECK(on[1][5] == 5);
    }
  }

  TEST_CASE("oracle: schedule_result of a cut schedule waits the startup delay again") {
    // on = 2, 2, 1, 2, 2 with D = 1: the second slot, off at second 2, is ready again only at
    // second 4. Demand 20 QPS throughout at 10 QPS a replica.
    auto r = schedule_result(trace::Trace(std::vector<float>(5, 20.0F)), 10, ComputeUnits{1}, 1s,
                             {2, 2, 1, 2, 2}, true);
    CHECK(r.ready == std::vector<int>{2, 2, 1, 1, 2});
    CHECK(r.summary.requests_over_capacity == 20);
    CHECK(r.summary.seconds_over_capacity == 2);
  }
}

}  // namespace
}  // namespace qfscale::sim
