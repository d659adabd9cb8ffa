#include "qfscale/sim/sweep.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"

#include "unit/sim/sim_fixtures.h"

namespace qfscale::sim {
namespace {

using namespace std::chrono_literals;

const util::ZoneSource kNoZones = [](std::string_view) -> std::optional<std::string> {
  return std::nullopt;
};

policy::Policy shipped(std::string_view name) {
  const auto text = controller::shipped_policy(name);
  REQUIRE(text);
  auto p = policy::load_policy(*text, name, kNoZones);
  REQUIRE(p);
  return *p;
}

SweepRange range(std::string_view text) {
  auto r = parse_sweep(text);
  REQUIRE_MESSAGE(r, r.error().message);
  return *r;
}

CurvePoint pt(double value, double attainment, double cost) {
  return {.value = value, .slo_attainment_pct = attainment, .compute_unit_hours = cost};
}

TEST_SUITE("sim") {
  TEST_CASE("sweep: FIELD=FROM:TO:STEP gives exact decimal values, TO included") {
    const auto r = range("target.utilization=0.30:0.95:0.05");
    CHECK(r.field.path == "target.utilization");
    CHECK(r.decimals == 2);
    const auto v = sweep_values(r);
    REQUIRE(v.size() == 14);
    CHECK(v.front() == 0.3);
    CHECK(v[1] == 0.35);  // not 0.35000000000000003
    CHECK(v[7] == 0.65);
    CHECK(v.back() == 0.95);
    CHECK(sweep_values(range("replicas.max=4:10:3")) == std::vector<double>{4, 7, 10});
    CHECK(sweep_values(range("replicas.max=4:9:3")) == std::vector<double>{4, 7});  // 10 > 9
    CHECK(sweep_values(range("spec.metricWindow=30:30:10")) == std::vector<double>{30});
    CHECK(sweep_values(range("target.utilization=0.1:0.3:0.1")) ==
          std::vector<double>{0.1, 0.2, 0.3});
  }

  TEST_CASE("sweep: bad FIELD or range is refused with what is allowed") {
    struct Case {
      std::string_view name;
      std::string_view text;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "no =",
         .text = "target.utilization",
         .want = "must be FIELD=FROM:TO:STEP, e.g. target.utilization=0.30:0.95:0.05"},
        {.name = "two numbers", .text = "target.utilization=0.3:0.9", .want = "FIELD=FROM:TO:STEP"},
        {.name = "four numbers", .text = "target.utilization=0.3:0.9:0.1:1", .want = "FROM:TO"},
        {.name = "typo in field",
         .text = "target.utilisation=0.3:0.9:0.1",
         .want = "did you mean target.utilization?"},
        {.name = "from not a number", .text = "target.utilization=a:0.9:0.1", .want = "FROM 'a'"},
        {.name = "to not a number", .text = "target.utilization=0.3::0.1", .want = "TO ''"},
        {.name = "step inf", .text = "target.utilization=0.3:0.9:inf", .want = "STEP 'inf'"},
        {.name = "step zero", .text = "target.utilization=0.3:0.9:0", .want = "STEP 0 must be > 0"},
        {.name = "step negative", .text = "target.utilization=0.3:0.9:-0.1", .want = "must be > 0"},
        {.name = "descending",
         .text = "target.utilization=0.9:0.3:0.1",
         .want = "TO 0.3 is below FROM 0.9"},
        {.name = "too many",
         .text = "replicas.max=1:1001:1",
         .want = "gives 1001 values, at most 1000"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto r = parse_sweep(c.text);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == ErrorCode::InvalidInput);
      CHECK_MESSAGE(r.error().message.find(c.want) != std::string::npos, r.error().message);
    }
    CHECK(parse_sweep("replicas.max=1:1000:1"));  // exactly 1000 values
  }

  TEST_CASE("sweep: cost at attainment, read off the curve by hand") {
    // Worked in sweep.h: 99.5% at 10 CU-h and 98.5% at 8 straddle 99 half-way: 9 CU-h.
    const CurvePoint two[] = {pt(0.5, 99.5, 10), pt(0.6, 98.5, 8)};
    CHECK(cost_at_attainment(two, 99.0) == doctest::Approx(9.0));
    CHECK(cost_at_attainment(two, 99.5) == 10.0);  // exactly met: no cheaper crossing
    CHECK_FALSE(cost_at_attainment(two, 99.9));    // nothing reaches it
    CHECK(cost_at_attainment(two, 98.5) == 8.0);   // the cheap point itself meets it

    // Three points: 100% at 12, 99.95% at 11, 99.0% at 9. At 99.9 the crossing lies between
    // the 2nd and 3rd: (99.9 - 99.95) / (99.0 - 99.95) = 0.05 / 0.95 of the way,
    // 11 + (1 / 19) x (9 - 11) = 10.8947...
    const CurvePoint three[] = {pt(0.3, 100, 12), pt(0.4, 99.95, 11), pt(0.5, 99.0, 9)};
    CHECK(cost_at_attainment(three, 99.9) == doctest::Approx(11.0 - 2.0 / 19.0));
    CHECK(cost_at_attainment(three, 99.0) == 9.0);

    // Not monotone: a cheaper point meeting the target later in the sweep wins, and a
    // crossing towards a dearer point never beats the point that meets the target.
    const CurvePoint bumpy[] = {pt(1, 99.5, 10), pt(2, 98, 14), pt(3, 99.2, 7)};
    CHECK(cost_at_attainment(bumpy, 99.0) == 7.0);
    CHECK_FALSE(cost_at_attainment(std::vector<CurvePoint>{}, 99.0));
  }

