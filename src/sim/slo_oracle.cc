// The SLO oracle (slo_oracle.h): the LP lower bound solved with CLP, and the achievable
// schedule replayed through FifoQueue.
//
// The LP is written with backlog variables instead of the header's cumulative ones, which keeps
// every number near the per-second arrivals instead of the trace's running total (CLP's
// tolerances are absolute): B_s = A_s - Drop_s - S_s, the not-dropped requests still queued after
// second s, and d_s = the drops of second s. The header's constraints become
//   B_s - B_{s-1} + d_s + replica_qps x ready_g(s) >= arrivals_s   (serve at most the capacity)
//   B_s >= 0                                                       (served only once arrived)
//   B_s + sum_{v in (s-W, s]} d_v <= sum_{v in (s-W, s]} arrivals_v (on time unless dropped)
//   0 <= d_s <= arrivals_s, sum d <= budget,
// an exact substitution, so the optimum is the same.

#include "qfscale/sim/slo_oracle.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include <ClpSimplex.hpp>
#include <ClpSolve.hpp>
#include <CoinPackedMatrix.hpp>
#include <fmt/format.h>

namespace qfscale::sim {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::max();
/// LP values within this of an integer round to it, not up: CLP's primal tolerance is 1e-7.
constexpr double kRoundSlack = 1e-6;

/// The rows and columns of the LP, as triplets for CoinPackedMatrix.
class LpBuilder {
 public:
  int column(double lower, double upper, double cost) {
    col_lower_.push_back(lower);
    col_upper_.push_back(upper);
    objective_.push_back(cost);
    return static_cast<int>(col_lower_.size()) - 1;
  }
  int row(double lower, double upper) {
    row_lower_.push_back(lower);
    row_upper_.push_back(upper);
    return static_cast<int>(row_lower_.size()) - 1;
  }
  [[nodiscard]] int columns() const { return static_cast<int>(col_lower_.size()); }
  void set(int row, int column, double value) {
    rows_.push_back(row);
    columns_.push_back(column);
    values_.push_back(value);
  }

  /// Solves; the optimum and the column values, empty when infeasible.
  Result<std::optional<std::pair<double, std::vector<double>>>> solve() const {
    if (col_lower_.empty()) return std::optional(std::pair(0.0, std::vector<double>{}));
    const CoinPackedMatrix matrix(true, rows_.data(), columns_.data(), values_.data(),
                                  static_cast<CoinBigIndex>(values_.size()));
    ClpSimplex model;
    model.setLogLevel(0);
    model.loadProblem(matrix, col_lower_.data(), col_upper_.data(), objective_.data(),
                      row_lower_.data(), row_upper_.data());
    model.initialSolve();  // presolve, then dual simplex: 3x faster than dual() alone here
    if (model.isProvenPrimalInfeasible()) return std::nullopt;
    if (!model.isProvenOptimal()) {
      return fail(ErrorCode::Internal,
                  fmt::format("slo oracle: CLP stopped with status {}", model.status()));
    }
    const double* x = model.primalColumnSolution();
    return std::optional(
        std::pair(model.objectiveValue(), std::vector<double>(x, x + model.numberColumns())));
  }

