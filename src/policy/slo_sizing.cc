#include "qfscale/policy/slo_sizing.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace qfscale::policy {

double slo_capacity(double level, double variance, const SloTarget& slo) {
  const double l = std::max(level, 0.0);
  const double v = std::max(variance, 0.0);
  const double w = static_cast<double>(slo.wait.count());
  const double log_odds = std::log(1 / (1 - slo.attainment));
  return (l + std::sqrt(l * l + 2 * v * log_odds / w)) / 2;
}

std::optional<LineFit> fit_line(const std::vector<QpsSample>& samples, util::SystemTime now,
                                std::chrono::seconds window) {
  const util::SystemTime cutoff = now - window;
  // Newest first; times relative to now keep the sums small.
  auto in_window = [&](auto it) { return it != samples.rend() && it->at > cutoff; };
  auto x_of = [&](const QpsSample& s) { return std::chrono::duration<double>(s.at - now).count(); };
  double n = 0, sum_x = 0, sum_y = 0, oldest = 0, newest = 0;
  for (auto it = samples.rbegin(); in_window(it); ++it) {
    if (n == 0) newest = x_of(*it);
    oldest = x_of(*it);
    n += 1;
    sum_x += x_of(*it);
    sum_y += it->qps;
  }
  if (n < 3) return std::nullopt;
  LineFit fit;
  fit.samples = static_cast<int>(n);
  fit.mean_x = sum_x / n;
  fit.mean_y = sum_y / n;
  double sxx = 0, sxy = 0;
  for (auto it = samples.rbegin(); in_window(it); ++it) {
    sxx += (x_of(*it) - fit.mean_x) * (x_of(*it) - fit.mean_x);
    sxy += (x_of(*it) - fit.mean_x) * (it->qps - fit.mean_y);
  }
  if (!(sxx > 0)) return std::nullopt;
  fit.slope = sxy / sxx;
  fit.sxx = sxx;
  double residuals = 0;
  for (auto it = samples.rbegin(); in_window(it); ++it) {
    const double r = it->qps - fit.at(x_of(*it));
    residuals += r * r;
  }
  fit.residual_variance = residuals / (n - 2);
  fit.slope_standard_error = std::sqrt(fit.residual_variance / sxx);
  fit.spacing = (newest - oldest) / (n - 1);
  return fit;
}

double sample_seconds(const std::optional<LineFit>& fit, std::chrono::seconds sample_span) {
  if (sample_span.count() > 0) return static_cast<double>(sample_span.count());
  return fit ? fit->spacing : 1.0;
}

double per_second_variance(const std::optional<LineFit>& fit, double level, double span_seconds) {
  const double poisson = std::max(level, 0.0);
  if (!fit) return poisson;
  return std::max(poisson, span_seconds * fit->residual_variance);
}

}  // namespace qfscale::policy

namespace qfscale::policy {

double normal_quantile(double p) {
  // Newton's method on the standard normal CDF from z = 0: the CDF is concave above 0, so for
  // p >= 0.5 the iterates rise monotonically to the root; 0.9999 (z = 3.719) takes 8 steps.
  if (!(p > 0.5)) return p == 0.5 ? 0 : -normal_quantile(1 - p);
  double z = 0;
  for (int i = 0; i < 50; ++i) {
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    const double density = std::exp(-z * z / 2) / std::sqrt(2 * std::numbers::pi);
    const double step = (p - cdf) / density;
    z += step;
    if (std::abs(step) < 1e-9) break;
  }
  return z;
}

LevelShift level_shift(double latest, double level, double variance, double span_seconds,
                       double window_seconds, double z) {
  LevelShift out{.latest = latest, .level = level};
  const double v = std::max(variance, 0.0);
  // A span beyond the window makes latest and level overlap; V / span for the level keeps the
  // noise from shrinking below what one sample shows.
  const double span = std::max(span_seconds, 1.0);
  out.noise = std::sqrt(v / span + v / std::max({window_seconds, span, 1.0}));
  out.z = z;
  out.threshold = level + out.z * out.noise;
  out.shifted = latest > out.threshold;
  return out;
}

}  // namespace qfscale::policy
