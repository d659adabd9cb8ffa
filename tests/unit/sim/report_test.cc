#include "qfscale/sim/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <simdjson.h>

#include "qfscale/sim/oracle.h"

#include "support/golden.h"
#include "unit/sim/sim_fixtures.h"

namespace qfscale::sim {
namespace {

using namespace std::chrono_literals;
using test::exact_policy;
using test::step_inputs;
using test::step_options;
using test::step_service;
using test::steps;

using simdjson::dom::element;

element field(element e, const char* key) {
  element v;
  REQUIRE_MESSAGE(e[key].get(v) == simdjson::SUCCESS, key);
  return v;
}

element at(element array, std::size_t i) {
  element v;
  REQUIRE(array.at(i).get(v) == simdjson::SUCCESS);
  return v;
}

double number(element e, const char* key) {
  const auto v = field(e, key);
  std::int64_t i = 0;
  if (v.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  double d = 0;
  REQUIRE_MESSAGE(v.get(d) == simdjson::SUCCESS, key);
  return d;
}

std::string_view text(element e, const char* key) {
  std::string_view v;
  REQUIRE_MESSAGE(field(e, key).get(v) == simdjson::SUCCESS, key);
  return v;
}

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// 200 s at 5 QPS: one replica of 10 QPS all along, half used.
ServiceSpec flat_service() {
  return ServiceSpec{.id = model::ServiceId{"svc-flat"},
                     .trace = steps({{200, 5.0F}}),
                     .replica_qps = 10,
                     .units_per_replica = model::ComputeUnits{2},
                     .initial_replicas = model::Replicas{1}};
}

Comparison step_comparison(CompareOptions options = step_options()) {
  const policy::Policy policies[] = {exact_policy()};
  const ServiceSpec services[] = {step_service()};
  auto c = compare(policies, services, step_inputs(), options);
  REQUIRE(c);
  return std::move(*c);
}

TEST_SUITE("sim") {
  TEST_CASE("report: step trace figures for the policy and the oracle are the hand-computed ones") {
    const auto c = step_comparison();
    REQUIRE(c.policies.size() == 1);
    const auto& p = c.policies[0].total;
    // The policy (see simulator_test): 2 replicas started at t=110 are ready at 130, so seconds
    // 100..129 serve 10 of 30 QPS: 30 x 20 = 600 of 5000 requests (12%). Replicas 1 x 110 +
    // 3 x 100 + 1 x 90 = 500 replica-s x 2 units = 1000 unit-s.
    CHECK(p.requests_total == doctest::Approx(5000));
    CHECK(p.requests_over_capacity == doctest::Approx(600));
    CHECK(p.requests_over_capacity_pct == doctest::Approx(12));
    CHECK(p.seconds_over_capacity == 30);
    CHECK(p.compute_unit_hours == doctest::Approx(1000.0 / 3600));
    CHECK(p.max_replicas == 3);
    // Utilization: 1.0 for 260 s, 3.0 for 30 s, 1/3 for 10 s; p50 is rank 150 -> 1.0, p99 is
    // rank ceil(0.99 x 300) = 297 -> among the 30 highest -> 3.0.
    CHECK(p.utilization_p50 == doctest::Approx(1.0));
    CHECK(p.utilization_p99 == doctest::Approx(3.0));
    // The oracle starts two replicas at 100 - 20 = 80 and stops them at 200: 1 x 80 + 3 x 120 +
    // 1 x 100 = 540 replica-s x 2 = 1080 unit-s = 0.3 unit-hours, nothing over capacity, every
    // second exactly full.
    const auto& o = c.oracle.total;
    CHECK(o.requests_over_capacity == 0);
    CHECK(o.compute_unit_hours == doctest::Approx(0.3));
    CHECK(o.scale_operations == 2);
    CHECK(o.mean_replicas == doctest::Approx(1.8));
    CHECK(o.utilization_p50 == 1.0);
    CHECK(o.utilization_p99 == 1.0);
    // The policy is cheaper than the no-queue oracle because it left 600 requests unserved:
    // 1000 / 1080 = 0.9259.
    CHECK(c.policies[0].cost_ratio_to_no_queue_oracle == doctest::Approx(1000.0 / 1080));
    CHECK(c.oracle.cost_ratio_to_oracle == 1.0);
  }

  TEST_CASE("report: the SLO oracle bounds the policy from below at its own attainment") {
    auto options = step_options();
    options.slo_oracle = true;
    const auto c = step_comparison(options);
    // Against the SLO oracle at its own 21.6% it is not cheaper: the LP is a relaxation of every
    // controller at these ticks, this one included.
    REQUIRE(c.slo_oracle.has_value());
    CHECK(c.policies[0].cost_ratio_to_oracle >= 1.0);
    CHECK(std::isfinite(c.policies[0].cost_ratio_to_oracle));
    // To serve all 5000 on time, 10 s ticks and a 20 s startup: the step at 100 needs 3 ready
    // (30 QPS; a 5 s wait cannot absorb 100 s of it), so at least 3 on from 80 (the tick 20 s
    // before) to ~195, 1 elsewhere: >= 1 x 80 + 3 x 115 + 1 x 100 ~ 525 replica-s, below the
    // no-queue oracle's 540 by at most what waiting 5 s saves at the edges.
    const auto& full = c.slo_oracle->total[0];
    CHECK(full.attainment_pct == 100);
    CHECK(*full.lower_bound_cu_hours * 3600 >= 2 * 525 - 1e-6);
    CHECK(*full.lower_bound_cu_hours <= *full.achievable_cu_hours + 1e-9);
    CHECK(*full.lower_bound_cu_hours <= c.oracle.total.compute_unit_hours + 1e-9);
    const auto json = summary_json(c);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
    const auto p = at(field(doc, "policies"), 0);
    CHECK(number(p, "cost_ratio_to_oracle") == doctest::Approx(c.policies[0].cost_ratio_to_oracle));
    const auto slo = field(doc, "slo_oracle");
    for (const char* target : {"100", "99.9", "99"}) {
      const auto t = field(slo, target);
      CHECK(number(t, "lower_bound_cu_hours") <= number(t, "achievable_cu_hours"));
      CHECK(number(t, "achievable_slo_attainment_pct") >= std::stod(target));
      CHECK(number(t, "lp_check_every_s") == 10);
    }
    CHECK(text(at(field(slo, "services"), 0), "service") == "svc-step");
    const auto table = format_table(c);
    CHECK(table.find("\nSLO oracle (wait <= 5s, abandon 30s, same ticks)") != std::string::npos);
    CHECK(table.find("\n  99.9%  ") != std::string::npos);
  }

  TEST_CASE("report: summary.json holds the inputs and every figure, and matches the golden file") {
    const auto c = step_comparison();
    const auto json = summary_json(c);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
    const auto in = field(doc, "inputs");
    CHECK(text(in, "type") == "GPU-I-2");
    CHECK(number(in, "units_per_replica") == 2);
    CHECK(number(in, "startup_delay_s") == 20);
    CHECK(number(in, "tick_s") == 10);
    CHECK(number(in, "metric_span_s") == 10);  // the tick, as no span was given
    CHECK(number(in, "slo_wait_s") == 5);
    CHECK(number(in, "abandon_after_s") == 30);
    CHECK(field(in, "capacity_units").is_null());
    const auto trace = at(field(in, "traces"), 0);
    CHECK(text(trace, "file") == "traces/step.csv");
    CHECK(text(trace, "service") == "svc-step");
    CHECK(number(trace, "seconds") == 300);
    const auto p = at(field(doc, "policies"), 0);
    CHECK(text(p, "policy") == "exact");
    CHECK(number(p, "requests_total") == 5000);
    // The queue (worked in simulator_test): 3920 late, 110 of them abandoned.
    CHECK(number(p, "slo_attainment_pct") == doctest::Approx(21.6));
    CHECK(number(p, "requests_late") == 3920);
    CHECK(number(p, "requests_abandoned") == 110);
    CHECK(number(p, "wait_p50_seconds") == 20);
    CHECK(number(p, "wait_p99_seconds") == 30);
    CHECK(number(p, "wait_max_seconds") == 30);
    CHECK(number(p, "backlog_max") == 600);
    CHECK(number(p, "requests_over_capacity") == 600);
    CHECK(number(p, "requests_over_capacity_pct") == 12);
    // 500 replica-seconds are exactly what every 10 s segment needs at full use (1 x 100 s,
    // 3 x 100 s, 1 x 100 s): a controller that knew the future could have left nothing over;
    // the 600 were the price of reacting after the step, not of the budget.
    CHECK(number(p, "requests_over_capacity_floor") == 0);
    CHECK(number(p, "requests_over_capacity_floor_pct") == 0);
    CHECK(number(p, "seconds_over_capacity") == 30);
    CHECK(number(p, "compute_unit_hours") == doctest::Approx(1000.0 / 3600));
    CHECK(number(p, "scale_operations") == 2);
    CHECK(number(p, "max_replicas") == 3);
    CHECK(number(p, "mean_replicas") == doctest::Approx(500.0 / 300));
    CHECK(number(p, "utilization_p50") == 1);
    CHECK(number(p, "utilization_p99") == 3);
    CHECK(number(p, "cost_ratio_to_no_queue_oracle") == doctest::Approx(1000.0 / 1080));
    CHECK(number(p, "cost_ratio_to_oracle") == doctest::Approx(1000.0 / 1080));
    CHECK(field(doc, "slo_oracle").is_null());  // off unless asked for
    const auto ps = at(field(p, "services"), 0);
    CHECK(text(ps, "service") == "svc-step");
    CHECK(number(ps, "requests_over_capacity") == 600);
    CHECK(number(ps, "requests_late") == 3920);
    const auto o = field(doc, "oracle");
    CHECK(text(o, "policy") == "oracle");
    CHECK(number(o, "requests_over_capacity") == 0);
    // The oracle's schedule replayed through the queue: every second served in that second.
    CHECK(number(o, "slo_attainment_pct") == 100);
    CHECK(number(o, "wait_max_seconds") == 0);
    CHECK(number(o, "compute_unit_hours") == doctest::Approx(0.3));
    CHECK(number(o, "cost_ratio_to_oracle") == 1);
    CHECK(field(o, "requests_over_capacity_floor").is_null());  // the oracle does not tick
    const auto golden = qfscale::test::check_golden("sim_step_summary.json", json);
    CHECK_MESSAGE(golden.ok, golden.message);
  }

  TEST_CASE("report: timeline.csv has a row per tick per policy and the oracle at the same ticks") {
    const auto c = step_comparison();
    const auto csv = timeline_csv(c);
    // Ticks at 10, 20, … 290: 29 rows for the policy and 29 for the oracle, plus the header.
    CHECK(count(csv, "\n") == 1 + 29 + 29);
    CHECK(
        csv.starts_with("policy,service,t_seconds,demand_qps,ready_capacity_qps,replicas,"
                        "ready_replicas,desired,granted,reason\n"));
    // t=110 sees the mean of [100, 110) = 30 QPS: desired 3, all granted, 1 ready (10 QPS).
    CHECK(csv.find("\nexact,svc-step,110,30,10,3,1,3,3,scale_up\n") != std::string::npos);
    CHECK(csv.find("\nexact,svc-step,130,30,30,3,3,3,3,") != std::string::npos);
    // The oracle has 3 on from 80 but only 1 ready until 100 (started at 80 + 20 s delay).
    CHECK(csv.find("\noracle,svc-step,80,10,10,3,1,3,3,oracle\n") != std::string::npos);
    CHECK(csv.find("\noracle,svc-step,100,10,30,3,3,3,3,oracle\n") != std::string::npos);
    const auto golden = qfscale::test::check_golden("sim_step_timeline.csv", csv);
    CHECK_MESSAGE(golden.ok, golden.message);
  }

  TEST_CASE("report: aggregates over services are sums, max-of-utilization and recomputed %") {
    const policy::Policy policies[] = {exact_policy()};
    const ServiceSpec services[] = {step_service(), flat_service()};
    auto options = step_options();
    options.slo_oracle = true;
    auto c = compare(policies, services, step_inputs({"step.csv", "flat.csv"}), options);
    REQUIRE(c);
    const auto& t = c->policies[0].total;
    // Flat: 200 s x 5 QPS = 1000 requests, 1 replica x 200 s x 2 units = 400 unit-s, utilization
    // 0.5 throughout, no scaling. With the step service: 6000 requests, 600 over = 10%.
    CHECK(t.requests_total == doctest::Approx(6000));
    CHECK(t.requests_over_capacity == doctest::Approx(600));
    CHECK(t.requests_over_capacity_pct == doctest::Approx(10));
    CHECK(t.seconds_over_capacity == 30);
    CHECK(t.compute_unit_hours == doctest::Approx(1400.0 / 3600));
    CHECK(t.scale_operations == 2);
    CHECK(t.max_replicas == 3 + 1);
    CHECK(t.mean_replicas == doctest::Approx(500.0 / 300 + 1));
    CHECK(t.utilization_p50 == doctest::Approx(1.0));  // max(1.0, 0.5)
    CHECK(t.utilization_p99 == doctest::Approx(3.0));  // max(3.0, 0.5)
    // Oracle: 1080 + 400 = 1480 unit-s; ratios 1400 / 1480 overall, 1000 / 1080 and 400 / 400.
    CHECK(c->oracle.total.compute_unit_hours == doctest::Approx(1480.0 / 3600));
    CHECK(c->policies[0].cost_ratio_to_no_queue_oracle == doctest::Approx(1400.0 / 1480));
    REQUIRE(c->policies[0].service_no_queue_cost_ratios.size() == 2);
    CHECK(c->policies[0].service_no_queue_cost_ratios[0] == doctest::Approx(1000.0 / 1080));
    CHECK(c->policies[0].service_no_queue_cost_ratios[1] == doctest::Approx(1.0));
    // The SLO oracle: each service alone and both together (one LP sharing the late budget).
    // Flat: 1000 requests, the last served by 199 + 5 s at the last second's capacity, so the LP
    // needs r x 10 QPS x 205 s >= 1000: r = 0.488 replicas x 200 s x 2 units = 195.1 unit-s. It
    // is fractional; the achievable schedule rounds it to the one replica (400 unit-s).
    REQUIRE(c->slo_oracle.has_value());
    REQUIRE(c->slo_oracle->services.size() == 2);
    CHECK(*c->slo_oracle->services[1][0].lower_bound_cu_hours * 3600 ==
          doctest::Approx(1000.0 / 2050 * 400));
    CHECK(*c->slo_oracle->services[1][0].achievable_cu_hours * 3600 == doctest::Approx(400));
    CHECK(c->policies[0].service_cost_ratios[1] == doctest::Approx(400 / (1000.0 / 2050 * 400)));
    for (std::size_t j = 0; j < kSloTargets.size(); ++j) {
      // Together never costs more than apart: the separate answers are one feasible point.
      CHECK(*c->slo_oracle->total[j].lower_bound_cu_hours <=
            *c->slo_oracle->services[0][j].lower_bound_cu_hours +
                *c->slo_oracle->services[1][j].lower_bound_cu_hours + 1e-9);
    }
    CHECK(c->policies[0].cost_ratio_to_oracle >= 1.0);
  }

  TEST_CASE("report: with a capacity the oracle gets at most capacity / units replicas") {
    auto options = step_options();
    options.sim.capacity_units = model::ComputeUnits{4};
    options.slo_oracle = true;
    auto inputs = step_inputs();
    inputs.capacity_units = model::ComputeUnits{4};
    const policy::Policy policies[] = {exact_policy()};
    const ServiceSpec services[] = {step_service()};
    auto c = compare(policies, services, inputs, options);
    REQUIRE(c);
    // 4 units / 2 per replica = 2 replicas for both. Oracle: 2 on from 80 to 199, so 100 s of
    // 30 QPS against 20 leave 10 x 100 = 1000 requests over; 1 x 80 + 2 x 120 + 1 x 100 = 420
    // replica-s = 840 unit-s.
    CHECK(c->oracle.total.requests_over_capacity == doctest::Approx(1000));
    CHECK(c->oracle.total.compute_unit_hours == doctest::Approx(840.0 / 3600));
    // Policy: granted 2 of 3 at t=110, ready at 130: 30 s x 20 + 70 s x 10 = 1300 over;
    // 1 x 110 + 2 x 100 + 1 x 90 = 400 replica-s = 800 unit-s.
    CHECK(c->policies[0].total.requests_over_capacity == doctest::Approx(1300));
    CHECK(c->policies[0].total.compute_unit_hours == doctest::Approx(800.0 / 3600));
    CHECK(c->policies[0].cost_ratio_to_no_queue_oracle == doctest::Approx(800.0 / 840));
    CHECK(c->policies[0].cost_ratio_to_oracle >= 1.0);
    const auto csv = timeline_csv(*c);
    CHECK(csv.find("\nexact,svc-step,110,30,10,2,1,3,2,capped_capacity\n") != std::string::npos);
    CHECK(summary_json(*c).find("\"capacity_units\": 4,") != std::string::npos);
    // One service: the per-service cap binds, nothing is cut across services, yet the table
    // still says the oracle is capacity-bound.
    CHECK(c->oracle_capacity_bound_seconds == 0);
    CHECK(format_table(*c).find("\noracle: capacity-bound; a peak needs more than "
                                "--capacity-units 4, so even the oracle leaves 1000 requests "
                                "over capacity.\n") != std::string::npos);
  }

  TEST_CASE("report: cost ratio when the oracle costs nothing") {
    // A silent trace needs no replica: the oracle costs 0. The policy keeps its one replica
    // (replicas.min 1): 100 s x 2 units = 200 unit-s, so the ratio is infinite, written null.
    const policy::Policy policies[] = {exact_policy()};
    auto silent = step_service("svc-silent");
    silent.trace = steps({{100, 0.0F}});
    const ServiceSpec services[] = {silent};
    auto c = compare(policies, services, step_inputs(), step_options());
    REQUIRE(c);
    CHECK(c->oracle.total.compute_unit_hours == 0);
    CHECK(std::isinf(c->policies[0].cost_ratio_to_oracle));
    CHECK(c->oracle.cost_ratio_to_oracle == 1.0);  // 0 / 0: the oracle equals itself
    const auto json = summary_json(*c);
    CHECK(json.find("\"cost_ratio_to_oracle\": null") != std::string::npos);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    CHECK(parser.parse(json).get(doc) == simdjson::SUCCESS);
    CHECK(format_table(*c).find(" inf ") != std::string::npos);
  }

  TEST_CASE("report: the terminal table has a row per policy, a rule, then the oracle") {
    const auto c = step_comparison();
    const auto table = format_table(c);
    CAPTURE(table);
    CHECK(count(table, "\n") == 6);  // header, exact, rule, oracle, two legend lines
    CHECK(table.starts_with("policy"));
    // exact: 600 over (12.00%), 30 s, 0.28 CU-h, 0.93 of the oracle, 2 ops, max 3, mean 1.67,
    // utilization p50 1.00 and p99 3.00.
    CHECK(table.find("\nexact ") != std::string::npos);
    for (const char* cell :
         {" 600 ", " 12.00% ", " 30 ", " 0.28 ", " 0.93 ", " 1.67 ", " 3.00\n"}) {
      CAPTURE(cell);
      CHECK(table.find(cell) != std::string::npos);
    }
    CHECK(table.find("\n----") != std::string::npos);
    CHECK(table.find("\noracle ") != std::string::npos);
    // The floor column: 0.00% for exact (see the summary.json case), "-" for the oracle.
    CHECK(table.find(" floor % ") != std::string::npos);
    CHECK(table.find(" 12.00%    0.00% ") != std::string::npos);
    CHECK(table.find(" 0.00%        - ") != std::string::npos);
    // SLO attainment and the p99 wait after the name: 21.6% and 30 s for exact (worked in
    // simulator_test), everything in its second for the oracle.
    CHECK(table.find(" SLO attain  wait p99 ") != std::string::npos);
    CHECK(table.find("\nexact      21.600%       30s ") != std::string::npos);
    CHECK(table.find("\noracle    100.000%        0s ") != std::string::npos);
  }

  TEST_CASE("report: a policy held to one replica sits exactly on its floor") {
    // replicas.max 1: 300 replica-seconds. Spent at full use they serve 300 x 10 = 3000 of the
    // 5000 requests, so the floor is 2000 (40%); one replica leaves 20 QPS unserved for the
    // 100 s at 30 QPS, i.e. exactly 2000: nothing could do better at that cost.
    auto spec = exact_policy("one").spec();
    spec.replicas.max = model::Replicas{1};
    auto one = policy::Policy::create(spec);
    REQUIRE(one);
    const policy::Policy policies[] = {*one};
    const ServiceSpec services[] = {step_service()};
    const auto c = compare(policies, services, step_inputs(), step_options());
    REQUIRE(c);
    const auto& row = c->policies[0];
    CHECK(row.total.requests_over_capacity == 2000);
    CHECK(row.over_capacity_floor == doctest::Approx(2000));
    CHECK(row.service_over_capacity_floors.at(0) == doctest::Approx(2000));
    CHECK(std::isnan(c->oracle.over_capacity_floor));
    CHECK(format_table(*c).find(" 40.00%   40.00% ") != std::string::npos);
  }

  TEST_CASE("report: the oracle's chart series are small and keep its one-second peak") {
    // 20,000 s at 10 QPS with one second at 95 QPS: the oracle keeps 10 replicas on for the
    // 21 s up to and including it (the 20 s startup delay, then the peak second) and has them
    // ready for that one second only.
    std::vector<float> qps(20'000, 10.0F);
    qps[12'345] = 95.0F;
    auto service = step_service();
    service.trace = std::make_shared<const trace::Trace>(std::move(qps));
    const policy::Policy policies[] = {exact_policy()};
    const ServiceSpec services[] = {service};
    auto c = compare(policies, services, step_inputs(), step_options());
    REQUIRE(c);
    REQUIRE(c->oracle_charts.size() == 1);
    const auto& chart = c->oracle_charts[0];
    auto y_of = [](const ChartPoint& p) { return p.y; };
    for (const auto* series : {&chart.on, &chart.ready_capacity}) {
      CHECK(series->size() <= kMaxChartPoints);
      REQUIRE(series->size() >= 2);
      CHECK(series->front().x == 0);
      CHECK(series->back().x == 19'999);
    }
    CHECK(std::ranges::max(chart.on, {}, y_of).y == 10);
    CHECK(std::ranges::min(chart.on, {}, y_of).y == 1);
    const auto peak = std::ranges::max(chart.ready_capacity, {}, y_of);
    CHECK(peak.y == 100);  // 10 ready replicas of 10 QPS
    CHECK(peak.x == 12'345);
    CHECK(std::ranges::min(chart.ready_capacity, {}, y_of).y == 10);
    // The same points as downsampling the whole per-second schedule.
    auto whole = oracle(*service.trace, service.replica_qps, service.units_per_replica,
                        {.startup_delay = step_options().sim.startup_delay, .keep_schedule = true});
    REQUIRE(whole);
    CHECK(chart.on == downsample(per_second_points<int>(whole->on, 1.0), kMaxChartPoints));
    CHECK(chart.ready_capacity ==
          downsample(per_second_points<int>(whole->ready, service.replica_qps), kMaxChartPoints));
    // report_html downsamples every series again; that must give back the same points.
    CHECK(downsample(chart.on, kMaxChartPoints) == chart.on);
    CHECK(downsample(chart.ready_capacity, kMaxChartPoints) == chart.ready_capacity);
  }

  TEST_CASE("report: the result does not depend on the number of threads") {
    const policy::Policy policies[] = {exact_policy("a"), exact_policy("b"), exact_policy("c"),
                                       exact_policy("d")};
    // Services of different lengths and bursts, so that the oracles and floors take different
    // times and finish in a different order on each run; each has a fractional floor.
    std::vector<ServiceSpec> services = {step_service(), flat_service()};
    std::vector<std::string> files = {"step.csv", "flat.csv"};
    for (int k = 0; k < 6; ++k) {
      auto s = step_service("svc-burst-" + std::to_string(k));
      const auto burst = 23.7F + 6.1F * static_cast<float>(k);
      s.trace = steps({{50 + 40 * k, 4.3F}, {7 + 3 * k, burst}, {90, 11.9F}, {5, burst}});
      services.push_back(s);
      files.push_back("burst-" + std::to_string(k) + ".csv");
    }
    const auto inputs = step_inputs(files);
    auto one = compare(policies, services, inputs, step_options(1));
    REQUIRE(one);
    CHECK(one->policies[0].over_capacity_floor > 0);
    for (const unsigned threads : {2U, 4U, 7U}) {
      CAPTURE(threads);
      auto many = compare(policies, services, inputs, step_options(threads));
      REQUIRE(many);
      CHECK(summary_json(*one) == summary_json(*many));
      CHECK(timeline_csv(*one) == timeline_csv(*many));
      CHECK(report_html(*one) == report_html(*many));
    }
    auto four = compare(policies, services, inputs, step_options(4));
    REQUIRE(four);
    REQUIRE(four->policies.size() == 4);
    CHECK(four->policies[3].result.policy == "d");  // input order kept
  }

  TEST_CASE(
      "report: progress is reported at most ~100 times per policy or phase and ends at the "
      "total") {
    struct Case {
      std::string_view name;
      int seconds;
      std::int64_t want_total;  ///< ticks per policy: (seconds - 1) / 10
      std::size_t max_calls;
    };
    const Case cases[] = {
        {.name = "two ticks", .seconds = 30, .want_total = 2, .max_calls = 2},
        {.name = "100 ticks", .seconds = 1010, .want_total = 100, .max_calls = 101},
        {.name = "101 ticks", .seconds = 1020, .want_total = 101, .max_calls = 101},
        {.name = "a day of ticks", .seconds = 86400, .want_total = 8639, .max_calls = 101},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto svc = step_service();
        svc.trace = steps({{c.seconds, 10.0F}});
        const ServiceSpec services[] = {svc};
        const policy::Policy policies[] = {exact_policy("a"), exact_policy("b")};
        std::vector<std::pair<std::int64_t, std::int64_t>> calls;
        auto options = step_options(2);
        options.progress = [&](std::int64_t done, std::int64_t total) {
          calls.emplace_back(done, total);
        };
        REQUIRE(compare(policies, services, step_inputs(), options));
        // Two policies, then the oracle and floor phases, each weighted as one policy's run.
        CHECK(calls.size() <= 4 * c.max_calls);
        REQUIRE(!calls.empty());
        CHECK(calls.back() == std::pair{4 * c.want_total, 4 * c.want_total});
        CHECK(std::is_sorted(calls.begin(), calls.end()));
      }
    }
  }

  TEST_CASE("report: the oracle and floor phases redraw at most ~100 times each") {
    // 150 ticks per policy and 300 services: one redraw per finished service would be 300.
    std::vector<ServiceSpec> services;
    for (int k = 0; k < 300; ++k) {
      auto s = step_service("svc-" + std::to_string(k));
      s.trace = steps({{1510, 10.0F + static_cast<float>(k % 7)}});
      services.push_back(s);
    }
    const policy::Policy policies[] = {exact_policy("a")};
    std::vector<std::pair<std::int64_t, std::int64_t>> calls;
    auto options = step_options(3);
    options.progress = [&](std::int64_t done, std::int64_t total) {
      calls.emplace_back(done, total);
    };
    REQUIRE(compare(policies, services, step_inputs(), options));
    const std::int64_t per_policy = 150;
    REQUIRE(!calls.empty());
    CHECK(calls.back() == std::pair{3 * per_policy, 3 * per_policy});
    CHECK(std::is_sorted(calls.begin(), calls.end()));
    const auto in_phase = [&](std::int64_t from, std::int64_t to) {
      return std::count_if(calls.begin(), calls.end(),
                           [&](const auto& c) { return c.first > from && c.first <= to; });
    };
    CHECK(in_phase(per_policy, 2 * per_policy) <= 101);      // oracles
    CHECK(in_phase(2 * per_policy, 3 * per_policy) <= 101);  // floors
    CHECK(in_phase(per_policy, 2 * per_policy) >= 10);       // and the bar does move
  }

  TEST_CASE("report: compare rejects no policies, repeated names and the name oracle") {
    const ServiceSpec services[] = {step_service()};
    struct Case {
      std::string_view name;
      std::vector<policy::Policy> policies;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "none", .policies = {}, .want = "no policies"},
        {.name = "twice",
         .policies = {exact_policy("a"), exact_policy("a")},
         .want = "policy 'a' is given twice"},
        {.name = "oracle", .policies = {exact_policy("oracle")}, .want = "reserved"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto r = compare(c.policies, services, step_inputs(), step_options());
      REQUIRE_FALSE(r);
      CHECK(r.error().message.find(c.want) != std::string::npos);
    }
    auto bad = step_service();
    bad.replica_qps = 0;
    const ServiceSpec bad_services[] = {bad};
    const policy::Policy one[] = {exact_policy()};
    auto r = compare(one, bad_services, step_inputs(), step_options());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("replica_qps 0 must be") != std::string::npos);
  }

  TEST_CASE("report: an x-oracle ratio below 1 is marked under-provisioned") {
    CHECK(ratio_text(0.854) == "0.85 (under)");
    CHECK(ratio_text(1.0) == "1.00");
    CHECK(ratio_text(1.234) == "1.23");
    CHECK(ratio_text(std::numeric_limits<double>::infinity()) == "inf");
    // The step comparison: exact costs 0.93 of the oracle (it leaves 600 requests over).
    const auto c = step_comparison();
    const auto table = format_table(c);
    CAPTURE(table);
    CHECK(table.find(" 0.93 (under) ") != std::string::npos);
    CHECK(table.find("\nx oracle below 1 (under): cheaper than the oracle, which serves every "
                     "request it can, so under-provisioned, not better.\n") != std::string::npos);
    CHECK(table.find("\nutil p50/p99: demand / ready capacity, over the seconds with demand") !=
          std::string::npos);
    const auto html = report_html(c);
    CHECK(html.find("<td>0.93 (under)</td>") != std::string::npos);
    CHECK(html.find("under-provisioned, not better") != std::string::npos);
  }

  TEST_CASE("report: with a shared capacity the oracle never exceeds it") {
    // Two services of 1 unit a replica and 10 QPS, both 10 QPS, then 80 for 100 s, then 10:
    // their peaks coincide. Capacity 10 units. Each oracle alone holds 8 replicas from 80 (the
    // 20 s startup delay) to 199: 16 units, 6 over the capacity. Cut as the allocator would
    // (equal priority and weight), each gets 5 from 80 to 199: 50 of 80 QPS served at the peak,
    // so even the oracle leaves 2 x 100 s x 30 = 6000 requests over capacity. 120 s cut.
    auto options = step_options();
    options.sim.capacity_units = model::ComputeUnits{10};
    auto inputs = step_inputs({"a.csv", "b.csv"});
    inputs.capacity_units = model::ComputeUnits{10};
    inputs.units_per_replica = model::ComputeUnits{1};
    std::vector<ServiceSpec> services;
    for (const char* id : {"a", "b"}) {
      auto s = step_service(id);
      s.units_per_replica = model::ComputeUnits{1};
      s.trace = steps({{100, 10.0F}, {100, 80.0F}, {100, 10.0F}});
      services.push_back(s);
    }
    const policy::Policy policies[] = {exact_policy()};
    auto c = compare(policies, services, inputs, options);
    REQUIRE(c);
    const auto& o = c->oracle;
    REQUIRE(o.result.services.size() == 2);
    const auto& ta = o.result.services[0].timeline;
    const auto& tb = o.result.services[1].timeline;
    REQUIRE(ta.size() == tb.size());
    int peak = 0;
    for (std::size_t k = 0; k < ta.size(); ++k) {
      CAPTURE(ta[k].t);
      const int units = ta[k].replicas.value + tb[k].replicas.value;
      CHECK(units <= 10);
      peak = std::max(peak, units);
    }
    CHECK(peak == 10);
    CHECK(o.total.requests_over_capacity == doctest::Approx(6000));
    CHECK(c->oracle_capacity_bound_seconds == 120);
    const auto table = format_table(*c);
    CAPTURE(table);
    CHECK(table.find("\noracle: capacity-bound; the services together need more than "
                     "--capacity-units 10 in 120 s, so it is cut to 10 there and even the oracle "
                     "leaves 6000 requests over capacity.\n") != std::string::npos);
    CHECK(summary_json(*c).find("\"oracle_capacity_bound_seconds\": 120,\n") != std::string::npos);
    CHECK(report_html(*c).find("even the oracle leaves 6000 requests over capacity") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::sim