 private:
  std::vector<int> rows_;
  std::vector<int> columns_;
  std::vector<double> values_;
  std::vector<double> col_lower_, col_upper_, objective_, row_lower_, row_upper_;
};

/// Which ticks decide the ready replicas of each second: second s sees ticks [lo, hi], those
/// overlapping [max(0, s - D), s]. Consecutive seconds with the same window form a segment.
struct Windows {
  std::vector<std::int64_t> segment_of;                      ///< per second
  std::vector<std::pair<std::int64_t, std::int64_t>> ticks;  ///< per segment, [lo, hi]
};

Windows windows(std::int64_t seconds, std::int64_t tick, std::int64_t delay) {
  Windows w;
  w.segment_of.resize(static_cast<std::size_t>(seconds));
  for (std::int64_t s = 0; s < seconds; ++s) {
    const std::pair window{std::max<std::int64_t>(0, s - delay) / tick, s / tick};
    if (w.ticks.empty() || w.ticks.back() != window) w.ticks.push_back(window);
    w.segment_of[static_cast<std::size_t>(s)] = static_cast<std::int64_t>(w.ticks.size()) - 1;
  }
  return w;
}

std::int64_t ticks_of(std::int64_t seconds, std::int64_t tick) {
  return (seconds + tick - 1) / tick;
}

/// Ready replicas per second under `on` (per tick): the min over each second's window.
std::vector<int> ready_per_second(const Windows& w, std::span<const int> on) {
  std::vector<int> per_segment;
  per_segment.reserve(w.ticks.size());
  for (const auto& [lo, hi] : w.ticks) {
    per_segment.push_back(*std::min_element(on.begin() + lo, on.begin() + hi + 1));
  }
  std::vector<int> out;
  out.reserve(w.segment_of.size());
  for (auto g : w.segment_of) out.push_back(per_segment[static_cast<std::size_t>(g)]);
  return out;
}

double unit_seconds(std::span<const int> on, std::int64_t seconds, std::int64_t tick,
                    std::int64_t units) {
  std::int64_t total = 0;
  for (std::size_t k = 0; k < on.size(); ++k) {
    const auto start = static_cast<std::int64_t>(k) * tick;
    total += on[k] * std::min(tick, seconds - start) * units;
  }
  return static_cast<double>(total);
}

Status validate(std::span<const SloService> services, const SloOracleOptions& o, double pct) {
  if (o.tick.count() <= 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("slo oracle: tick {}s must be > 0", o.tick.count()));
  }
  if (o.startup_delay.count() < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("slo oracle: startup delay {}s must be >= 0", o.startup_delay.count()));
  }
  if (auto st = validate(o.queue); !st)
    return fail(std::move(st.error()).with_context("slo oracle"));
  if (o.capacity_units && o.capacity_units->value < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("slo oracle: capacity units {} must be >= 0", o.capacity_units->value));
  }
  if (!(pct >= 0 && pct <= 100)) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("slo oracle: attainment {}% must be within 0..100", pct));
  }
  for (const auto& s : services) {
    if (!std::isfinite(s.replica_qps) || s.replica_qps <= 0) {
      return fail(
          ErrorCode::InvalidInput,
          fmt::format("slo oracle: replica_qps {} must be a finite number > 0", s.replica_qps));
    }
    if (s.units_per_replica.value < 1) {
      return fail(
          ErrorCode::InvalidInput,
          fmt::format("slo oracle: units_per_replica {} must be >= 1", s.units_per_replica.value));
    }
  }
  return util::ok();
}

struct Problem {
  std::span<const SloService> services;
  std::int64_t tick = 0;
  std::int64_t wait = 0;
  std::int64_t block = 1;        ///< longest run of seconds checked as one (1: per second)
  std::vector<Windows> windows;  ///< per service
};

