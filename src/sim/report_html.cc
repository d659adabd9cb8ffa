// report.html: one self-contained page (inline CSS and SVG, no script, no external resources),
// so it can be mailed, attached to a ticket or opened offline. Charts are drawn in C++
// (report_svg.h) with min/max downsampling so that a week of seconds stays a small file and
// peaks survive; values show on hover as SVG tooltips.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "qfscale/policy/duration.h"
#include "qfscale/sim/report.h"

#include "report_svg.h"

namespace qfscale::sim {
namespace {

constexpr std::string_view kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                         "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
constexpr std::string_view kDemandColor = "#7f7f7f";
constexpr std::string_view kOracleColor = "#222222";
/// Columns of hover tooltips per time chart: one per ~10 px of the 1,200-unit width.
constexpr int kHoverColumns = 120;

using svg::Series;

/// The late requests of a policy's timeline as bands: each tick's point covers the seconds up to
/// the next tick (the last one up to `end`).
std::vector<svg::Band> late_bands(const std::vector<TimelinePoint>& timeline, double end) {
  std::vector<svg::Band> out;
  for (std::size_t i = 0; i < timeline.size(); ++i) {
    if (!(timeline[i].late > 0)) continue;
    const double to = i + 1 < timeline.size() ? static_cast<double>(timeline[i + 1].t) : end;
    out.push_back({static_cast<double>(timeline[i].t), to, timeline[i].late});
  }
  return out;
}

/// Attainments below this are left off the cost-versus-attainment axis: the choice is made
/// between 99% and 100%, and a point at 40% would squeeze that range into a few pixels.
constexpr double kCurveAxisFloor = 90;

/// The cost-versus-attainment chart of a sweep: one curve per policy (a dot per swept value),
/// a ring at each policy as written, the oracle's point, marks at 99% and 99.9%.
void append_cost_curves(std::string& out, const Comparison& c, std::span<const Curve> curves) {
  double lowest = 100;
  for (const auto& curve : curves) {
    for (const auto& p : curve.points) lowest = std::min(lowest, p.slo_attainment_pct);
  }
  for (const auto& row : c.policies) lowest = std::min(lowest, row.total.queue.attainment_pct());
  const double x_min = std::max(kCurveAxisFloor, std::floor(lowest));
  std::size_t left_off = 0;
  svg::XYChart chart{.kind = "cost-attainment",
                     .title = "",
                     .x_label = "SLO attainment (%)",
                     .y_label = "compute-unit-hours",
                     .x_min = x_min,
                     .x_max = 100,
                     .series = {},
                     .x_marks = {{99.0, "99%"}, {99.9, "99.9%"}},
                     .rings = {}};
  for (std::size_t k = 0; k < curves.size(); ++k) {
    const auto& curve = curves[k];
    const auto color = kPalette[k % std::size(kPalette)];
    Series s{.name = curve.policy,
             .label = fmt::format("{} over {}", curve.policy, curve.field),
             .color = color,
             .markers = true};
    for (const auto& p : curve.points) {
      if (p.slo_attainment_pct < x_min) {
        ++left_off;
        continue;
      }
      s.points.push_back({p.slo_attainment_pct, p.compute_unit_hours});
      s.tooltips.push_back(fmt::format("{} {}={}: {} attainment, {:.2f} CU-h", curve.policy,
                                       curve.field, p.value, attainment_text(p.slo_attainment_pct),
                                       p.compute_unit_hours));
    }
    chart.series.push_back(std::move(s));
  }
  for (std::size_t k = 0; k < c.policies.size(); ++k) {
    const auto& row = c.policies[k];
    const double a = row.total.queue.attainment_pct();
    if (a < x_min) continue;
    chart.rings.push_back(
        {.name = row.result.policy,
         .color = kPalette[k % std::size(kPalette)],
         .at = {a, row.total.compute_unit_hours},
         .tooltip = fmt::format("{} as written: {} attainment, {:.2f} CU-h", row.result.policy,
                                attainment_text(a), row.total.compute_unit_hours)});
  }
  const double oracle_attainment = c.oracle.total.queue.attainment_pct();
  chart.rings.push_back({.name = "oracle",
                         .color = kOracleColor,
                         .at = {oracle_attainment, c.oracle.total.compute_unit_hours},
                         .tooltip = fmt::format("oracle: {} attainment, {:.2f} CU-h",
                                                attainment_text(oracle_attainment),
                                                c.oracle.total.compute_unit_hours)});
  chart.title = fmt::format(
      "Cost versus SLO attainment over the sweep (rings: each policy as written, and the "
      "oracle){}",
      left_off > 0 ? fmt::format("; {} point{} below {:g}% not shown", left_off,
                                 left_off == 1 ? "" : "s", x_min)
                   : "");
  out += "<h2>Cost versus service level</h2>\n";
  svg::append_xy_chart(out, chart);
}

std::string fixed(double v, int decimals) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, decimals) : "inf";
}

