#include "qfscale/policy/slo_sizing.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
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
                                std::chrono::seconds window, std::chrono::seconds sample_span) {
  const util::SystemTime cutoff = now - window;
  // Newest first; times relative to now keep the sums small.
  const auto first = samples.rbegin();
  auto last = first;
  while (last != samples.rend() && last->at > cutoff) ++last;
  const auto x_of = [&](const QpsSample& s) {
    return std::chrono::duration<double>(s.at - now).count();
  };
  const auto n = static_cast<double>(last - first);
  if (n < 3) return std::nullopt;
  LineFit fit;
  fit.samples = static_cast<int>(n);
  double sum_x = 0, sum_y = 0;
  for (auto it = first; it != last; ++it) {
    sum_x += x_of(*it);
    sum_y += it->qps;
  }
  fit.mean_x = sum_x / n;
  fit.mean_y = sum_y / n;
  double sxy = 0;
  for (auto it = first; it != last; ++it) {
    const double dx = x_of(*it) - fit.mean_x;
    fit.sxx += dx * dx;
    sxy += dx * (it->qps - fit.mean_y);
  }
  if (!(fit.sxx > 0)) return std::nullopt;
  fit.slope = sxy / fit.sxx;
  fit.spacing = (x_of(*first) - x_of(*std::prev(last))) / (n - 1);
  // Without a span each sample is the mean since the previous one: none overlap, even across a
  // missed tick (which the mean spacing would otherwise take for overlap).
  const bool may_overlap = sample_span.count() > 0;
  fit.span = may_overlap ? static_cast<double>(sample_span.count()) : fit.spacing;
  // Samples that average over more than their spacing share seconds: with independent seconds
  // two of them correlate by R = the share they have in common, max(0, 1 - |dt| / span). Then
  // E[residual sum of squares] = sigma^2 tr((I - H) R) and Var(slope) = sigma^2 w'Rw (H the fit's
  // hat matrix, w its slope weights), which are n - 2 and 1 / sxx when no two samples overlap.
  // Only pairs less than a span apart contribute, so the inner loop stops there.
  double shared = 0;        // sum of R_ij over all ordered pairs
  double shared_trend = 0;  // sum of R_ij (x_i - mean)(x_j - mean)
  double residuals = 0;
  for (auto i = first; i != last; ++i) {
    const double xi = x_of(*i);
    const double di = xi - fit.mean_x;
    const double r = i->qps - fit.at(xi);
    residuals += r * r;
    shared += 1;
    shared_trend += di * di;
    for (auto j = std::next(i); may_overlap && j != last; ++j) {
      const double xj = x_of(*j);
      const double share = 1 - (xi - xj) / fit.span;
      if (share <= 0) break;
      shared += 2 * share;
      shared_trend += 2 * share * di * (xj - fit.mean_x);
    }
  }
  fit.residual_freedom = n - shared / n - shared_trend / fit.sxx;
  // Under one degree of freedom the samples hardly vary apart from the line: no estimate.
  fit.residual_variance = fit.residual_freedom >= 1 ? residuals / fit.residual_freedom : 0;
  // With no estimate of the scatter no slope is clear: an infinite error claims no trend.
  fit.slope_standard_error =
      fit.residual_freedom >= 1
          ? std::sqrt(fit.residual_variance * shared_trend / (fit.sxx * fit.sxx))
          : std::numeric_limits<double>::infinity();
  return fit;
}

double sample_seconds(const std::optional<LineFit>& fit, std::chrono::seconds sample_span) {
  if (fit) return fit->span;
  return sample_span.count() > 0 ? static_cast<double>(sample_span.count()) : 1.0;
}

double per_second_variance(const std::optional<LineFit>& fit, double level) {
  const double poisson = std::max(level, 0.0);
  if (!fit || fit->residual_freedom < 1) return poisson;
  return std::max(poisson, fit->span * fit->residual_variance);
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

double level_variance_share(const std::vector<QpsSample>& samples, util::SystemTime now,
                            std::chrono::seconds window, double span_seconds) {
  const util::SystemTime cutoff = now - window;
  // No span (0): each sample is the mean since the previous one, and none overlap.
  const double span = span_seconds > 0 ? std::max(span_seconds, 1.0) : 0.0;
  const auto seconds_before = [&](const QpsSample& s) {
    return std::chrono::duration<double>(now - s.at).count();
  };
  // Newest first; only pairs less than a span apart share seconds, so the inner loop stops
  // there: O(k x overlap), not O(k^2).
  double shared = 0;
  double k = 0;
  for (auto i = samples.rbegin(); i != samples.rend() && i->at > cutoff; ++i) {
    k += 1;
    shared += 1;
    for (auto j = std::next(i); span > 0 && j != samples.rend() && j->at > cutoff; ++j) {
      const double r = 1 - (seconds_before(*j) - seconds_before(*i)) / span;
      if (r <= 0) break;
      shared += 2 * r;
    }
  }
  return k > 0 ? shared / (k * k) : 0;
}

LevelShift level_shift(double latest, double level, double variance, double span_seconds,
                       double level_share, double z) {
  LevelShift out{.latest = latest, .level = level};
  const double v = std::max(variance, 0.0);
  // Var(latest) + Var(level): an upper bound on Var(latest - level), as they covary.
  out.noise = std::sqrt(v / std::max(span_seconds, 1.0) * (1 + std::max(level_share, 0.0)));
  out.z = z;
  out.threshold = level + out.z * out.noise;
  out.shifted = latest > out.threshold;
  return out;
}

}  // namespace qfscale::policy
