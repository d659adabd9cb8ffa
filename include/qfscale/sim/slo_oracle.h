#pragma once

/// The SLO oracle: the fewest compute-unit-hours any controller acting at the simulator's ticks
/// could spend to reach a given SLO attainment (queue.h: the share of requests not late),
/// knowing the future. Answered as a proven lower bound (a linear program, solved with CLP) and an
/// achievable integer schedule replayed through the real FIFO queue; the gap between the two is
/// reported, so a policy's distance to the true optimum is known within it.
///
/// ## Rules (the simulator's, simulator.h)
///
/// Ticks k = 0, 1, … of `tick` seconds; on_k replicas are on during [k x tick, (k+1) x tick)
/// (the last tick is cut at the trace's end) and cost units_per_replica each per second. A
/// replica started at a tick serves `startup_delay` D seconds later; removal is immediate;
/// replicas on at second 0 are warm. So the replicas ready at second s are
/// ready(s) = min{ on_k : tick k overlaps [max(0, s - D), s] } (oracle.h's slot argument: stack
/// replicas in slots; slot j is ready at s exactly when it was on throughout that window), and
/// capacity c(s) = ready(s) x replica_qps feeds the queue of queue.h. After the trace the queue
/// drains at the last second's capacity.
///
/// ## Lower bound: the linear program (per service; A = cumulative arrivals, W = slo_wait)
///
///   minimise  sum_k on_k x seconds_k x units / 3600
///   over      on_k >= 0, ready_g >= 0 per segment g (a run of seconds with the same window of
///             ticks; at most two per tick), S_s >= 0 cumulative on-time service for
///             s = 0 .. N - 1 + W, Drop_s cumulative dropped arrivals for s = 0 .. N - 1
///   subject   ready_g <= on_k for each tick k in segment g's window
///             S_s - S_{s-1} <= replica_qps x ready_{g(s)}     (s >= N: the last segment's)
///             S_s <= A_s - Drop_s                              (served only once arrived)
///             S_s >= A_{s-W} - Drop_{s-W}                      (on time, unless dropped)
///             0 <= Drop_s - Drop_{s-1} <= arrivals_s,  sum over services Drop_{N-1}
///                                                  <= (1 - attainment) x total requests
///   and, with `capacity_units` C: sum_i on_{i,k} x units_i <= C at every tick.
///
/// **It is a relaxation.** Take any real schedule (integer on_k) whose queue reaches attainment
/// p. Set Drop_s = its late requests (late or abandoned) that arrived by s, and S_s = its on-time
/// requests served by s. Each second serves at most c(s) requests in all, so at most that many
/// on-time ones; an on-time request is served after it arrives and within W of it; the late
/// requests number at most (1 - p) x total; ready_g is the real ready count. Every constraint
/// holds, with the schedule's own cost: the LP optimum is <= the cost of any schedule reaching
/// p, in particular the cheapest one. (Requests late in reality may be served late and delay
/// others in the real queue; the LP drops them at no capacity, which only loosens it.) With 100%
/// nothing is dropped and the bound's capacities are enough: FIFO with one deadline offset is
/// earliest-deadline-first, which meets every deadline whenever any service order does.
///
/// **The value is convex and nondecreasing in the attainment.** p enters only the right-hand
/// side of one constraint, linearly; an LP's optimal value is convex in its right-hand side, and
/// a higher p only tightens. So from the values at 99, 99.9 and 100 a bound at any p follows
/// without solving again (`lower_bound_at`): the secant through two solved points, extended
/// beyond them, stays below a convex function, and so does the value at a lower solved p.
///
/// ## Resolution: checks at the end of runs of seconds
///
/// Solved per second, a day of one service takes CLP about 11 s and a week minutes (measured:
/// bench/RESULTS.md). So by default (`check_every` = 0) the LP keeps one backlog variable per
/// *run*: the seconds of one segment (capacity is constant there), cut into runs of at most one
/// tick. A run's service is its arrivals against run length x capacity, and the deadline is
/// checked at its last second e only: B_e + (drops of the runs inside (e - W, e]) <= arrivals of
/// (e - W, e]. Each of these rows is implied by the per-second LP (summing its flow rows over the
/// run; the runs inside the window drop no more than the window's seconds), so the coarse LP is
/// a relaxation of a relaxation: still a lower bound, ~15x smaller. Measured on a day: 0.7% below
/// the per-second bound at 100%. `check_every` = 1 gives the per-second LP (the tests use both).
///
/// ## Achievable schedule
///
/// on'_k = ceil(on_k): never fewer ready replicas than the LP's in any second, since ready is a
/// min over on. With the per-second LP at 100% that always meets every deadline (above). If the
/// replay through FifoQueue misses the target (the real queue serves late requests, and they
/// delay others, which the LP's drops do not; or the coarse LP let a burst wait past W inside a
/// run), two families are searched by bisection and the cheaper that meets the target is kept:
/// the uniform lift ceil(on_k x (1 + f) + f), and the blend max(ceil(on_k), ceil(lambda x
/// above_k)) towards the achievable schedule of the next higher attainment asked for (which meets
/// this one at lambda = 1), and that schedule itself. **Monotone:** more replicas at every tick
/// give at least as many ready in every second; the queue's head (the index, in arrival order, of
/// the oldest request not yet gone) after second s is min(A_s, max(head, A_{s - abandon_after}) +
/// c(s)), nondecreasing in the previous head and in c(s), so by induction every head is at least as
/// far; a request is on time exactly when the head has passed it by its arrival + W (abandonment
/// comes later), so attainment cannot drop. With a shared capacity each tick is then trimmed to C
/// (the services rounded up most first), which can miss the target: the achievable figure is then
/// empty.
///
/// ## Worked numbers (one service, replica_qps 10, 1 unit, tick 2 s, D = 0, W = 1)
///
/// Arrivals 20, 0, 0, 0. Without a queue a second needs 2 replicas (the per-second oracle's
/// answer would be 2 on in tick 0: 4 unit-seconds). With a 1 s wait the 20 requests may take
/// seconds 0 and 1: 1 replica in tick 0, 0 in tick 1, 2 unit-seconds, which the LP finds too
/// (lower bound = achievable). At 50% attainment half may be late: 0.5 replica in the LP
/// (1 unit-second), and 1 replica (2 unit-seconds) achievable; the gap is the rounding.
///
/// ## Cost
///
/// Per service of N seconds and R runs (R ~ N / 7.5 by default, N per second): about 2R
/// columns and 2R rows (R and R at 100%) plus ~8 rows per segment for the ready windows, solved
/// by CLP (presolve, then dual simplex); then O(N) per replay, ~60 replays at most per
/// attainment. `bench/RESULTS.md` has the times for a day and a week. Pure: no clock, no I/O;
/// CLP's log is off.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "qfscale/model/units.h"
#include "qfscale/sim/queue.h"
#include "qfscale/util/result.h"