void append_table_row(std::string& out, std::string_view name, const Summary& s, double ratio,
                      double floor, bool oracle) {
  const std::string floor_pct = !std::isfinite(floor) ? "-"
                                : s.requests_total > 0
                                    ? fixed(100.0 * floor / s.requests_total, 2) + "%"
                                    : "0.00%";
  out += fmt::format(
      "<tr{}><th scope=\"row\">{}</th><td>{}</td><td>{} s</td><td>{}</td><td>{}%</td><td>{}</td>"
      "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
      "</tr>\n",
      oracle ? " class=\"oracle\"" : "", html_escape(name),
      attainment_text(s.queue.attainment_pct()), s.queue.wait_percentile(0.99),
      fixed(s.requests_over_capacity, 0), fixed(s.requests_over_capacity_pct, 2), floor_pct,
      s.seconds_over_capacity, fixed(s.compute_unit_hours, 2), ratio_text(ratio),
      s.scale_operations, s.max_replicas, fixed(s.mean_replicas, 2), fixed(s.utilization_p50, 2),
      fixed(s.utilization_p99, 2));
}

constexpr std::string_view kTableHead =
    "<thead><tr><th>{}</th>"
    "<th title=\"share of requests served within the SLO wait (late: waited longer or "
    "abandoned)\">SLO attainment</th><th>wait p99</th>"
    "<th title=\"per second, without a queue\">requests over capacity</th><th>% of requests</th>"
    "<th title=\"the fewest any controller with the same ticks could leave at this cost, even "
    "knowing the future\">floor at this cost</th><th>seconds "
    "over</th><th>compute-unit-hours</th><th>cost / oracle</th>"
    "<th>scale operations</th><th>max replicas</th><th>mean replicas</th>"
    "<th>utilization p50</th><th>utilization p99</th></tr></thead>\n";

