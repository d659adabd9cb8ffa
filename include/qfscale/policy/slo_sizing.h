#pragma once

/// SLO sizing (`target.slo`): the capacity that keeps the queueing wait within the SLO, from the
/// demand's level and its burstiness. Pure functions, used by the engine's metric-window stage.
///
/// ## The queueing argument
///
/// Requests queue FIFO in front of the ready replicas (the simulator's model, sim/queue.h). Let
/// arrivals have mean rate L (qps) and per-second variance V (requests^2 per second: V = L for
/// Poisson arrivals, more for bursty ones), and let the replicas serve C > L qps. The backlog is
/// then a reflected random walk with drift -(C - L) and variance V per second; in the diffusion
/// (heavy-traffic) approximation its stationary distribution is exponential with mean
/// V / (2 (C - L)). A request waits longer than w when it finds more than C x w requests ahead
/// of it, so
///
///     P(wait > w) = exp(-2 (C - L) C w / V).
///
/// Asking this to be at most eps = 1 - attainment gives (C - L) C >= V ln(1/eps) / (2 w), and the
/// least such C is the positive root of C^2 - L C - V ln(1/eps) / (2 w) = 0:
///
///     C = (L + sqrt(L^2 + 2 V ln(1/eps) / w)) / 2.
///
/// Worked numbers (w = 5 s, attainment 99%: ln(1/eps) = ln 100 = 4.605):
/// - Poisson at L = 1000 qps (V = 1000): C = (1000 + sqrt(1e6 + 1842)) / 2 = 1000.46 qps: at a
///   high rate the queue absorbs Poisson noise with half a request per second to spare.
/// - L = 1000, V = 40000 (40 x Poisson, bursty clients): C = (1000 + sqrt(1e6 + 73682)) / 2 =
///   1018.1 qps, 1.8% headroom.
/// - L = 3 qps, V = 375 (a bursty trickle: 15 s means varying by +-5 qps): C = (3 +
///   sqrt(9 + 690.8)) / 2 = 14.7 qps, five times the mean: a trickle in bursts needs room for
///   the bursts, not for the mean.
/// - L = 0: C = sqrt(V ln(1/eps) / (2 w)), 0 when V = 0.
///
/// ## The burstiness the engine can see
///
/// The engine gets one QPS sample per tick, each the mean over tau seconds: the tick in the
/// simulator, the range of the rate() live (EngineInput::sample_span). If the seconds were
/// independent with variance V, such means would vary by V / tau around the level, so V is
/// estimated as tau x the variance of the samples about their least-squares line (a ramp is
/// level, not noise: the forecast handles it). tau must be the span, not the tick: with a 1m
/// rate read every 15 s the samples scatter by V / 60, and taking tau = 15 would see a quarter
/// of the burstiness. Overlapping samples also scatter less about the fitted line than
/// independent ones (they share seconds), which fit_line corrects by counting them as the fewer
/// independent samples they are; the estimate stays unbiased, only noisier, and a shift is seen
/// later. bench/RESULTS.md ("The span of a QPS sample") measures the cost; a span of one tick is
/// what the simulator assumes unless told otherwise. Bursts that
/// last longer than a second (correlated seconds) widen the means more than independent
/// seconds would, so they raise the estimate, as they should. The estimate is never below L
/// (Poisson: arrivals from many independent users are at least that variable), which is also what
/// is used before there are three samples to fit a line to.
///
/// What the seconds inside a tick would add was measured (bench/RESULTS.md, "A sub-tick
/// signal"): little, and the wrong way. V here is the long-run variance rate the diffusion needs:
/// the seconds' variance plus twice their covariances. Where bursts cost, seconds are positively
/// correlated and the tick means show more than the seconds inside a tick (azure-code: 400 from
/// the tick means against 19.5 per second within ticks); where the seconds inside a tick vary
/// more (mooncake's 3-second pulses: 22 against 6.6) they alternate, the covariances are
/// negative, and the queue absorbs them within the wait, so taking the larger would buy
/// capacity (C 3.80 -> 5.02 qps at L = 3) for nothing.
///
/// ## A level that moves (target.slo.followLevelShifts)
///
/// The formula covers noise about a level, not a level that moves: a replica asked for now
/// serves one startup delay later, and the metricWindow average sees a step only gradually (a
/// 60 s window shows half a step 30 s after it). Until the new capacity is ready, a step of r
/// over headroom h builds a backlog of (r - h) L per second; the wait passes w after w / (r - h)
/// seconds: 5 s of wait absorb a 5% shortfall for 100 s, a 20% one for 25 s. So a shift must
/// be sized for as soon as it is seen. The newest sample varies by V / span about the level, the
/// level (the mean of the k samples in the window) by V / span x (1 / k^2) sum_ij R(i, j)
/// (level_variance_share; V / window without overlap), and their difference by less than the sum
/// of the two, as they covary: the level holds the newest sample. So with the sum as the noise, a
/// tick more than z = Phi^-1(attainment) of its standard deviations above the level is a shift
/// with at most 1 - attainment odds of being noise, and the level becomes that tick. Only upward:
/// a fall waits for the scale-down window as before. The exact variance of the difference (1 -
/// (2 / k) sum_j R(latest, j) + the level's share: 0.75 V / span for four 15 s means against the
/// sum's 1.25) was measured and not kept: the test then fired on mooncake's 3-second pulses and
/// cost +4% CU-h on its tuning half (bench/RESULTS.md, "The span of a QPS sample"). Worked
/// numbers (99%: z = 2.326; 15 s ticks, 60 s window):
/// - Poisson at 1500 qps: noise sqrt(1500 / 15 + 1500 / 60) = 11.18 qps, threshold 1526.0 qps
///   (+1.7%): a 10% step (1650) is sized for one tick after it, not after most of a window.
/// - A bursty trickle, L = 3, V = 375: noise sqrt(25 + 6.25) = 5.59 qps, threshold 16.0 qps: a
///   15 qps tick is a burst the queueing term already covers (C = 14.7), not a new level.
/// - Its cost is a tick now and then sized for a noise peak: at 99% one tick in a hundred at
///   most, each holding one more replica for the scale-down window.
/// - From 1m rates (four 60 s means in the window, level share 0.6875): noise sqrt(1500 / 60 x
///   1.6875) = 6.50 qps at 1500 qps, z x noise = 15.1. The values smooth a step: one tick after
///   it the newest shows a quarter of it, so a 10% step (150) is seen at once (latest - level =
///   37.5 - 9.4 = 28.1 > 15.1), a 4% one (60) a tick later (11.25, then 18.75).

