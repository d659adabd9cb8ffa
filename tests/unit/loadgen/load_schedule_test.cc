#include "qfscale/loadgen/load_schedule.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/demand/synthetic.h"
#include "qfscale/trace/trace.h"

namespace qfscale::loadgen {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

LoadSchedule schedule_for(std::vector<float> rates, double speedup = 1.0) {
  auto s = LoadSchedule::for_trace(trace::Trace(std::move(rates)), speedup);
  REQUIRE_MESSAGE(s.has_value(), s.error().to_string());
  return std::move(*s);
}

/// Requests per wall second, taken second by second.
std::vector<std::uint64_t> per_second(LoadSchedule s, std::size_t seconds) {
  std::vector<std::uint64_t> out;
  for (std::size_t k = 1; k <= seconds; ++k) {
    out.push_back(s.take(microseconds{static_cast<std::int64_t>(k) * 1'000'000}));
  }
  return out;
}

/// The wall milliseconds in which requests are due, one entry per request.
std::vector<std::int64_t> due_milliseconds(LoadSchedule s, std::int64_t until_ms) {
  std::vector<std::int64_t> out;
  for (std::int64_t ms = 0; ms < until_ms; ++ms) {
    const auto n = s.take(microseconds{(ms + 1) * 1000});
    for (std::uint64_t i = 0; i < n; ++i) out.push_back(ms);
  }
  return out;
}

TEST_SUITE("loadgen") {
  TEST_CASE("load schedule: per-second counts carry fractions so totals are exact") {
    struct Case {
      std::string_view name;
      std::vector<float> rates;
      std::vector<std::uint64_t> want;
    };
    const Case cases[] = {
        // floor(0.5k): 0, 1, 1, 2 -> per second 0, 1, 0, 1
        {.name = "0.5 qps alternates", .rates = {0.5F, 0.5F, 0.5F, 0.5F}, .want = {0, 1, 0, 1}},
        // floor(1.5) = 1, floor(4.0) = 4 -> 1, 3
        {.name = "1.5 then 2.5", .rates = {1.5F, 2.5F}, .want = {1, 3}},
        // floor(0.7k) for k = 1..10: 0 1 2 2 3 4 4 5 6 7. 0.7F is 0.69999998807907, which a sum
        // in doubles would leave at 6.9999998807907 after ten seconds, one request short.
        {.name = "0.7 float loses nothing",
         .rates = std::vector<float>(10, 0.7F),
         .want = {0, 1, 1, 0, 1, 1, 0, 1, 1, 1}},
        {.name = "0.1 for ten seconds is one request at the end",
         .rates = std::vector<float>(10, 0.1F),
         .want = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
        {.name = "whole numbers and a silent second", .rates = {3, 0, 2}, .want = {3, 0, 2}},
        {.name = "all zero", .rates = {0, 0}, .want = {0, 0}},
        // 0.999999 rounds to 999999 millionths: not a request until the carry reaches 1.
        {.name = "just below one, twice", .rates = {0.999999F, 0.999999F}, .want = {0, 1}},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto s = schedule_for(c.rates);
        CHECK(per_second(s, c.rates.size()) == c.want);
        // Past the end: nothing more, and the schedule says it has ended.
        const auto total =
            s.take(microseconds{static_cast<std::int64_t>(c.rates.size()) * 1'000'000});
        std::uint64_t want_total = 0;
        for (auto n : c.want) want_total += n;
        CHECK(total == want_total);
        CHECK(s.take(1h) == 0);
        CHECK(s.finished());
        CHECK(s.taken() == want_total);
      }
    }
  }

  TEST_CASE("load schedule: requests of a second are spread evenly over its milliseconds") {
    struct Case {
      std::string_view name;
      std::vector<float> rates;
      double speedup;
      std::vector<std::int64_t> want_ms;
    };
    const Case cases[] = {
        {.name = "4 qps: every 250 ms", .rates = {4}, .speedup = 1, .want_ms = {0, 250, 500, 750}},
        // i/3 s = 333333.3 us and 666666.7 us, rounded down
        {.name = "3 qps: thirds, rounded down",
         .rates = {3},
         .speedup = 1,
         .want_ms = {0, 333, 666}},
        {.name = "4 qps at speedup 2: every 125 ms",
         .rates = {4},
         .speedup = 2,
         .want_ms = {0, 125, 250, 375}},
        {.name = "second 1 starts at 1000 ms",
         .rates = {1, 2},
         .speedup = 1,
         .want_ms = {0, 1000, 1500}},
        // trace second k plays at k/4 s: requests at 0, 250, 375 ms
        {.name = "speedup 4", .rates = {1, 2}, .speedup = 4, .want_ms = {0, 250, 375}},
        // 6 requests in the first half wall millisecond, 83 us apart
        {.name = "more than one per millisecond",
         .rates = {6},
         .speedup = 2000,
         .want_ms = {0, 0, 0, 0, 0, 0}},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        CHECK(due_milliseconds(schedule_for(c.rates, c.speedup), 3000) == c.want_ms);
      }
    }
  }