/// The LP (header) for all services; returns its optimum in unit-seconds and on_k per service.
Result<std::optional<std::pair<double, std::vector<std::vector<double>>>>> lower_bound(
    const Problem& p, const SloOracleOptions& options, double pct) {
  LpBuilder lp;
  const bool drops = pct < 100;
  double total = 0;
  std::vector<int> drop_columns;
  std::vector<int> on_first(p.services.size());
  std::int64_t horizon_ticks = 0;
  for (std::size_t i = 0; i < p.services.size(); ++i) {
    const auto& svc = p.services[i];
    const auto demand = svc.demand;
    const auto n = static_cast<std::int64_t>(demand.size());
    const auto units = svc.units_per_replica.value;
    const auto& w = p.windows[i];
    const auto k_count = ticks_of(n, p.tick);
    horizon_ticks = std::max(horizon_ticks, k_count);
    on_first[i] = lp.columns();
    for (std::int64_t k = 0; k < k_count; ++k) {
      lp.column(0, kInfinity, static_cast<double>(std::min(p.tick, n - k * p.tick) * units));
    }
    std::vector<int> ready(w.ticks.size());
    for (std::size_t g = 0; g < w.ticks.size(); ++g) {
      ready[g] = lp.column(0, kInfinity, 0);
      for (auto k = w.ticks[g].first; k <= w.ticks[g].second; ++k) {
        const int r = lp.row(-kInfinity, 0);
        lp.set(r, ready[g], 1);
        lp.set(r, on_first[i] + static_cast<int>(k), -1);
      }
    }
    // Blocks: runs of at most `block` seconds within one segment, each checked at its end (one
    // second each when block = 1: the header's LP). The drain seconds N .. N + W - 1 have no
    // arrivals and the last segment's capacity.
    std::vector<double> prefix(static_cast<std::size_t>(n) + 1, 0.0);  // arrivals of [0, s)
    for (std::int64_t s = 0; s < n; ++s) {
      prefix[static_cast<std::size_t>(s) + 1] =
          prefix[static_cast<std::size_t>(s)] +
          static_cast<double>(demand[static_cast<std::size_t>(s)]);
    }
    const auto arrivals = [&](std::int64_t from, std::int64_t to) {  // of [from, to)
      from = std::clamp<std::int64_t>(from, 0, n);
      to = std::clamp<std::int64_t>(to, 0, n);
      return to > from
                 ? prefix[static_cast<std::size_t>(to)] - prefix[static_cast<std::size_t>(from)]
                 : 0.0;
    };
    total += arrivals(0, n);
    std::vector<std::pair<std::int64_t, int>> block_drops;  // (first second, drop column)
    int previous_backlog = -1;
    const std::int64_t stop = n > 0 ? n + p.wait : 0;
    for (std::int64_t s = 0; s < stop;) {
      const auto g = w.segment_of[static_cast<std::size_t>(std::min(s, n - 1))];
      std::int64_t e = s + 1;  // the block is [s, e)
      const std::int64_t limit = s < n ? n : stop;
      while (e < limit && e - s < p.block &&
             (s >= n || w.segment_of[static_cast<std::size_t>(e)] == g)) {
        ++e;
      }
      const double a = arrivals(s, e);
      const double window = arrivals(e - p.wait, e);  // (end - W, end] with end = e - 1
      if (drops && a > 0) {
        block_drops.emplace_back(s, lp.column(0, a, 0));
        drop_columns.push_back(block_drops.back().second);
      }
      // At 100% the deadline is a bound on the backlog; with drops, a row that adds back the
      // drops of the blocks inside the window (a subset of its seconds' drops: still implied).
      const int backlog = lp.column(0, drops ? kInfinity : window, 0);
      const int flow = lp.row(a, kInfinity);
      lp.set(flow, backlog, 1);
      if (previous_backlog >= 0) lp.set(flow, previous_backlog, -1);
      if (!block_drops.empty() && block_drops.back().first == s) {
        lp.set(flow, block_drops.back().second, 1);
      }
      lp.set(flow, ready[static_cast<std::size_t>(g)],
             svc.replica_qps * static_cast<double>(e - s));
      if (drops) {
        const int deadline = lp.row(-kInfinity, window);
        lp.set(deadline, backlog, 1);
        for (auto it = block_drops.rbegin(); it != block_drops.rend() && it->first >= e - p.wait;
             ++it) {
          lp.set(deadline, it->second, 1);
        }
      }
      previous_backlog = backlog;
      s = e;
    }
  }
  if (!drop_columns.empty()) {
    const int budget = lp.row(-kInfinity, (1 - pct / 100) * total);
    for (int d : drop_columns) lp.set(budget, d, 1);
  }
  if (options.capacity_units) {
    for (std::int64_t k = 0; k < horizon_ticks; ++k) {
      const int r = lp.row(-kInfinity, static_cast<double>(options.capacity_units->value));
      for (std::size_t i = 0; i < p.services.size(); ++i) {
        if (k < ticks_of(static_cast<std::int64_t>(p.services[i].demand.size()), p.tick)) {
          lp.set(r, on_first[i] + static_cast<int>(k),
                 static_cast<double>(p.services[i].units_per_replica.value));
        }
      }
    }
  }
  auto solved = lp.solve();
  if (!solved) return fail(std::move(solved.error()));
  if (!*solved) return std::nullopt;
  std::vector<std::vector<double>> on(p.services.size());
  for (std::size_t i = 0; i < p.services.size(); ++i) {
    const auto k_count = ticks_of(static_cast<std::int64_t>(p.services[i].demand.size()), p.tick);
    const auto& x = (*solved)->second;
    on[i].assign(x.begin() + on_first[i], x.begin() + on_first[i] + k_count);
  }
  return std::optional(std::pair((*solved)->first, std::move(on)));
}