constexpr std::string_view kStyle = R"(<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;max-width:1240px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
p.inputs{color:#444;margin:0 0 8px}p.note{color:#555;font-size:13px;max-width:900px}
figure{margin:8px 0 20px}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{width:100%;height:auto;background:#fff;border:1px solid #e5e5e5}
svg.chart text{font-size:12px;fill:#444}svg.chart line.grid{stroke:#eee}
svg.chart line.tick,svg.chart line.frame{stroke:#999}
ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:16px;font-size:13px}
ul.legend .swatch{display:inline-block;width:22px;height:0;border-top:3px solid;margin-right:6px;vertical-align:middle}
ul.legend .swatch.dashed{border-top-style:dashed}
ul.legend .band{display:inline-block;width:14px;height:12px;background:rgba(214,39,40,.18);margin-right:6px;vertical-align:middle}
svg.chart .hover rect:hover{fill:rgba(0,0,0,.06)}
table{border-collapse:collapse;font-size:13px;margin:8px 0 20px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}thead th{background:#f5f5f5}
th[scope=row]{text-align:left}tr.oracle{background:#f8f8f8;font-style:italic}
</style>
)";

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::vector<ChartPoint> downsample(std::span<const ChartPoint> points, std::size_t max_points) {
  max_points = std::max<std::size_t>(max_points, 4);
  if (points.size() <= max_points) return {points.begin(), points.end()};
  // The first and last points keep the line spanning the whole axis; the rest are buckets.
  const std::size_t buckets = (max_points - 2) / 2;
  const double x0 = points.front().x;
  const double span = std::max(points.back().x - x0, 1e-300);
  std::vector<ChartPoint> out;
  out.reserve(max_points);
  out.push_back(points.front());
  std::size_t i = 1;
  const std::size_t last = points.size() - 1;
  while (i < last) {
    const auto bucket = std::min(
        buckets - 1,
        static_cast<std::size_t>((points[i].x - x0) / span * static_cast<double>(buckets)));
    std::size_t lo = i;
    std::size_t hi = i;
    std::size_t j = i + 1;
    for (; j < last; ++j) {
      const auto b = std::min(buckets - 1, static_cast<std::size_t>((points[j].x - x0) / span *
                                                                    static_cast<double>(buckets)));
      if (b != bucket) break;
      if (points[j].y < points[lo].y) lo = j;
      if (points[j].y > points[hi].y) hi = j;
    }
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
    i = j;
  }
  out.push_back(points.back());
  return out;
}

std::string report_html(const Comparison& c, std::span<const Curve> curves) {
  const auto& in = c.inputs;
  std::string files;
  for (std::size_t i = 0; i < c.services.size(); ++i) {
    if (i > 0) files += ", ";
    files += fmt::format(
        "{} ({}, {})", i < in.trace_files.size() ? in.trace_files[i] : c.services[i].id.value,
        c.services[i].id.value, policy::format_duration(c.services[i].trace->duration()));
  }
  const auto capacity = in.capacity_units
                            ? fmt::format("{} compute units shared", in.capacity_units->value)
                            : std::string("unlimited capacity");
  const auto inputs = fmt::format(
      "traces {} · replica QPS {} · type {} ({} unit{} per replica) · startup delay {} · "
      "tick {}{} · {}",
      files, in.replica_qps, in.resource_type, in.units_per_replica.value,
      in.units_per_replica.value == 1 ? "" : "s", policy::format_duration(in.startup_delay),
      policy::format_duration(in.tick),
      in.metric_span.count() > 0 && in.metric_span != in.tick
          ? " · metric span " + policy::format_duration(in.metric_span)
          : std::string(),
      capacity);

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += fmt::format("<title>qfscale simulate: {}</title>\n", html_escape(inputs));
  out += kStyle;
  out += "</head>\n<body>\n<h1>qfscale simulate</h1>\n";
  out += fmt::format("<p class=\"inputs\">{}</p>\n", html_escape(inputs));
  out +=
      "<p class=\"note\">Each policy ran on a virtual clock through the controller's engine and "
      "allocator. Ready capacity is ready replicas &times; replica QPS after each tick; a new "
      "replica costs compute units from its start but serves only after the startup delay. The "
      "oracle is the cheapest schedule that serves every request knowing the future, under the "
      "same startup delay: the lower bound on cost. The floor at a policy's cost is the "
      "fewest requests over capacity that any controller acting at the same ticks could have "
      "left while spending as much, even knowing the future: the lower bound on requests over "
      "capacity at that price. Demand is per second. Shaded: seconds in which requests turned "
      "late (served after the SLO wait, or abandoned). Hover over a chart for the values.</p>\n";
  if (!curves.empty()) append_cost_curves(out, c, curves);

  for (std::size_t i = 0; i < c.services.size(); ++i) {
    const auto& svc = c.services[i];
    const double end = static_cast<double>(svc.trace->size());
    out += fmt::format("<section class=\"service\" data-service=\"{0}\">\n<h2>{0}</h2>\n",
                       html_escape(svc.id.value));
    const Series demand{
        "demand", "demand (QPS)", kDemandColor, false,
        downsample(per_second_points<float>(svc.trace->per_second(), 1.0), kMaxChartPoints)};
    const auto& oracle_chart = c.oracle_charts[i];
    const Series oracle_capacity{"oracle", "oracle ready capacity", kOracleColor, true,
                                 oracle_chart.ready_capacity};
    // One small chart per policy: its capacity against demand and the oracle, late requests
    // shaded, so that where a policy falls short is visible without untangling seven lines.
    std::vector<Series> replica_series;
    for (std::size_t k = 0; k < c.policies.size(); ++k) {
      const auto& row = c.policies[k];
      const auto& tl = row.result.services[i].timeline;
      const auto color = kPalette[k % std::size(kPalette)];
      svg::append_time_chart(
          out,
          {.kind = "capacity",
           .title = fmt::format("{}: demand vs ready capacity ({} late)", row.result.policy,
                                fmt::format("{:.0f}", row.result.services[i].summary.queue.late)),
           .service = svc.id.value,
           .policy = row.result.policy,
           .x_end = end,
           .y_label = "QPS",
           .height = 200,
           .series = {demand,
                      {row.result.policy, row.result.policy + " ready capacity", color, false,
                       svg::steps(tl, end,
                                  [](const TimelinePoint& p) { return p.ready_capacity; })},
                      oracle_capacity},
           .bands = late_bands(tl, end),
           .band_label = "requests late",
           .hover_columns = kHoverColumns});
      replica_series.push_back({row.result.policy, row.result.policy + " replicas", color, false,
                                svg::steps(tl, end, [](const TimelinePoint& p) {
                                  return static_cast<double>(p.replicas.value);
                                })});
    }
    replica_series.push_back({"oracle", "oracle replicas", kOracleColor, true, oracle_chart.on});
    svg::append_time_chart(out, {.kind = "replicas",
                                 .title = "Replicas (starting included)",
                                 .service = svc.id.value,
                                 .x_end = end,
                                 .y_label = "replicas",
                                 .series = std::move(replica_series),
                                 .hover_columns = kHoverColumns});
    out += "</section>\n";
  }

  out += "<h2>Summary</h2>\n<table class=\"summary\">\n";
  out += fmt::format(fmt::runtime(kTableHead), "policy");
  out += "<tbody>\n";
  for (const auto& row : c.policies) {
    append_table_row(out, row.result.policy, row.total, row.cost_ratio_to_oracle,
                     row.over_capacity_floor, false);
  }
  append_table_row(out, "oracle", c.oracle.total, 1.0, c.oracle.over_capacity_floor, true);
  out += "</tbody>\n</table>\n";
  for (const auto& line : table_legend(c)) {
    out += "<p class=\"note legend\">" + html_escape(line) + "</p>\n";
  }
  if (c.services.size() > 1) {
    out += "<h2>Per service</h2>\n<table class=\"per-service\">\n";
    out += fmt::format(fmt::runtime(kTableHead), "policy / service");
    out += "<tbody>\n";
    std::vector<const PolicyRow*> rows;
    for (const auto& row : c.policies) rows.push_back(&row);
    rows.push_back(&c.oracle);
    for (const auto* row : rows) {
      for (std::size_t i = 0; i < row->result.services.size(); ++i) {
        const auto& s = row->result.services[i];
        append_table_row(out, row->result.policy + " / " + s.id.value, s.summary,
                         row->service_cost_ratios[i], row->service_over_capacity_floors[i],
                         row == &c.oracle);
      }
    }
    out += "</tbody>\n</table>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace qfscale::sim
