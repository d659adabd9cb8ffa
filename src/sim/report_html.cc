// report.html: one self-contained page (inline CSS and SVG, no script, no external resources),
// so it can be mailed, attached to a ticket or opened offline. Charts are drawn here, in C++,
// with min/max downsampling so that a week of seconds stays a small file and peaks survive.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "qfscale/policy/duration.h"
#include "qfscale/sim/report.h"

namespace qfscale::sim {
namespace {

// Plot area inside the SVG viewBox.
constexpr double kWidth = 1200;
constexpr double kHeight = 320;
constexpr double kLeft = 70;
constexpr double kRight = 20;
constexpr double kTop = 16;
constexpr double kBottom = 36;

constexpr std::string_view kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                         "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
constexpr std::string_view kDemandColor = "#7f7f7f";
constexpr std::string_view kOracleColor = "#222222";

struct Series {
  std::string name;  ///< data-series
  std::string label;
  std::string_view color;
  bool dashed = false;
  std::vector<ChartPoint> points;
};

/// A step function from a tick timeline: each value holds until the next tick, the last one
/// until `end`.
std::vector<ChartPoint> steps(const std::vector<TimelinePoint>& timeline, double end,
                              double (*value)(const TimelinePoint&)) {
  std::vector<ChartPoint> out;
  out.reserve(timeline.size() * 2 + 1);
  for (std::size_t i = 0; i < timeline.size(); ++i) {
    const auto x = static_cast<double>(timeline[i].t);
    if (i > 0) out.push_back({x, value(timeline[i - 1])});
    out.push_back({x, value(timeline[i])});
  }
  if (!timeline.empty()) out.push_back({end, value(timeline.back())});
  return out;
}

/// 1, 2 or 5 x 10^k: the smallest such step giving at most 5 intervals up to `max`.
double nice_step(double max) {
  if (!(max > 0)) return 1;
  const double raw = max / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

/// Seconds between time-axis labels: at most 8 intervals.
std::int64_t time_step(double end) {
  constexpr std::int64_t kSteps[] = {1,     2,     5,     10,    15,     30,     60,
                                     120,   300,   600,   900,   1800,   3600,   7200,
                                     10800, 21600, 43200, 86400, 172800, 604800, 2592000};
  for (auto s : kSteps) {
    if (end / static_cast<double>(s) <= 8) return s;
  }
  return kSteps[std::size(kSteps) - 1];
}

std::string number_label(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{:g}", v);
}

void append_chart(std::string& out, std::string_view kind, std::string_view title,
                  const model::ServiceId& service, double x_end, std::string_view y_label,
                  std::vector<Series> series) {
  double y_max = 0;
  for (auto& s : series) {
    s.points = downsample(s.points, kMaxChartPoints);
    for (const auto& p : s.points) y_max = std::max(y_max, p.y);
  }
  const double y_step = nice_step(y_max);
  const double y_top = std::max(y_step, std::ceil(y_max / y_step) * y_step);
  x_end = std::max(x_end, 1.0);
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + x / x_end * plot_w; };
  auto py = [&](double y) { return kTop + plot_h - y / y_top * plot_h; };

  const auto id = html_escape(service.value);
  out += fmt::format("<figure>\n<figcaption>{}</figcaption>\n", html_escape(title));
  out += fmt::format(
      "<svg class=\"chart\" data-chart=\"{}\" data-service=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n",
      kind, id, kWidth, kHeight);
  // Grid and y labels.
  out += "<g class=\"axis y\">\n";
  for (double y = 0; y <= y_top + y_step / 2; y += y_step) {
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
        kLeft, py(y), kWidth - kRight, py(y), kLeft - 6, py(y) + 4, number_label(y));
  }
  out += fmt::format(
      "<text x=\"14\" y=\"{:.1f}\" transform=\"rotate(-90 14 {:.1f})\" "
      "text-anchor=\"middle\">{}</text>\n</g>\n",
      kTop + plot_h / 2, kTop + plot_h / 2, html_escape(y_label));
  // Time axis.
  out += "<g class=\"axis x\">\n";
  const auto x_step = time_step(x_end);
  for (std::int64_t x = 0; static_cast<double>(x) <= x_end; x += x_step) {
    const double at = px(static_cast<double>(x));
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" class=\"tick\"/>"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        at, kTop + plot_h, kTop + plot_h + 5, kTop + plot_h + 18,
        policy::format_duration(std::chrono::seconds{x}));
  }
  out += fmt::format(
      "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"frame\"/>\n", kLeft,
      kTop + plot_h, kWidth - kRight, kTop + plot_h);
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">time</text>\n</g>\n",
                     kLeft + plot_w / 2, kHeight - 3);
  for (const auto& s : series) {
    out += fmt::format(
        "<polyline class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"1.5\"{} points=\"",
        html_escape(s.name), s.color, s.dashed ? " stroke-dasharray=\"6 3\"" : "");
    for (std::size_t i = 0; i < s.points.size(); ++i) {
      out +=
          fmt::format("{}{:.1f},{:.1f}", i == 0 ? "" : " ", px(s.points[i].x), py(s.points[i].y));
    }
    out += fmt::format("\"><title>{}</title></polyline>\n", html_escape(s.label));
  }
  out += "</svg>\n<ul class=\"legend\">";
  for (const auto& s : series) {
    out += fmt::format("<li><span class=\"swatch{}\" style=\"border-color:{}\"></span>{}</li>",
                       s.dashed ? " dashed" : "", s.color, html_escape(s.label));
  }
  out += "</ul>\n</figure>\n";
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

std::string report_html(const Comparison& c) {
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
      "tick {} · {}",
      files, in.replica_qps, in.resource_type, in.units_per_replica.value,
      in.units_per_replica.value == 1 ? "" : "s", policy::format_duration(in.startup_delay),
      policy::format_duration(in.tick), capacity);

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
      "capacity at that price. Demand is per second.</p>\n";

  for (std::size_t i = 0; i < c.services.size(); ++i) {
    const auto& svc = c.services[i];
    const double end = static_cast<double>(svc.trace->size());
    out += fmt::format("<section class=\"service\" data-service=\"{0}\">\n<h2>{0}</h2>\n",
                       html_escape(svc.id.value));
    std::vector<Series> capacity_series;
    capacity_series.push_back({"demand", "demand (QPS)", kDemandColor, false,
                               per_second_points<float>(svc.trace->per_second(), 1.0)});
    std::vector<Series> replica_series;
    for (std::size_t k = 0; k < c.policies.size(); ++k) {
      const auto& row = c.policies[k];
      const auto& tl = row.result.services[i].timeline;
      const auto color = kPalette[k % std::size(kPalette)];
      capacity_series.push_back(
          {row.result.policy, row.result.policy + " ready capacity", color, false,
           steps(tl, end, [](const TimelinePoint& p) { return p.ready_capacity; })});
      replica_series.push_back({row.result.policy, row.result.policy + " replicas", color, false,
                                steps(tl, end, [](const TimelinePoint& p) {
                                  return static_cast<double>(p.replicas.value);
                                })});
    }
    const auto& oracle_chart = c.oracle_charts[i];
    capacity_series.push_back(
        {"oracle", "oracle ready capacity", kOracleColor, true, oracle_chart.ready_capacity});
    replica_series.push_back({"oracle", "oracle replicas", kOracleColor, true, oracle_chart.on});
    append_chart(out, "capacity", "Demand vs ready capacity", svc.id, end, "QPS",
                 std::move(capacity_series));
    append_chart(out, "replicas", "Replicas (starting included)", svc.id, end, "replicas",
                 std::move(replica_series));
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