/// The attainment of integer schedules, replayed through the queue (all services together).
double replay(const Problem& p, const QueueOptions& queue,
              std::span<const std::vector<int>> schedule) {
  QueueStats total;
  for (std::size_t i = 0; i < p.services.size(); ++i) {
    const auto& svc = p.services[i];
    const auto ready = ready_per_second(p.windows[i], schedule[i]);
    FifoQueue q(queue);
    for (std::size_t s = 0; s < svc.demand.size(); ++s) {
      q.second(static_cast<double>(svc.demand[s]), ready[s] * svc.replica_qps);
    }
    q.drain(ready.empty() ? 0.0 : ready.back() * svc.replica_qps);
    total.add(q.stats());
  }
  return total.attainment_pct();
}

/// ceil(value(i, k)) per service i and tick k, trimmed to the capacity at each tick (the services
/// rounded up most above the LP's on first).
template <typename Value>
std::vector<std::vector<int>> rounded(const Problem& p, const SloOracleOptions& options,
                                      const std::vector<std::vector<double>>& on, Value value) {
  std::vector<std::vector<int>> out(on.size());
  std::size_t horizon = 0;
  for (std::size_t i = 0; i < on.size(); ++i) {
    horizon = std::max(horizon, on[i].size());
    for (std::size_t k = 0; k < on[i].size(); ++k) {
      const double v = std::ceil(value(i, k) - kRoundSlack);
      out[i].push_back(static_cast<int>(std::clamp(v, 0.0, 1e9)));
    }
  }
  if (!options.capacity_units) return out;
  const auto cap = options.capacity_units->value;
  for (std::size_t k = 0; k < horizon; ++k) {
    const auto used = [&] {
      std::int64_t u = 0;
      for (std::size_t i = 0; i < on.size(); ++i) {
        if (k < on[i].size()) u += out[i][k] * p.services[i].units_per_replica.value;
      }
      return u;
    };
    while (used() > cap) {  // take a replica from the service rounded up the most
      std::size_t pick = on.size();
      double most = -kInfinity;
      for (std::size_t i = 0; i < on.size(); ++i) {
        if (k < on[i].size() && out[i][k] > 0 && out[i][k] - on[i][k] > most) {
          most = out[i][k] - on[i][k];
          pick = i;
        }
      }
      --out[pick][k];
    }
  }
  return out;
}

/// The least x in [start/2, high] (to 1e-4 relative) with meets(x), meets nondecreasing in x;
/// 0 when meets(0) would do is not tried here. Doubles from `start` until it meets or passes
/// `high`, then bisects. Empty when `high` does not meet either.
template <typename Meets>
std::optional<double> least_meeting(double start, double high_limit, Meets meets) {
  double low = 0;
  double high = std::min(start, high_limit);
  while (!meets(high)) {
    if (high >= high_limit) return std::nullopt;
    low = high;
    high = std::min(high * 2, high_limit);
  }
  for (int step = 0; step < 30 && high - low > 1e-4 * high; ++step) {
    const double mid = (low + high) / 2;
    (meets(mid) ? high : low) = mid;
  }
  return high;
}

}  // namespace

std::optional<double> SloBound::gap_pct() const {
  if (!lower_bound_cu_hours || !achievable_cu_hours) return std::nullopt;
  if (*lower_bound_cu_hours > 0) {
    return 100.0 * (*achievable_cu_hours - *lower_bound_cu_hours) / *lower_bound_cu_hours;
  }
  return *achievable_cu_hours > 0 ? std::optional(std::numeric_limits<double>::infinity())
                                  : std::optional(0.0);
}

