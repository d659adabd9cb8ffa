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
/// rated QPS), so no policy can be cheaper while serving everything: a policy whose cost is below
/// the oracle's leaves requests unserved (under-provisioned), it is not better.
///
/// Utilization p50/p99 are over the seconds with demand > 0 and a ready replica: idle seconds
/// are left out, so that a sparse trace does not show 0.00 (the simulator counts the same way).
///
/// ## Shared capacity: C units over several services
///
/// The lower bound above holds for each service in any schedule that serves everything, so if
/// sum_i n_i(t) x u_i <= C at every second (u_i = units_per_replica), the per-service answers
/// fit together and are jointly optimal. If the sum exceeds C at some second t, *no* schedule
/// within C serves every request: each service i needs n_i(t) replicas on at t. The oracle is
/// then capacity-bound: `fit_to_capacity` cuts each such second to C the way the allocator would
/// (capacity::allocate with desired = on_i(t): priority classes first, weighted fair shares
/// within a class), and `schedule_result` recomputes ready(t) = min on over [t - D, t] (a slot
/// cut at one second restarts and waits D again) and the figures. The capped schedule never
/// exceeds C and serves what it can; past that it is a reference, not a proven optimum (neither
/// the cheapest nor the fewest-unserved schedule within C).
///
/// Worked numbers: two services, u = 1, qps 10, D = 0, C = 10, both with demand 80 at second 5
/// and 0 elsewhere. Alone each needs 8 replicas at second 5: together 16 > 10. Equal priority
/// and weight: the allocator grants 5 and 5, each serves 50 of 80, and the oracle leaves 60
/// requests over capacity instead of exceeding C by 6 units.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "qfscale/model/units.h"
#include "qfscale/sim/simulator.h"
#include "qfscale/trace/trace.h"
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
[[nodiscard]] Result<OracleResult> oracle(const trace::Trace& trace, double replica_qps,
                                          model::ComputeUnits units_per_replica,
                                          const OracleOptions& options);

/// The figures of a given schedule: `on` replicas on per second (one per trace second), ready
/// replicas ready(t) = min on over [max(0, t - D), t], and the summary as `oracle` computes it
/// (`oracle` is this at on = n). `on` and `ready` are kept in the result when keep_schedule.
/// Thread-safety: a pure function.
[[nodiscard]] OracleResult schedule_result(const trace::Trace& trace, double replica_qps,
                                           model::ComputeUnits units_per_replica,
                                           std::chrono::seconds startup_delay, std::vector<int> on,
                                           bool keep_schedule);

/// Cuts per-service schedules (`on[i]` for `services[i]`, replicas on per second) so that at
/// every second sum on[i] x units_per_replica <= `capacity`: at each second over it, the
/// allocator's grant (capacity::allocate, one instance of `capacity` units, desired = on[i],
/// min 0, the services' priority and weight). Returns the number of seconds cut (0: the
/// schedules fit and are unchanged). Fails as capacity::allocate does (weight < 1, ...).
/// Thread-safety: a pure function of its arguments; writes only `on`.
[[nodiscard]] Result<std::int64_t> fit_to_capacity(std::span<std::vector<int>> on,
                                                   std::span<const ServiceSpec> services,
                                                   model::ComputeUnits capacity);

}  // namespace qfscale::sim
