#pragma once

// Inline SVG charts for report.html: a time chart (series over trace seconds, optional shaded
// bands and hover columns) and an x-y chart (cost versus attainment). No script: values on
// hover are SVG <title> elements, which browsers show as tooltips.

#include <string>
#include <string_view>
#include <vector>

#include "qfscale/sim/report.h"

namespace qfscale::sim::svg {

struct Series {
  std::string name;  ///< data-series
  std::string label;
  std::string_view color;
  bool dashed = false;
  std::vector<ChartPoint> points;
  bool markers = false;               ///< a dot on each point (x-y charts)
  std::vector<std::string> tooltips;  ///< per point, for markers (x-y charts); may be empty
};

/// A shaded x range, e.g. seconds in which requests turned late; `amount` goes in its tooltip.
struct Band {
  double from = 0;
  double to = 0;
  double amount = 0;
  friend bool operator==(const Band&, const Band&) = default;
};

struct TimeChart {
  std::string_view kind;        ///< data-chart
  std::string title;            ///< the figure caption
  std::string_view service;     ///< data-service (escaped here)
  std::string_view policy;      ///< data-policy when not empty
  double x_end = 1;             ///< seconds
  std::string_view y_label;     ///< e.g. "QPS"
  double height = 320;          ///< viewBox height; the width is fixed
  std::vector<Series> series;   ///< downsampled to kMaxChartPoints here
  std::vector<Band> bands;      ///< drawn under the series
  std::string_view band_label;  ///< tooltip noun for bands, e.g. "requests late"
  /// Transparent columns across the plot, each with a tooltip of every series' range in it
  /// (and the bands' amount): values on hover. 0 for none.
  int hover_columns = 0;
};

void append_time_chart(std::string& out, TimeChart chart);

struct XYChart {
  std::string_view kind;
  std::string title;
  std::string_view x_label;
  std::string_view y_label;
  double x_min = 0;
  double x_max = 1;
  std::vector<Series> series;  ///< drawn in x order as given; each point has a tooltip
  /// Vertical reference lines (e.g. the 99% target), with their label.
  std::vector<std::pair<double, std::string>> x_marks;
  /// Single points drawn as rings (e.g. each policy as written), with a tooltip.
  struct Ring {
    std::string name;  ///< data-series
    std::string_view color;
    ChartPoint at;
    std::string tooltip;
  };
  std::vector<Ring> rings;
};

void append_xy_chart(std::string& out, const XYChart& chart);

/// Merges bands that touch or lie closer than `min_gap` (amounts add up), so that a week of
/// ticks draws a few hundred rectangles at most. Input in x order.
[[nodiscard]] std::vector<Band> merge_bands(const std::vector<Band>& bands, double min_gap);

/// A step function from a tick timeline: each value holds until the next tick, the last one
/// until `end`.
[[nodiscard]] std::vector<ChartPoint> steps(const std::vector<TimelinePoint>& timeline, double end,
                                            double (*value)(const TimelinePoint&));

}  // namespace qfscale::sim::svg