#include <chrono>
#include <optional>
#include <vector>

#include "qfscale/policy/engine.h"
#include "qfscale/policy/policy.h"

namespace qfscale::policy {

/// The capacity (qps) that keeps P(wait > slo.wait) <= 1 - slo.attainment at level `level` and
/// per-second variance `variance` (the formula above). Both are clamped to >= 0.
[[nodiscard]] double slo_capacity(double level, double variance, const SloTarget& slo);

/// The least-squares line through the samples with at > now - window, in seconds relative to
/// `now`. Empty with fewer than three samples or all at one time.
///
/// Each sample averages over `sample_span` seconds (0: the spacing, each the mean since the
/// previous one). Samples whose spans overlap share seconds, so they scatter less about the line
/// than independent ones and their slope is less certain: the residual variance is the residual
/// sum of squares over `residual_freedom` = tr((I - H) R), not n - 2, and the slope's standard
/// error is sqrt(residual variance x w'Rw), R being the shares of seconds the samples have in
/// common (max(0, 1 - |dt| / span)), H the fit's hat matrix and w its slope weights. Without
/// overlap these are the textbook n - 2 and 1 / sxx. Worked numbers, 20 samples 15 s apart over
/// 300 s: 60 s means give 13.0 degrees of freedom (18 without overlap), 120 s means 8.1; four 60 s
/// means 15 s apart (a 60 s forecast.window) leave 0.4: under one, no scatter is estimated and no
/// trend is clear (the slope's error is infinite).
struct LineFit {
  int samples = 0;
  double mean_x = 0;                ///< mean sample time, seconds relative to now (<= 0)
  double mean_y = 0;                ///< mean qps
  double slope = 0;                 ///< qps per second
  double slope_standard_error = 0;  ///< infinite when residual_freedom < 1: no clear trend
  double residual_variance = 0;     ///< of one sample about the line; 0 when residual_freedom < 1
  double residual_freedom = 0;      ///< tr((I - H) R): n - 2 when no two samples overlap
  double spacing = 0;               ///< mean seconds between consecutive samples: the tick
  double span = 0;                  ///< seconds each sample averages over: sample_span or spacing
  double sxx = 0;                   ///< sum of squared time deviations, s^2
  [[nodiscard]] double at(double x) const { return mean_y + slope * (x - mean_x); }
};
[[nodiscard]] std::optional<LineFit> fit_line(const std::vector<QpsSample>& samples,
                                              util::SystemTime now, std::chrono::seconds window,
                                              std::chrono::seconds sample_span);

/// The seconds each sample averages over: the fit's span, else `sample_span` when given (> 0),
/// else 1.
[[nodiscard]] double sample_seconds(const std::optional<LineFit>& fit,
                                    std::chrono::seconds sample_span);

/// The per-second variance of the arrivals: max(level, span x residual variance) from the fit,
/// or `level` (Poisson) without a fit or with under one degree of freedom. See "The burstiness
/// the engine can see".
[[nodiscard]] double per_second_variance(const std::optional<LineFit>& fit, double level);

}  // namespace qfscale::policy

namespace qfscale::policy {

/// z with P(N(0, 1) <= z) = p, for p in (0, 1): 2.326 at 0.99, 3.090 at 0.999.
[[nodiscard]] double normal_quantile(double p);

/// The level-shift test of target.slo.followLevelShifts ("A level that moves" above).
struct LevelShift {
  double latest = 0;     ///< the newest tick mean, qps
  double level = 0;      ///< the window's level, qps
  double noise = 0;      ///< sqrt(Var(latest) + Var(level)), qps: bounds latest - level's
  double z = 0;          ///< normal_quantile(attainment): Policy::slo_z()
  double threshold = 0;  ///< level + z x noise
  bool shifted = false;  ///< latest > threshold: size for latest
};
/// Var(level) in units of one sample's variance V / span, the level being the mean of the k
/// samples with at > now - window, each averaging over `span_seconds` (0: the time since the
/// previous one, so none overlap): (1 / k^2) sum_ij R(i, j), R as for fit_line. Without overlap 1 /
/// k: 0.25 for four 15 s means in a 60 s window (so V / tick + V / window, the noise below, is V /
/// span x (1 + 0.25)); 0.6875 for four 60 s means.
[[nodiscard]] double level_variance_share(const std::vector<QpsSample>& samples,
                                          util::SystemTime now, std::chrono::seconds window,
                                          double span_seconds);
/// noise = sqrt(V / span x (1 + level_share)): Var(latest) + Var(level), see "A level that moves".
[[nodiscard]] LevelShift level_shift(double latest, double level, double variance,
                                     double span_seconds, double level_share, double z);

}  // namespace qfscale::policy