Result<std::vector<SloBound>> slo_oracle(std::span<const SloService> services,
                                         const SloOracleOptions& options,
                                         std::span<const double> attainments_pct) {
  for (double pct : attainments_pct) {
    if (auto st = validate(services, options, pct); !st) return fail(std::move(st.error()));
  }
  if (options.check_every.count() < 0) {
    return fail(ErrorCode::InvalidInput, fmt::format("slo oracle: check_every {}s must be >= 0",
                                                     options.check_every.count()));
  }
  Problem p{
      .services = services,
      .tick = options.tick.count(),
      .wait = options.queue.slo_wait.count(),
      .block = options.check_every.count() > 0 ? options.check_every.count() : options.tick.count(),
      .windows = {}};
  for (const auto& s : services) {
    p.windows.push_back(
        windows(static_cast<std::int64_t>(s.demand.size()), p.tick, options.startup_delay.count()));
  }
  const auto cost = [&](const std::vector<std::vector<int>>& schedule) {
    double total = 0;
    for (std::size_t i = 0; i < services.size(); ++i) {
      total += unit_seconds(schedule[i], static_cast<std::int64_t>(services[i].demand.size()),
                            p.tick, services[i].units_per_replica.value);
    }
    return total / 3600.0;
  };

  // Highest attainment first: each lower one may fall back on the schedule of the one above.
  std::vector<std::size_t> order(attainments_pct.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return attainments_pct[a] > attainments_pct[b]; });
  std::vector<SloBound> out(attainments_pct.size());
  const std::vector<std::vector<int>>* above = nullptr;
  for (std::size_t j : order) {
    const double pct = attainments_pct[j];
    SloBound& bound = out[j];
    bound.attainment_pct = pct;
    bound.check_every_seconds = p.block;
    auto lp = lower_bound(p, options, pct);
    if (!lp) return fail(std::move(lp.error()));
    if (!*lp) continue;
    bound.lower_bound_cu_hours = std::max(0.0, (*lp)->first) / 3600.0;
    const auto& on = (*lp)->second;
    // Replayed figures are sums of doubles: allow their rounding, not a real miss.
    const auto meets = [&](const std::vector<std::vector<int>>& s) {
      const double reached = replay(p, options.queue, s);
      return std::pair(reached >= pct - 1e-9, reached);
    };
    const auto consider = [&](std::vector<std::vector<int>> s) {
      const auto [ok, reached] = meets(s);
      if (!ok) return;
      const double c = cost(s);
      if (bound.achievable_cu_hours && *bound.achievable_cu_hours <= c) return;
      bound.achievable_cu_hours = c;
      bound.achievable_attainment_pct = reached;
      bound.schedule = std::move(s);
    };
    const auto lift = [&](double f) {
      return rounded(p, options, on,
                     [&](std::size_t i, std::size_t k) { return on[i][k] * (1 + f) + f; });
    };
    // The schedule of the attainment above meets this one too, so this one never costs more.
    if (above != nullptr) consider(*above);
    // The LP rounded up; failing that, the least uniform lift, and the least blend towards the
    // schedule of the attainment above (which meets this one at lambda = 1).
    if (auto s = lift(0); meets(s).first) {
      consider(std::move(s));
    } else {
      if (auto f = least_meeting(1.0 / 64, 1024, [&](double x) { return meets(lift(x)).first; })) {
        consider(lift(*f));
      }
      if (above != nullptr) {
        const auto blend = [&](double lambda) {
          return rounded(p, options, on, [&](std::size_t i, std::size_t k) {
            return std::max(on[i][k], lambda * (*above)[i][k]);
          });
        };
        if (auto l = least_meeting(1.0 / 64, 1, [&](double x) { return meets(blend(x)).first; })) {
          consider(blend(*l));
        }
      }
    }
    if (bound.achievable_cu_hours) above = &bound.schedule;
  }
  return out;
}

std::optional<double> lower_bound_at(std::span<const SloBound> solved, double attainment_pct) {
  double best = 0;
  for (const auto& a : solved) {
    if (a.attainment_pct > attainment_pct) continue;
    if (!a.lower_bound_cu_hours) return std::nullopt;
    best = std::max(best, *a.lower_bound_cu_hours);
  }
  for (const auto& a : solved) {
    for (const auto& b : solved) {
      if (!(a.attainment_pct < b.attainment_pct) || !a.lower_bound_cu_hours ||
          !b.lower_bound_cu_hours) {
        continue;
      }
      // Outside [a, b] a convex function lies above the secant through a and b.
      if (attainment_pct > a.attainment_pct && attainment_pct < b.attainment_pct) continue;
      const double slope = (*b.lower_bound_cu_hours - *a.lower_bound_cu_hours) /
                           (b.attainment_pct - a.attainment_pct);
      best = std::max(best, *a.lower_bound_cu_hours + (attainment_pct - a.attainment_pct) * slope);
    }
  }
  return best;
}

}  // namespace qfscale::sim
