#pragma once

/// The oracle: the cheapest replica schedule that serves every request of one service, knowing
/// the whole future, under the same lifecycle as the simulator (a replica costs compute units
/// from the second it is started, serves `startup_delay` seconds later, and can be removed at
/// any second for free). It is the lower bound that `qfscale simulate` compares policies with.
///
/// ## Problem
///
/// Seconds 0..N-1, demand d(s). A replica serves `replica_qps`, so second s needs
/// r(s) = ceil(d(s) / replica_qps) ready replicas (at most `max_replicas`, when given: then the
/// rest is over capacity whatever one does). A replica started at second a is *on* (costs) at
/// seconds a, a+1, … until removed and *ready* at seconds >= a + D (D = startup_delay); replicas
/// on at second 0 are ready (the same warm start the simulator gives its initial replicas).
/// Cost = sum over seconds of replicas on x units_per_replica.
///
/// ## Answer: on(t) = n(t) = max{ r(u) : t <= u <= min(t + D, N - 1) }
///
/// **Lower bound.** Take any feasible schedule and a second u. At u at least r(u) replicas are
/// ready; each was started at some a <= u - D (or was on at 0) and stayed on until u, because a
/// removed replica is gone. So each of them is on during every second of [max(0, u - D), u]: any
/// second t has at least r(u) replicas on for every u in [t, t + D], i.e. on(t) >= n(t), and the
/// cost is at least sum n(t).
///
/// **Achieved.** Stack replicas in slots j = 1, 2, …; slot j is on exactly at seconds with
/// n(t) >= j (so on(t) = n(t)). If r(u) >= j then n(t) >= j for all t in [max(0, u - D), u], so
/// slot j has been on without a break since u - D (or since 0): its replica is ready at u, and
/// every second has r(u) ready replicas. Both bounds meet: the schedule is optimal.
///
/// This is the per-slot interval argument in closed form: slot j's need intervals are the runs of
/// r >= j; it is started D seconds before each run, and two runs separated by a gap g <= D merge
/// (restarting would cost the same D seconds of startup as keeping it on for the gap; for g > D
/// switching off saves g - D). The look-ahead maximum does exactly that for every slot at once.
/// Ready replicas under it: ready(t) = min{ n(v) : max(0, t - D) <= v <= t }.
///
/// Computed with two monotonic-deque sliding windows: O(N) time, three int arrays of N.
///
/// The oracle works per second (not per tick) and at utilization 1.0 (a replica serves its full
/// rated QPS), so no policy can be cheaper while serving everything. With several services
/// sharing a capacity the per-service oracles are each a lower bound, but together they may not
/// fit; the simulator reports them per service.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "qfscale/metrics/trace.h"
#include "qfscale/model/units.h"
#include "qfscale/sim/simulator.h"
#include "qfscale/util/result.h"

namespace qfscale::sim {

struct OracleOptions {
  std::chrono::seconds startup_delay{90};       ///< >= 0
  std::optional<model::Replicas> max_replicas;  ///< e.g. min(policy max, capacity / units)
  bool keep_schedule = false;                   ///< fill OracleResult::on / ready
};

struct OracleResult {
  Summary summary;         ///< scale_operations: seconds at which on(t) differs from on(t-1)
  std::vector<int> on;     ///< per second, replicas on (starting included); if keep_schedule
  std::vector<int> ready;  ///< per second, ready replicas; if keep_schedule
  friend bool operator==(const OracleResult&, const OracleResult&) = default;
};

/// Replicas of `replica_qps` each that serve `demand`: the least n with n x replica_qps >= demand
/// (computed so that it agrees exactly with the over-capacity test, without rounding slips).
[[nodiscard]] int replicas_needed(double demand, double replica_qps);

/// The optimal schedule for one service (see above). Fails with InvalidInput on replica_qps
/// <= 0 or not finite, units_per_replica < 1, startup_delay < 0 or max_replicas < 0.
/// Thread-safety: a pure function.
[[nodiscard]] Result<OracleResult> oracle(const metrics::Trace& trace, double replica_qps,
                                          model::ComputeUnits units_per_replica,
                                          const OracleOptions& options);

}  // namespace qfscale::sim
