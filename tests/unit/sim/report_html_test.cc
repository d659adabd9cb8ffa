#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/sim/report.h"

#include "unit/sim/sim_fixtures.h"

namespace qfscale::sim {
namespace {

using test::exact_policy;
using test::step_inputs;
using test::step_options;
using test::step_service;
using test::steps;

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// The `points` attribute of the first polyline with data-series="NAME" after `from`.
std::string points_of(std::string_view html, std::string_view series, std::size_t from = 0) {
  const auto tag = html.find(fmt::format("data-series=\"{}\"", series), from);
  REQUIRE(tag != std::string_view::npos);
  const auto start = html.find("points=\"", tag) + 8;
  return std::string(html.substr(start, html.find('"', start) - start));
}

std::vector<ChartPoint> ramp(std::size_t n) {
  std::vector<ChartPoint> v;
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back({static_cast<double>(i), static_cast<double>(i % 7)});
  }
  return v;
}

TEST_SUITE("sim") {
  TEST_CASE("report html: a capacity chart per policy and a replicas chart per service") {
    const policy::Policy policies[] = {exact_policy("balanced"), exact_policy("cheap")};
    auto flat = step_service("svc-flat");
    flat.trace = steps({{200, 5.0F}});
    const ServiceSpec services[] = {step_service(), flat};
    auto c = compare(policies, services, step_inputs({"step.csv", "flat.csv"}), step_options());
    REQUIRE(c);
    const auto html = report_html(*c);
    CHECK(html.starts_with("<!DOCTYPE html>"));
    CHECK(html.ends_with("</html>\n"));
    CHECK(count(html, "<svg class=\"chart\"") == 6);  // per service: 2 policies + replicas
    CHECK(count(html, "data-chart=\"capacity\" data-service=\"svc-step\"") == 2);
    CHECK(count(html, "data-chart=\"capacity\" data-service=\"svc-step\" data-policy=\"cheap\"") ==
          1);
    CHECK(count(html, "data-chart=\"replicas\" data-service=\"svc-flat\"") == 1);
    // Per service: each policy in its capacity chart and the replicas chart; the oracle and demand
    // in every capacity chart, the oracle also in the replicas chart.
    CHECK(count(html, "class=\"series\" data-series=\"balanced\"") == 4);
    CHECK(count(html, "class=\"series\" data-series=\"cheap\"") == 4);
    CHECK(count(html, "class=\"series\" data-series=\"oracle\"") == 6);
    CHECK(count(html, "class=\"series\" data-series=\"demand\"") == 4);
    // Legends, the summary table with both policies and the oracle, and a per-service table.
    CHECK(count(html, "<ul class=\"legend\">") == 6);
    CHECK(count(html, "<table class=\"summary\">") == 1);
    CHECK(count(html, "<table class=\"per-service\">") == 1);
    CHECK(html.find("<th scope=\"row\">cheap</th>") != std::string::npos);
    CHECK(html.find("<tr class=\"oracle\"><th scope=\"row\">oracle</th>") != std::string::npos);
    // The floor column: a percentage per policy, "-" for the oracle (it does not tick).
    CHECK(count(html, ">floor at this cost</th>") == 2);
    // SLO attainment and the p99 wait first: the oracle serves every second in that second.
    CHECK(count(html, ">SLO attainment</th><th>wait p99</th>") == 2);
    CHECK(html.find("oracle</th><td>100.000%</td><td>0 s</td><td>0</td><td>0.00%</td><td>-</td>") !=
          std::string::npos);
    // Self-contained: no scripts, no fetched resources (the SVG namespace is an identifier).
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("href=") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(count(html, "http") == count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  }

  TEST_CASE("report html: a sweep adds the cost-versus-attainment chart") {
    const policy::Policy policies[] = {exact_policy("balanced"), exact_policy("cheap")};
    const ServiceSpec services[] = {step_service()};
    auto c = compare(policies, services, step_inputs(), step_options());
    REQUIRE(c);
    CHECK(report_html(*c).find("data-chart=\"cost-attainment\"") == std::string::npos);
    // Two curves of three points; one point at 42% is below the axis floor of 90%.
    const Curve curves[] = {
        {.policy = "balanced",
         .field = "target.utilization",
         .points = {{.value = 0.5, .slo_attainment_pct = 100, .compute_unit_hours = 20},
                    {.value = 0.7, .slo_attainment_pct = 99.5, .compute_unit_hours = 15},
                    {.value = 0.9, .slo_attainment_pct = 42, .compute_unit_hours = 11}}},
        {.policy = "cheap",
         .field = "target.utilization",
         .points = {{.value = 0.5, .slo_attainment_pct = 99.95, .compute_unit_hours = 18},
                    {.value = 0.7, .slo_attainment_pct = 99.2, .compute_unit_hours = 14},
                    {.value = 0.9, .slo_attainment_pct = 95, .compute_unit_hours = 12}}}};
    const auto html = report_html(*c, curves);
    CHECK(count(html, "data-chart=\"cost-attainment\"") == 1);
    CHECK(count(html, "<circle class=\"point\" data-series=\"balanced\"") == 2);
    CHECK(count(html, "<circle class=\"point\" data-series=\"cheap\"") == 3);
    CHECK(html.find("; 1 point below 90% not shown") != std::string::npos);
    CHECK(
        html.find("<title>cheap target.utilization=0.7: 99.200% attainment, 14.00 CU-h</title>") !=
        std::string::npos);
    // Rings: both policies as written (where on the axis) and the oracle at 100%.
    CHECK(count(html, "<circle class=\"ring\" data-series=\"oracle\"") == 1);
    const auto rings = count(html, "<circle class=\"ring\"");
    CHECK(rings == 1 + static_cast<std::size_t>(std::count_if(
                           c->policies.begin(), c->policies.end(), [](const PolicyRow& row) {
                             return row.total.queue.attainment_pct() >= 90;
                           })));
    // The 99% and 99.9% marks; the x axis spans 90..100 (the lowest shown point is 95).
    CHECK(html.find(">99.9%</text>") != std::string::npos);
    CHECK(html.find(">90</text>") != std::string::npos);
    CHECK(html.find(">100</text>") != std::string::npos);
  }

  TEST_CASE("report html: the demand series reaches the chart's top at the peak") {
    // The step trace peaks at 30 QPS: the y axis steps are 1/2/5 x 10^k for at most 5 intervals up
    // to 30 -> 10, top 30. A capacity chart is 200 high: the plot spans y = 16 (top) to 200 - 36 =
    // 164 (zero).
    const policy::Policy policies[] = {exact_policy()};
    const ServiceSpec services[] = {step_service()};
    auto c = compare(policies, services, step_inputs(), step_options());
    REQUIRE(c);
    const auto html = report_html(*c);
    const auto demand = points_of(html, "demand");
    CHECK(demand.find(",16.0") != std::string::npos);     // 30 QPS at the top
    CHECK(demand.find(",114.7") != std::string::npos);    // 10 QPS: 164 - 148 x 10 / 30
    CHECK(html.find(">30</text>") != std::string::npos);  // the top tick label
    CHECK(html.find(">5m</text>") != std::string::npos);  // time labels at 0s, 1m, … 5m
  }

  TEST_CASE("report html: late requests are shaded, and every chart has values on hover") {
    // The step trace under `exact` leaves 3,920 of 5,000 requests late (simulator_test.cc, the
    // same schedule): from the ramp at 100 s on. The bands' tooltips must add up to that count.
    const policy::Policy policies[] = {exact_policy()};
    const ServiceSpec services[] = {step_service()};
    auto c = compare(policies, services, step_inputs(), step_options());
    REQUIRE(c);
    const double late = c->policies[0].total.queue.late;
    REQUIRE(late == 3920);
    const auto html = report_html(*c);
    CHECK(html.find("exact: demand vs ready capacity (3920 late)") != std::string::npos);
    double shaded = 0;
    std::size_t bands = 0;
    const std::string_view band = "<rect class=\"band\"";
    for (auto at = html.find(band); at != std::string::npos; at = html.find(band, at + 1)) {
      const auto title = html.find("<title>", at) + 7;
      shaded += std::stod(html.substr(title, html.find(' ', title) - title));
      ++bands;
    }
    CHECK(bands >= 1);
    CHECK(shaded == doctest::Approx(late).epsilon(1e-9));
    // The first band starts where lateness starts: the tick at 100 s (the ramp; none before).
    CHECK(html.find("requests late from 1m40s to") != std::string::npos);
    // Hover: 120 columns per chart, each a tooltip with the series' values in it.
    CHECK(count(html, "<g class=\"hover\">") == 2);
    CHECK(count(html, "fill=\"transparent\"><title>") == 240);
    CHECK(html.find("demand (QPS): 30</title>") == std::string::npos);  // not the last line
    CHECK(html.find("\ndemand (QPS): 30\nexact ready capacity: ") != std::string::npos);
  }

  TEST_CASE("report html: hostile trace names and service ids are escaped everywhere") {
    const std::string hostile = "<script>alert(\"x\")</script>&'";
    const policy::Policy policies[] = {exact_policy()};
    const ServiceSpec services[] = {step_service(hostile)};
    auto c = compare(policies, services, step_inputs({hostile + ".csv"}), step_options());
    REQUIRE(c);
    const auto html = report_html(*c);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("alert(\"x\")") == std::string::npos);
    const std::string escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;";
    CHECK(count(html, "data-service=\"" + escaped + "\"") == 3);  // section and two charts
    CHECK(html.find("<h2>" + escaped + "</h2>") != std::string::npos);
    CHECK(html.find(escaped + ".csv") != std::string::npos);  // title and inputs line
    // The JSON and CSV stay well-formed too.
    CHECK(summary_json(*c).find(R"("<script>alert(\"x\")</script>&'")") != std::string::npos);
    CHECK(timeline_csv(*c).find("\nexact,\"<script>alert(\"\"x\"\")</script>&'\",10,") !=
          std::string::npos);
  }

  TEST_CASE("report html: html_escape") {
    CHECK(html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
    CHECK(html_escape("plain-name_1") == "plain-name_1");
    CHECK(html_escape("") == "");
  }

  TEST_CASE("downsample: at, below and above the limit") {
    struct Case {
      std::string_view name;
      std::size_t n;
      bool unchanged;
    };
    const Case cases[] = {
        {.name = "below", .n = 1499, .unchanged = true},
        {.name = "at", .n = 1500, .unchanged = true},
        {.name = "above", .n = 1501, .unchanged = false},
        {.name = "a week of seconds", .n = 604800, .unchanged = false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto in = ramp(c.n);
      const auto out = downsample(in, kMaxChartPoints);
      CHECK(out.size() <= kMaxChartPoints);
      CHECK((out == in) == c.unchanged);
      CHECK(out.front() == in.front());
      CHECK(out.back() == in.back());
      CHECK(std::is_sorted(out.begin(), out.end(),
                           [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; }));
    }
  }

  TEST_CASE("downsample: a one-second peak and a one-second dip in a week survive") {
    std::vector<ChartPoint> in;
    for (std::size_t s = 0; s < 604800; ++s) in.push_back({static_cast<double>(s), 100.0});
    in[400000].y = 5000;  // one second of burst
    in[123457].y = 0;     // one second of silence
    const auto out = downsample(in, kMaxChartPoints);
    CHECK(out.size() <= kMaxChartPoints);
    const auto [lo, hi] = std::minmax_element(
        out.begin(), out.end(), [](const ChartPoint& a, const ChartPoint& b) { return a.y < b.y; });
    CHECK(*hi == ChartPoint{400000, 5000});
    CHECK(*lo == ChartPoint{123457, 0});
  }
}

}  // namespace
}  // namespace qfscale::sim