  TEST_CASE("sweep: the tuner picks the cheapest point meeting the SLO on every service") {
    const auto two = [](double v, double a1, double a2, double cost) {
      CurvePoint p = pt(v, (a1 + a2) / 2, cost);
      p.services = {{.slo_attainment_pct = a1, .compute_unit_hours = cost / 2},
                    {.slo_attainment_pct = a2, .compute_unit_hours = cost / 2}};
      return p;
    };
    // Worked in sweep.h: 0.6 is cheaper but its second service is at 98.9 < 99.
    const CurvePoint points[] = {two(0.5, 99.6, 99.2, 10), two(0.6, 99.9, 98.9, 9),
                                 two(0.7, 99.1, 99.0, 9.5)};
    CHECK(worst_attainment(points[1]) == 98.9);
    CHECK(cheapest_meeting(points, 99.0) == 2);   // exactly at the target meets it
    CHECK(cheapest_meeting(points, 99.05) == 0);  // just above: only 0.5 is left
    CHECK(cheapest_meeting(points, 98.9) == 1);
    CHECK_FALSE(cheapest_meeting(points, 99.3));
    // Equal cost: the larger margin, then the earlier value.
    const CurvePoint tie[] = {two(1, 99.2, 99.2, 5), two(2, 99.5, 99.4, 5), two(3, 99.5, 99.4, 5)};
    CHECK(cheapest_meeting(tie, 99.0) == 1);
  }

  TEST_CASE("sweep: every policy at every value; results do not depend on threads") {
    const policy::Policy policies[] = {shipped("cost-saver"), shipped("hpa-default")};
    const ServiceSpec services[] = {test::step_service("a"), test::step_service("b")};
    SweepOptions options;
    options.sim.tick = 10s;
    options.sim.startup_delay = 20s;
    const auto r = range("target.utilization=0.5:1.1:0.1");  // 1.1 is refused
    options.threads = 1;
    std::vector<std::size_t> seen;
    options.progress = [&](std::size_t done, std::size_t total, const std::string&, double) {
      seen.push_back(done);
      CHECK(total == 12);
    };
    const auto one = sweep(policies, services, r, kNoZones, options);
    REQUIRE(one);
    CHECK(seen.size() == 12);
    CHECK(seen.back() == 12);
    options.threads = 3;
    options.progress = nullptr;
    const auto three = sweep(policies, services, r, kNoZones, options);
    REQUIRE(three);
    REQUIRE(one->size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& c = (*one)[i];
      CAPTURE(c.policy);
      CHECK(c.policy == policies[i].name());
      CHECK(c.field == "target.utilization");
      CHECK(c.points == (*three)[i].points);
      REQUIRE(c.points.size() == 6);
      CHECK(c.points.back().value == 1.0);
      REQUIRE(c.skipped.size() == 1);
      CHECK(c.skipped[0].value == 1.1);
      CHECK(c.skipped[0].reason ==
            "spec.target.utilization: 1.1 is out of range, must be in (0, 1]");
      // A point is exactly the simulator's run of the variant.
      auto variant = policies[i].spec();
      variant.target.utilization = 0.7;
      auto p = policy::Policy::create(variant);
      REQUIRE(p);
      const auto run = simulate(*p, services, options.sim);
      REQUIRE(run);
      const auto& at07 = c.points[2];
      CHECK(at07.value == 0.7);
      REQUIRE(at07.services.size() == 2);
      CHECK(at07.services[1].compute_unit_hours == run->services[1].summary.compute_unit_hours);
      CHECK(at07.services[1].slo_attainment_pct == run->services[1].summary.queue.attainment_pct());
      CHECK(at07.compute_unit_hours == run->services[0].summary.compute_unit_hours +
                                           run->services[1].summary.compute_unit_hours);
    }
  }

  TEST_CASE("sweep: summary.json members, with a place for the oracle's costs") {
    Curve c{.policy = "p", .field = "target.utilization"};
    c.points = {pt(0.5, 99.5, 10), pt(0.6, 98.5, 8)};
    c.skipped = {{.value = 1.1, .reason = "bad \"x\""}};
    const Curve curves[] = {c};
    const AttainmentCosts oracle[] = {{.name = "oracle", .costs = {5.0, std::nullopt}}};
    CHECK(sweep_json_members(curves, oracle) ==
          "  \"curves\": [\n"
          "    {\"policy\": \"p\", \"field\": \"target.utilization\", \"points\": [\n"
          "      {\"value\": 0.5, \"slo_attainment_pct\": 99.5, \"compute_unit_hours\": 10},\n"
          "      {\"value\": 0.6, \"slo_attainment_pct\": 98.5, \"compute_unit_hours\": 8}\n"
          "    ], \"skipped\": [\n"
          "      {\"value\": 1.1, \"reason\": \"bad \\\"x\\\"\"}\n"
          "    ]}\n"
          "  ],\n"
          "  \"cost_at_attainment\": {\n"
          "    \"p\": {\"99\": 9, \"99.9\": null},\n"
          "    \"oracle\": {\"99\": 5, \"99.9\": null}\n"
          "  }");
  }
}

}  // namespace
}  // namespace qfscale::sim
