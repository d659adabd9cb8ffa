// Chart drawing for report.html (report_svg.h). Everything is laid out in a fixed-width viewBox
// that the page scales to its width.

#include "report_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "qfscale/policy/duration.h"

namespace qfscale::sim::svg {
namespace {

constexpr double kWidth = 1200;
constexpr double kLeft = 70;
constexpr double kRight = 20;
constexpr double kTop = 16;
constexpr double kBottom = 36;
constexpr std::string_view kBandColor = "#d62728";

/// 1, 2 or 5 x 10^k: the smallest such step giving at most 5 intervals up to `span`.
double nice_step(double span) {
  if (!(span > 0)) return 1;
  const double raw = span / 5;
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

std::string time_label(double seconds) {
  return policy::format_duration(std::chrono::seconds{static_cast<std::int64_t>(seconds)});
}

/// The plot rectangle of a chart `height` high, and the maps from data to it.
struct Frame {
  double height;
  double x_min;
  double x_max;
  double y_top;
  [[nodiscard]] double plot_w() const { return kWidth - kLeft - kRight; }
  [[nodiscard]] double plot_h() const { return height - kTop - kBottom; }
  [[nodiscard]] double px(double x) const {
    return kLeft + (x - x_min) / (x_max - x_min) * plot_w();
  }
  [[nodiscard]] double py(double y) const { return kTop + plot_h() - y / y_top * plot_h(); }
};

/// Opens the <svg>, draws the y grid with labels and the y axis title.
void open_svg(std::string& out, const Frame& f, std::string_view attributes, double y_step,
              std::string_view y_label) {
  out += fmt::format(
      "<svg class=\"chart\" {} viewBox=\"0 0 {} {}\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n<g class=\"axis y\">\n",
      attributes, kWidth, f.height);
  for (double y = 0; y <= f.y_top + y_step / 2; y += y_step) {
    out += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
        kLeft, f.py(y), kWidth - kRight, f.py(y), kLeft - 6, f.py(y) + 4, number_label(y));
  }
  const double mid = kTop + f.plot_h() / 2;
  out += fmt::format(
      "<text x=\"14\" y=\"{0:.1f}\" transform=\"rotate(-90 14 {0:.1f})\" "
      "text-anchor=\"middle\">{1}</text>\n</g>\n",
      mid, html_escape(y_label));
}

void append_x_axis(std::string& out, const Frame& f, double step, std::string_view title,
                   std::string (*label)(double)) {
  out += "<g class=\"axis x\">\n";
  const double bottom = kTop + f.plot_h();
  for (double x = f.x_min; x <= f.x_max + step / 1e6; x += step) {
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" class=\"tick\"/>"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        f.px(x), bottom, bottom + 5, bottom + 18, label(x));
  }
  out += fmt::format(
      "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"frame\"/>\n", kLeft,
      bottom, kWidth - kRight, bottom);
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n</g>\n",
                     kLeft + f.plot_w() / 2, f.height - 3, html_escape(title));
}

void append_polyline(std::string& out, const Frame& f, const Series& s) {
  out += fmt::format(
      "<polyline class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{}\" "
      "stroke-width=\"1.5\"{} points=\"",
      html_escape(s.name), s.color, s.dashed ? " stroke-dasharray=\"6 3\"" : "");
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    out +=
        fmt::format("{}{:.1f},{:.1f}", i == 0 ? "" : " ", f.px(s.points[i].x), f.py(s.points[i].y));
  }
  out += fmt::format("\"><title>{}</title></polyline>\n", html_escape(s.label));
}

void append_legend(std::string& out, const std::vector<Series>& series, bool bands,
                   std::string_view band_label) {
  out += "<ul class=\"legend\">";
  for (const auto& s : series) {
    out += fmt::format("<li><span class=\"swatch{}\" style=\"border-color:{}\"></span>{}</li>",
                       s.dashed ? " dashed" : "", s.color, html_escape(s.label));
  }
  if (bands) {
    out += fmt::format("<li><span class=\"band\"></span>{}</li>", html_escape(band_label));
  }
  out += "</ul>\n</figure>\n";
}

/// The lowest and highest y a series takes over [from, to): points inside, and the value in
/// force at `from` (the last point before it). `cursor` advances monotonically across calls.
std::pair<double, double> range_in(const std::vector<ChartPoint>& points, std::size_t& cursor,
                                   double from, double to) {
  while (cursor + 1 < points.size() && points[cursor + 1].x <= from) ++cursor;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (std::size_t i = cursor; i < points.size() && points[i].x < to; ++i) {
    lo = std::min(lo, points[i].y);
    hi = std::max(hi, points[i].y);
  }
  return {lo, hi};
}

std::string value_range(std::pair<double, double> r) {
  if (!std::isfinite(r.first)) return "-";
  if (r.first == r.second) return fmt::format("{:.4g}", r.first);
  return fmt::format("{:.4g} to {:.4g}", r.first, r.second);
}