namespace qfscale::sim {

/// The attainments reported by `qfscale simulate`, highest first.
inline constexpr std::array<double, 3> kSloTargets{100.0, 99.9, 99.0};

/// One service: its per-second arrivals and replica size.
struct SloService {
  std::span<const float> demand;  ///< arrivals per second (trace QPS)
  double replica_qps = 1;         ///< > 0
  model::ComputeUnits units_per_replica{1};
};

struct SloOracleOptions {
  std::chrono::seconds tick{15};                      ///< > 0
  std::chrono::seconds startup_delay{90};             ///< >= 0
  QueueOptions queue;                                 ///< must pass validate(QueueOptions)
  std::optional<model::ComputeUnits> capacity_units;  ///< shared by all services; empty: none
  /// The LP checks service and deadlines at the end of runs of at most this many seconds within
  /// a segment (see "Resolution"); 0: one tick. 1 is the exact per-second LP.
  std::chrono::seconds check_every{0};
};

/// The answer at one attainment, for the services together.
struct SloBound {
  double attainment_pct = 100;
  /// The LP's optimum: no controller reaches attainment_pct for less. Empty when even the LP
  /// cannot (a capacity too small).
  std::optional<double> lower_bound_cu_hours;
  /// The cost of `schedule`, which reaches attainment_pct; empty when none was found.
  std::optional<double> achievable_cu_hours;
  double achievable_attainment_pct = 0;    ///< the schedule's, replayed through the queue
  std::int64_t check_every_seconds = 1;    ///< the LP's resolution (SloOracleOptions)
  std::vector<std::vector<int>> schedule;  ///< [service][tick] replicas on (achievable)

  /// 100 x (achievable - lower) / lower; 0 when both are 0; empty when either is missing.
  [[nodiscard]] std::optional<double> gap_pct() const;
};

/// The SLO oracle at each attainment (in [0, 100]) over `services` (together, sharing one drop
/// budget of (1 - attainment) x all their requests, and the capacity when given); one result per
/// attainment, in the same order. Fails with InvalidInput on a bad option or service, Internal
/// when CLP fails. Thread-safety: pure; CLP holds no global state, so calls may run concurrently.
[[nodiscard]] Result<std::vector<SloBound>> slo_oracle(std::span<const SloService> services,
                                                       const SloOracleOptions& options,
                                                       std::span<const double> attainments_pct);

/// A lower bound at `attainment_pct` from bounds solved at other attainments (any order), by
/// convexity (above): the largest of the solved values at attainments <= it, and of the secants
/// through two solved points, extended to it. 0 when nothing applies (below every solved point
/// with fewer than two of them); empty when a solved attainment <= it has no lower bound
/// (infeasible there, so here too).
[[nodiscard]] std::optional<double> lower_bound_at(std::span<const SloBound> solved,
                                                   double attainment_pct);

}  // namespace qfscale::sim
