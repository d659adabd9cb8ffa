#include "qfscale/sim/slo_oracle.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "qfscale/util/random.h"

namespace qfscale::sim {
namespace {

using namespace std::chrono_literals;
using model::ComputeUnits;

constexpr double kEps = 1e-9;

struct Case {
  std::vector<std::vector<float>> demand;  ///< per service
  double qps = 10;
  std::vector<int> units;  ///< per service
  SloOracleOptions options;

  [[nodiscard]] std::vector<SloService> services() const {
    std::vector<SloService> out;
    for (std::size_t i = 0; i < demand.size(); ++i) {
      out.push_back({.demand = demand[i],
                     .replica_qps = qps,
                     .units_per_replica = ComputeUnits{units.empty() ? 1 : units[i]}});
    }
    return out;
  }
};

/// Replays one fixed schedule (replicas on per tick, per service) through the queue, written
/// from the rules in the header (not from slo_oracle.cc): ready at s = the least on over the
/// ticks overlapping [max(0, s - D), s]. Returns {unit-hours, attainment over all services}.
std::pair<double, double> replay(const Case& c, const std::vector<std::vector<int>>& on) {
  const std::int64_t tick = c.options.tick.count();
  const std::int64_t delay = c.options.startup_delay.count();
  QueueStats total;
  std::int64_t unit_seconds = 0;
  for (std::size_t i = 0; i < c.demand.size(); ++i) {
    FifoQueue q(c.options.queue);
    double capacity = 0;
    const auto n = static_cast<std::int64_t>(c.demand[i].size());
    const std::int64_t units = c.units.empty() ? 1 : c.units[i];
    for (std::int64_t s = 0; s < n; ++s) {
      int ready = on[i][static_cast<std::size_t>(s / tick)];
      for (std::int64_t t = std::max<std::int64_t>(0, s - delay); t <= s; ++t) {
        ready = std::min(ready, on[i][static_cast<std::size_t>(t / tick)]);
      }
      unit_seconds += on[i][static_cast<std::size_t>(s / tick)] * units;
      capacity = ready * c.qps;
      q.second(c.demand[i][static_cast<std::size_t>(s)], capacity);
    }
    q.drain(capacity);
    total.add(q.stats());
  }
  return {static_cast<double>(unit_seconds) / 3600.0, total.attainment_pct()};
}

/// The cheapest schedule with every service's replicas in 0..limit per tick reaching each
/// target (and fitting the capacity when given); nullopt where none does.
std::vector<std::optional<double>> brute_force(const Case& c, int limit,
                                               const std::vector<double>& targets) {
  std::vector<std::size_t> ticks;
  std::size_t cells = 0;
  for (const auto& d : c.demand) {
    const auto tick = static_cast<std::size_t>(c.options.tick.count());
    ticks.push_back((d.size() + tick - 1) / tick);
    cells += ticks.back();
  }
  std::vector<std::optional<double>> best(targets.size());
  std::vector<int> digits(cells, 0);
  for (;;) {
    std::vector<std::vector<int>> on;
    std::size_t at = 0;
    for (auto k : ticks) {
      on.emplace_back(digits.begin() + static_cast<std::ptrdiff_t>(at),
                      digits.begin() + static_cast<std::ptrdiff_t>(at + k));
      at += k;
    }
    bool fits = true;
    if (c.options.capacity_units) {
      for (std::size_t k = 0; k < ticks[0]; ++k) {
        std::int64_t used = 0;
        for (std::size_t i = 0; i < on.size(); ++i) {
          if (k < on[i].size()) used += on[i][k] * (c.units.empty() ? 1 : c.units[i]);
        }
        fits = fits && used <= c.options.capacity_units->value;
      }
    }
    if (fits) {
      const auto [cost, reached] = replay(c, on);
      for (std::size_t j = 0; j < targets.size(); ++j) {
        if (reached >= targets[j] - kEps && (!best[j] || cost < *best[j])) best[j] = cost;
      }
    }
    std::size_t pos = 0;
    while (pos < cells && digits[pos] == limit) digits[pos++] = 0;
    if (pos == cells) break;
    ++digits[pos];
  }
  return best;
}

std::vector<SloBound> solve_all(const Case& c, const std::vector<double>& targets) {
  const auto services = c.services();
  auto r = slo_oracle(services, c.options, targets);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  REQUIRE(r->size() == targets.size());
  return *r;
}

SloBound solve(const Case& c, double pct) { return solve_all(c, {pct})[0]; }

TEST_SUITE("sim") {
  TEST_CASE("slo oracle: the header's worked numbers") {
    Case c{.demand = {{20, 0, 0, 0}},
           .options = {.tick = 2s,
                       .startup_delay = 0s,
                       .queue = {.slo_wait = 1s, .abandon_after = 2s},
                       .check_every = 1s}};
    const auto full = solve(c, 100);
    CHECK(*full.lower_bound_cu_hours * 3600 == doctest::Approx(2));
    CHECK(*full.achievable_cu_hours * 3600 == doctest::Approx(2));
    CHECK(full.schedule == std::vector<std::vector<int>>{{1, 0}});
    CHECK(*full.gap_pct() == doctest::Approx(0));
    const auto half = solve(c, 50);
    CHECK(*half.lower_bound_cu_hours * 3600 == doctest::Approx(1));
    CHECK(*half.achievable_cu_hours * 3600 == doctest::Approx(2));
    CHECK(half.achievable_attainment_pct == 100);
    CHECK(*half.gap_pct() == doctest::Approx(100));
  }

  TEST_CASE("slo oracle: with no wait and no startup the bound is the per-tick peak") {
    // Every second must be served in full as it comes: tick k needs max demand / qps replicas,
    // fractional in the LP, so the LP is exactly sum of peaks x seconds and rounding is the gap.
    Case c{.demand = {{5, 25, 0, 12, 40, 3}},
           .options = {.tick = 3s,
                       .startup_delay = 0s,
                       .queue = {.slo_wait = 0s, .abandon_after = 1s},
                       .check_every = 1s}};
    const auto b = solve(c, 100);
    CHECK(*b.lower_bound_cu_hours * 3600 == doctest::Approx(2.5 * 3 + 4.0 * 3));
    CHECK(*b.achievable_cu_hours * 3600 == doctest::Approx(3 * 3 + 4 * 3));
    CHECK(b.achievable_attainment_pct == 100);
  }

  TEST_CASE("slo oracle: a startup delay makes the replicas cost before they serve") {
    // Demand only in the last tick; with D = 2 s and ticks of 2 s the replica for second 4 must
    // be on from second 2 (a tick earlier), unless it was warm from second 0, which costs more.
    Case c{.demand = {{0, 0, 0, 0, 10, 10}},
           .options = {.tick = 2s,
                       .startup_delay = 2s,
                       .queue = {.slo_wait = 0s, .abandon_after = 1s},
                       .check_every = 1s}};
    const auto b = solve(c, 100);
    CHECK(*b.lower_bound_cu_hours * 3600 == doctest::Approx(4));
    CHECK(b.schedule == std::vector<std::vector<int>>{{0, 1, 1}});
  }

  TEST_CASE("slo oracle: lower bound <= brute force <= achievable on random small traces") {
    const std::vector<double> targets{100, 99.9, 99, 90, 75};
    util::Random rng(20261207);
    double ratio_sum = 0;
    int ratios = 0;
    for (int round = 0; round < 120; ++round) {
      const auto tick = static_cast<std::int64_t>(rng.uniform_int(2, 3));
      const auto ticks = static_cast<std::int64_t>(rng.uniform_int(4, 5));
      const std::int64_t delays[] = {0, 1, 2, 3, 5};
      const auto wait = static_cast<std::int64_t>(rng.uniform_int(0, 2));
      Case c{.units = {static_cast<int>(rng.uniform_int(1, 2))},
             .options = {.tick = std::chrono::seconds{tick},
                         .startup_delay = std::chrono::seconds{delays[rng.uniform_int(0, 4)]},
                         .queue = {.slo_wait = std::chrono::seconds{wait},
                                   .abandon_after =
                                       std::chrono::seconds{wait + 1 + rng.uniform_int(0, 3)}}}};
      std::vector<float> d;
      for (std::int64_t s = 0; s < tick * ticks - rng.uniform_int(0, 1); ++s) {
        d.push_back(rng.uniform_int(0, 2) == 0 ? 0.0F : static_cast<float>(rng.uniform_int(0, 40)));
      }
      c.demand = {d};
      const auto best = brute_force(c, 4, targets);
      c.options.check_every = 1s;
      const auto fine = solve_all(c, targets);
      c.options.check_every = 0s;  // runs of up to one tick (the default)
      const auto coarse = solve_all(c, targets);
      for (std::size_t j = 0; j < targets.size(); ++j) {
        INFO(fmt::format("round {} target {} demand {} tick {} D {} W {} abandon {}", round,
                         targets[j], fmt::join(d, ","), tick, c.options.startup_delay.count(), wait,
                         c.options.queue.abandon_after.count()));
        REQUIRE(best[j].has_value());  // 4 replicas serve 40 QPS at once: always reachable
        for (const auto* b : {&fine[j], &coarse[j]}) {
          REQUIRE(b->lower_bound_cu_hours.has_value());
          REQUIRE(b->achievable_cu_hours.has_value());
          CHECK(*b->lower_bound_cu_hours <= *best[j] + kEps);
          CHECK(*best[j] <= *b->achievable_cu_hours + kEps);
          CHECK(b->achievable_attainment_pct >= targets[j] - kEps);
          const auto [cost, reached] = replay(c, b->schedule);
          CHECK(cost == doctest::Approx(*b->achievable_cu_hours));
          CHECK(reached == doctest::Approx(b->achievable_attainment_pct));
        }
        // The coarse LP is a relaxation of the per-second one.
        CHECK(*coarse[j].lower_bound_cu_hours <= *fine[j].lower_bound_cu_hours + kEps);
        // A lower target never costs more to reach: the schedule for a higher one meets it.
        if (j > 0) {
          CHECK(*fine[j].achievable_cu_hours <= *fine[j - 1].achievable_cu_hours + kEps);
          CHECK(*coarse[j].achievable_cu_hours <= *coarse[j - 1].achievable_cu_hours + kEps);
        }
        if (*best[j] > 0) {
          ratio_sum += *fine[j].lower_bound_cu_hours / *best[j];
          ++ratios;
        }
      }
    }
    // Not a trivial bound: on average within a quarter of the true optimum on these traces
    // (whose ticks hold 2-3 seconds, so rounding to whole replicas is most of the gap).
    MESSAGE(fmt::format("mean lower bound / optimum: {:.3f} over {}", ratio_sum / ratios, ratios));
    CHECK(ratio_sum / ratios > 0.75);
  }

  TEST_CASE("slo oracle: shared capacity, against brute force") {
    util::Random rng(7);
    for (int round = 0; round < 12; ++round) {
      Case c{.units = {1, 2},
             .options = {.tick = 2s,
                         .startup_delay = std::chrono::seconds{rng.uniform_int(0, 2)},
                         .queue = {.slo_wait = 1s, .abandon_after = 3s},
                         .capacity_units = ComputeUnits{static_cast<int>(rng.uniform_int(2, 5))}}};
      for (int i = 0; i < 2; ++i) {
        std::vector<float> d;
        for (int s = 0; s < 8; ++s) d.push_back(static_cast<float>(rng.uniform_int(0, 30)));
        c.demand.push_back(d);
      }
      const std::vector<double> targets{100, 99, 90, 60};
      const auto best = brute_force(c, 3, targets);
      const auto bounds = solve_all(c, targets);
      for (std::size_t j = 0; j < targets.size(); ++j) {
        INFO(fmt::format("round {} target {} capacity {}", round, targets[j],
                         c.options.capacity_units->value));
        const auto& b = bounds[j];
        if (best[j]) {
          REQUIRE(b.lower_bound_cu_hours.has_value());
          CHECK(*b.lower_bound_cu_hours <= *best[j] + kEps);
        }
        if (b.achievable_cu_hours) {
          REQUIRE(best[j].has_value());  // within the capacity 3 replicas is the most
          CHECK(*best[j] <= *b.achievable_cu_hours + kEps);
          const auto [cost, reached] = replay(c, b.schedule);
          CHECK(reached >= targets[j] - kEps);
          for (std::size_t k = 0; k < b.schedule[0].size(); ++k) {
            CHECK(b.schedule[0][k] + 2 * b.schedule[1][k] <= c.options.capacity_units->value);
          }
        }
      }
    }
  }

  TEST_CASE("slo oracle: a capacity too small for 100% has no bound there, and costs more") {
    Case c{.demand = {{30, 30, 30, 30}, {30, 30, 30, 30}},
           .options = {.tick = 2s,
                       .startup_delay = 0s,
                       .queue = {.slo_wait = 0s, .abandon_after = 1s},
                       .check_every = 1s}};
    const auto free = solve(c, 100);
    CHECK(*free.lower_bound_cu_hours * 3600 == doctest::Approx(24));
    c.options.capacity_units = ComputeUnits{5};
    CHECK_FALSE(solve(c, 100).lower_bound_cu_hours.has_value());
    // 5 replicas serve 50 of 60 each second: 1/6 must be late.
    const auto most = solve(c, 100.0 * 5 / 6);
    CHECK(*most.lower_bound_cu_hours * 3600 == doctest::Approx(20));
    CHECK_FALSE(solve(c, 90).lower_bound_cu_hours.has_value());
  }

  TEST_CASE("slo oracle: lower bounds between solved attainments, by convexity") {
    const std::vector<SloBound> solved{{.attainment_pct = 100, .lower_bound_cu_hours = 10},
                                       {.attainment_pct = 99.9, .lower_bound_cu_hours = 8},
                                       {.attainment_pct = 99, .lower_bound_cu_hours = 5}};
    CHECK(*lower_bound_at(solved, 100) == doctest::Approx(10));
    CHECK(*lower_bound_at(solved, 99.5) == doctest::Approx(5));
    CHECK(*lower_bound_at(solved, 99.95) == doctest::Approx(8 + 0.05 * 3 / 0.9));
    CHECK(*lower_bound_at(solved, 98) == doctest::Approx(5 - 3 / 0.9));
    CHECK(*lower_bound_at(solved, 50) == doctest::Approx(0));
    const std::vector<SloBound> infeasible{{.attainment_pct = 100}, solved[1], solved[2]};
    CHECK_FALSE(lower_bound_at(infeasible, 100).has_value());
    CHECK(*lower_bound_at(infeasible, 99.95) == doctest::Approx(8 + 0.05 * 3 / 0.9));
  }

  TEST_CASE("slo oracle: rejects bad input") {
    Case c{.demand = {{1}}};
    const auto services = c.services();
    const std::vector<double> pct{99};
    CHECK(slo_oracle(services, {.tick = 0s}, pct).error().message.find("tick") !=
          std::string::npos);
    CHECK(slo_oracle(services, {}, std::vector<double>{101}).error().message.find("attainment") !=
          std::string::npos);
    CHECK(slo_oracle(services, {.queue = {.slo_wait = 5s, .abandon_after = 5s}}, pct)
              .error()
              .message.find("abandon") != std::string::npos);
    const SloService zero{.demand = c.demand[0], .replica_qps = 0};
    CHECK(slo_oracle(std::span(&zero, 1), {}, pct).error().message.find("replica_qps") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::sim