void append_hover_columns(std::string& out, const Frame& f, const TimeChart& c) {
  const double width = (f.x_max - f.x_min) / c.hover_columns;
  std::vector<std::size_t> cursors(c.series.size(), 0);
  std::size_t band = 0;
  out += "<g class=\"hover\">\n";
  for (int k = 0; k < c.hover_columns; ++k) {
    const double from = f.x_min + k * width;
    const double to = from + width;
    std::string tip = fmt::format("{} to {}", time_label(from), time_label(to));
    for (std::size_t i = 0; i < c.series.size(); ++i) {
      tip += fmt::format("\n{}: {}", c.series[i].label,
                         value_range(range_in(c.series[i].points, cursors[i], from, to)));
    }
    double amount = 0;
    while (band < c.bands.size() && c.bands[band].to <= from) ++band;
    for (std::size_t b = band; b < c.bands.size() && c.bands[b].from < to; ++b) {
      // A band's amount is spread evenly over its length.
      const double overlap = std::min(to, c.bands[b].to) - std::max(from, c.bands[b].from);
      const double length = c.bands[b].to - c.bands[b].from;
      if (overlap > 0 && length > 0) amount += c.bands[b].amount * overlap / length;
    }
    if (!c.bands.empty()) tip += fmt::format("\n{}: {:.0f}", c.band_label, amount);
    out += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"transparent\"><title>{}</title></rect>\n",
        f.px(from), kTop, f.px(to) - f.px(from), f.plot_h(), html_escape(tip));
  }
  out += "</g>\n";
}

}  // namespace

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

std::vector<Band> merge_bands(const std::vector<Band>& bands, double min_gap) {
  std::vector<Band> out;
  for (const auto& b : bands) {
    if (!out.empty() && b.from - out.back().to <= min_gap) {
      out.back().to = std::max(out.back().to, b.to);
      out.back().amount += b.amount;
    } else {
      out.push_back(b);
    }
  }
  return out;
}

void append_time_chart(std::string& out, TimeChart c) {
  double y_max = 0;
  for (auto& s : c.series) {
    s.points = downsample(s.points, kMaxChartPoints);
    for (const auto& p : s.points) y_max = std::max(y_max, p.y);
  }
  const double y_step = nice_step(y_max);
  const Frame f{.height = c.height,
                .x_min = 0,
                .x_max = std::max(c.x_end, 1.0),
                .y_top = std::max(y_step, std::ceil(y_max / y_step) * y_step)};
  c.bands = merge_bands(c.bands, f.x_max / 600);

  out += fmt::format("<figure>\n<figcaption>{}</figcaption>\n", html_escape(c.title));
  auto attributes =
      fmt::format("data-chart=\"{}\" data-service=\"{}\"", c.kind, html_escape(c.service));
  if (!c.policy.empty()) attributes += fmt::format(" data-policy=\"{}\"", html_escape(c.policy));
  open_svg(out, f, attributes, y_step, c.y_label);
  for (const auto& b : c.bands) {
    out += fmt::format(
        "<rect class=\"band\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"{}\" fill-opacity=\"0.18\"><title>{:.0f} {} from {} to {}</title></rect>\n",
        f.px(b.from), kTop, std::max(1.0, f.px(b.to) - f.px(b.from)), f.plot_h(), kBandColor,
        b.amount, html_escape(c.band_label), time_label(b.from), time_label(b.to));
  }
  append_x_axis(out, f, static_cast<double>(time_step(f.x_max)), "time", time_label);
  for (const auto& s : c.series) append_polyline(out, f, s);
  if (c.hover_columns > 0) append_hover_columns(out, f, c);
  out += "</svg>\n";
  append_legend(out, c.series, !c.bands.empty(), c.band_label);
}

void append_xy_chart(std::string& out, const XYChart& c) {
  double y_max = 0;
  for (const auto& s : c.series) {
    for (const auto& p : s.points) y_max = std::max(y_max, p.y);
  }
  const double y_step = nice_step(y_max);
  const Frame f{.height = 360,
                .x_min = c.x_min,
                .x_max = c.x_max > c.x_min ? c.x_max : c.x_min + 1,
                .y_top = std::max(y_step, std::ceil(y_max / y_step) * y_step)};
  out += fmt::format("<figure>\n<figcaption>{}</figcaption>\n", html_escape(c.title));
  open_svg(out, f, fmt::format("data-chart=\"{}\"", c.kind), y_step, c.y_label);
  append_x_axis(out, f, nice_step(f.x_max - f.x_min), c.x_label,
                [](double x) { return fmt::format("{:g}", std::round(x * 1000) / 1000); });
  for (std::size_t i = 0; i < c.x_marks.size(); ++i) {
    const auto& [x, label] = c.x_marks[i];
    // Labels right of their line, staggered in height so that close marks (99%, 99.9%) stay
    // readable; a mark near the right edge is labelled on its left.
    const bool left = f.px(x) > kWidth - kRight - 60;
    out += fmt::format(
        "<line class=\"mark\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
        "stroke=\"#999\" stroke-dasharray=\"2 3\"/><text x=\"{3:.1f}\" "
        "y=\"{4:.1f}\"{5}>{6}</text>\n",
        f.px(x), kTop, kTop + f.plot_h(), f.px(x) + (left ? -4 : 4),
        kTop + 12 + 14 * static_cast<double>(i % 2), left ? " text-anchor=\"end\"" : "",
        html_escape(label));
  }
  for (const auto& s : c.series) {
    append_polyline(out, f, s);
    if (!s.markers) continue;
    for (std::size_t i = 0; i < s.points.size(); ++i) {
      out += fmt::format(
          "<circle class=\"point\" data-series=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" "
          "fill=\"{}\"><title>{}</title></circle>\n",
          html_escape(s.name), f.px(s.points[i].x), f.py(s.points[i].y), s.color,
          html_escape(i < s.tooltips.size() ? s.tooltips[i] : s.label));
    }
  }
  for (const auto& r : c.rings) {
    out += fmt::format(
        "<circle class=\"ring\" data-series=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"7\" "
        "fill=\"none\" "
        "stroke=\"{}\" stroke-width=\"2\"><title>{}</title></circle>\n",
        html_escape(r.name), f.px(r.at.x), f.py(r.at.y), r.color, html_escape(r.tooltip));
  }
  out += "</svg>\n";
  append_legend(out, c.series, false, {});
}

}  // namespace qfscale::sim::svg