  TEST_CASE("load schedule: speedup compresses wall time, not the count") {
    // 60 s at 10 qps = 600 requests; at speedup 60 they play in 1 s of wall time.
    auto s = schedule_for(std::vector<float>(60, 10.0F), 60);
    CHECK(s.wall_length() == microseconds{1'000'000});
    // Before 500 ms wall = trace time 30 s: exactly the first 30 trace seconds, 300 requests.
    CHECK(s.take(500ms) == 300);
    CHECK_FALSE(s.finished());
    CHECK(s.take(1s) == 300);
    CHECK(s.finished());

    // A length that does not divide: 7 trace seconds at speedup 3 = 2.333334 s, rounded up.
    CHECK(schedule_for(std::vector<float>(7, 1.0F), 3).wall_length() == microseconds{2'333'334});
  }

  TEST_CASE("load schedule: an example trace replays to its exact request count") {
    // examples/traces/README.md: azure-conv-2023-first30m.csv holds 10108 requests in 1800 s.
    auto trace = trace::load_trace(QFS_EXAMPLES_DIR "/traces/azure-conv-2023-first30m.csv");
    REQUIRE_MESSAGE(trace.has_value(), util::to_string(trace.error()));
    auto s = LoadSchedule::for_trace(*trace, 1000);
    REQUIRE(s.has_value());
    CHECK(s->wall_length() == microseconds{1'800'000});
    CHECK(s->take(*s->wall_length()) == 10108);
    CHECK(s->finished());
  }

  TEST_CASE("load schedule: next_due looks no further than the horizon") {
    auto s = schedule_for({0, 0, 2});
    CHECK(s.next_due(2s) == std::nullopt);  // the first request is at 2 s: not before 2 s
    CHECK(s.next_due(2s + 1us) == microseconds{2'000'000});
    CHECK(s.take(2s) == 0);
    CHECK(s.take(2s + 1us) == 1);
    CHECK(s.next_due(10s) == microseconds{2'500'000});
    CHECK(s.take(10s) == 1);
    CHECK(s.next_due(10s) == std::nullopt);

    // An endless zero rate: next_due and take end at the horizon instead of spinning forever.
    auto zero = LoadSchedule::create([](std::int64_t) { return 0.0; }, std::nullopt, 1.0);
    REQUIRE(zero.has_value());
    CHECK(zero->next_due(24h) == std::nullopt);
    CHECK(zero->take(24h) == 0);
    CHECK_FALSE(zero->finished());
    CHECK(zero->wall_length() == std::nullopt);
  }

  TEST_CASE("load schedule: bad rates count as zero, huge ones are capped") {
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> rates = {std::nan(""), -5, inf, 5e9, 2};
    auto s = LoadSchedule::create(
        [&](std::int64_t k) { return rates[static_cast<std::size_t>(k)]; }, 5, 1.0);
    REQUIRE(s.has_value());
    // NaN, -5, +Inf -> 0; 5e9 -> capped at 1e9; 2 -> 2.
    CHECK(per_second(std::move(*s), 5) == std::vector<std::uint64_t>{0, 0, 0, 1'000'000'000, 2});
  }

  TEST_CASE("load schedule: synthetic traffic plays its own per-second rates") {
    auto traffic = demand::SyntheticTraffic::create({.seed = 3, .base_qps = 7.3});
    REQUIRE(traffic.has_value());
    const auto stream = demand::SyntheticTraffic::stream_for("svco-a");
    auto s = LoadSchedule::create([&](std::int64_t k) { return traffic->rate_at(k, stream); },
                                  std::nullopt, 1.0);
    REQUIRE(s.has_value());
    // Expected: floor of the running sum in millionths, second by second.
    std::int64_t micros = 0;
    std::uint64_t want = 0;
    for (std::int64_t k = 0; k < 100; ++k) {
      micros += std::llround(traffic->rate_at(k, stream) * 1e6);
      const auto total = static_cast<std::uint64_t>(micros / 1'000'000);
      CHECK(s->take(microseconds{(k + 1) * 1'000'000}) == total - want);
      want = total;
    }
    CHECK(s->taken() == want);
  }

  TEST_CASE("load schedule: creation refuses what it cannot play") {
    struct Case {
      std::string_view name;
      double speedup;
      std::optional<std::int64_t> length;
      bool ok;
    };
    const Case cases[] = {
        {.name = "speedup 0", .speedup = 0, .length = 1, .ok = false},
        {.name = "negative speedup", .speedup = -1, .length = 1, .ok = false},
        {.name = "NaN speedup", .speedup = std::nan(""), .length = 1, .ok = false},
        {.name = "just below the minimum", .speedup = 0.000999, .length = 1, .ok = false},
        {.name = "at the minimum", .speedup = 0.001, .length = 1, .ok = true},
        {.name = "at the maximum", .speedup = 1e6, .length = 1, .ok = true},
        {.name = "above the maximum", .speedup = 1.000001e6, .length = 1, .ok = false},
        {.name = "negative length", .speedup = 1, .length = -1, .ok = false},
        {.name = "zero length", .speedup = 1, .length = 0, .ok = true},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto s = LoadSchedule::create([](std::int64_t) { return 1.0; }, c.length, c.speedup);
        CHECK(s.has_value() == c.ok);
        if (!c.ok) CHECK(s.error().code == ErrorCode::InvalidInput);
      }
    }
    CHECK_FALSE(LoadSchedule::create(RateFunction{}, 1, 1.0).has_value());
    auto empty = LoadSchedule::create([](std::int64_t) { return 1.0; }, 0, 1.0);
    REQUIRE(empty.has_value());
    CHECK(empty->finished());
    CHECK(empty->take(1h) == 0);
  }
}

}  // namespace
}  // namespace qfscale::loadgen
