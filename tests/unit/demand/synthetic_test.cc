#include "qfscale/demand/synthetic.h"

#include <chrono>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::demand {
namespace {

using namespace std::chrono_literals;
using model::ServiceId;

SyntheticTraffic make(SyntheticConfig config) {
  auto t = SyntheticTraffic::create(config);
  REQUIRE_MESSAGE(t.has_value(), t.error().to_string());
  return *t;
}

double mean_of(const std::vector<float>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0,
                         [](double a, float b) { return a + static_cast<double>(b); }) /
         static_cast<double>(v.size());
}

TEST_SUITE("demand") {
  TEST_CASE("synthetic: the same seed gives the same traffic; other seeds and streams differ") {
    const SyntheticConfig config{.seed = 42, .base_qps = 100, .period = 3600s};
    const auto a = make(config).series(7200);
    const auto b = make(config).series(7200);
    CHECK(a == b);
    auto other = config;
    other.seed = 43;
    const auto c = make(other).series(7200);
    CHECK(a != c);
    const auto d = make(config).series(7200, SyntheticTraffic::stream_for("svco-b"));
    CHECK(a != d);
    // Not merely different somewhere: most seconds differ.
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == c[i] ? 1U : 0U;
    CHECK(same < 10);
  }

  TEST_CASE("synthetic: series equals rate_at second by second, bursts included") {
    const auto traffic = make({.seed = 7,
                               .base_qps = 50,
                               .period = 600s,
                               .bursts_per_hour = 60,
                               .burst_height = 4,
                               .burst_duration = 30s});
    const auto s = traffic.series(3600, 5);
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != static_cast<float>(traffic.rate_at(static_cast<std::int64_t>(i), 5))) {
        FAIL("second " << i << ": series " << s[i] << " != rate_at "
                       << traffic.rate_at(static_cast<std::int64_t>(i), 5));
      }
    }
  }

  TEST_CASE("synthetic: diurnal curve peaks at peak_at and the period mean is the base") {
    // No noise, no bursts: base 100, amplitude 0.6, period 1000 s, peak at 250 s.
    const auto traffic = make({.base_qps = 100,
                               .amplitude = 0.6,
                               .period = 1000s,
                               .peak_at = 250s,
                               .noise = 0,
                               .bursts_per_hour = 0});
    CHECK(traffic.rate_at(250) == doctest::Approx(160));   // 100 * (1 + 0.6)
    CHECK(traffic.rate_at(750) == doctest::Approx(40));    // 100 * (1 - 0.6), half a period on
    CHECK(traffic.rate_at(1250) == doctest::Approx(160));  // one period later
    CHECK(traffic.rate_at(-750) == doctest::Approx(160));  // and earlier
    CHECK(traffic.rate_at(500) == doctest::Approx(100));   // a quarter period: cos = 0
    CHECK(mean_of(traffic.series(1000)) == doctest::Approx(100).epsilon(1e-6));
  }

  TEST_CASE("synthetic: with noise the mean over a full period stays near the base") {
    // Log-normal noise with mean 1 and sigma 0.3: the mean of 86400 draws is within about
    // 0.3 / sqrt(86400) = 0.1 % of 1 per standard deviation; 1 % is a wide margin.
    for (std::uint64_t seed : {1U, 2U, 3U}) {
      CAPTURE(seed);
      const auto traffic =
          make({.seed = seed, .base_qps = 200, .noise = 0.3, .bursts_per_hour = 0});
      const auto s = traffic.series(86'400);
      CHECK(mean_of(s) == doctest::Approx(200).epsilon(0.01));
      // And it is really noisy: neighbouring seconds differ.
      CHECK(s[1000] != s[1001]);
    }
  }

  TEST_CASE("synthetic: bursts cover the expected share of time at the configured height") {
    // 6 bursts/h of 60 s: p = 1/600 per second; a second is in a burst with probability
    // 1 - (1 - 1/600)^60 = 0.0952. Over 2 days (about 288 bursts) that share is within
    // 0.07..0.12 with a wide margin (relative sd about 6 %).
    const auto traffic = make({.seed = 11,
                               .base_qps = 10,
                               .amplitude = 0,
                               .noise = 0,
                               .bursts_per_hour = 6,
                               .burst_height = 5,
                               .burst_duration = 60s});
    const auto s = traffic.series(172'800);
    std::size_t high = 0;
    std::size_t other = 0;
    for (float v : s) {
      high += v == 50.0F ? 1U : 0U;
      other += v != 50.0F && v != 10.0F ? 1U : 0U;
    }
    CHECK(other == 0);
    const double share = static_cast<double>(high) / static_cast<double>(s.size());
    CHECK(share > 0.07);
    CHECK(share < 0.12);
  }

  TEST_CASE("synthetic: invalid configs are refused naming the field") {
    struct Case {
      std::string_view name;
      SyntheticConfig config;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "negative base", .config = {.base_qps = -1}, .want = "base_qps"},
        {.name = "amplitude above 1", .config = {.amplitude = 1.01}, .want = "amplitude"},
        {.name = "NaN noise", .config = {.noise = std::nan("")}, .want = "noise"},
        {.name = "zero period", .config = {.period = 0s}, .want = "period"},
        {.name = "burst height below 1", .config = {.burst_height = 0.5}, .want = "burst_height"},
        {.name = "zero burst duration", .config = {.burst_duration = 0s}, .want = "burst_duration"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto r = SyntheticTraffic::create(c.config);
      REQUIRE(!r.has_value());
      CHECK(r.error().code == ErrorCode::InvalidInput);
      CHECK(r.error().message.find(c.want) != std::string::npos);
    }
    // Bursts off: the duration does not matter.
    CHECK(SyntheticTraffic::create({.bursts_per_hour = 0, .burst_duration = 0s}).has_value());
  }

  TEST_CASE("synthetic source: per-service streams at whole seconds since start") {
    const util::SystemTime start{1'700'000'000s};
    const auto traffic = make({.seed = 5, .base_qps = 30});
    SyntheticQpsSource source(traffic, start);
    const std::vector<ServiceId> services = {ServiceId("svco-a"), ServiceId("svco-b")};
    const auto r = source.read(services, start + 125s + 900ms);
    REQUIRE(r[0].has_value());
    REQUIRE(r[1].has_value());
    CHECK(r[0]->qps == traffic.rate_at(125, SyntheticTraffic::stream_for("svco-a")));
    CHECK(r[1]->qps == traffic.rate_at(125, SyntheticTraffic::stream_for("svco-b")));
    CHECK(r[0]->qps != r[1]->qps);
    CHECK(r[0]->timestamp == start + 125s + 900ms);
    CHECK(r[0]->span == 1s);  // the rate of that second
    const auto before = source.read(services, start - 1s);
    REQUIRE(!before[0].has_value());
    CHECK(before[0].error().kind == FailureKind::Missing);
  }
}

}  // namespace
}  // namespace qfscale::demand
