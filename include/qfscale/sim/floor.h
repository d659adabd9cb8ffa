#pragma once

/// The over-capacity floor: for a budget of replica-seconds, the fewest requests over capacity
/// that ANY controller acting at the simulator's ticks could leave for one service, even one that
/// knows the future and is not charged for replicas while they start. `qfscale simulate` reports it
/// at each policy's own cost, so an operator sees how much of a policy's unserved demand was
/// avoidable at that price and how much no policy could avoid; the oracle answers the other
/// question (the least cost that serves everything).
///
/// ## Why it is a lower bound
///
/// A controller changes replicas only at ticks t = k x tick. A replica started at a tick is ready
/// `startup_delay` later; one removed at a tick is gone at once. So the READY count is constant
/// on every segment between consecutive points of {0, N} ∪ {k x tick} ∪ {k x tick + delay}
/// (N = trace length). With c ready replicas of `replica_qps` = q on a segment, its requests over
/// capacity are sum over its seconds of max(0, d(s) - c x q), and a replica ready for a second is
/// also on (paid) for it. Hence any such controller with R replica-seconds of cost has ready
/// counts c_j with sum c_j x len_j <= R, and over capacity >= the minimum of
///   sum_j sum_{s in j} max(0, d(s) - c_j x q)   subject to   sum_j c_j x len_j <= R,
/// relaxed to real c_j >= 0 (a relaxation only lowers the minimum). The bound drops everything
/// else a controller must obey (startup cost, policy limits, capacity, not knowing the future).
///
/// ## How it is solved
///
/// Raising c_j through the band [n x q, (n+1) x q] serves g_j(n) = sum_s clamp(d(s) - n x q,
/// 0, q) more requests for len_j replica-seconds, and g_j(n) does not grow with n. The relaxed
/// problem is therefore a fractional knapsack over all bands whose best answer takes bands in
/// order of served requests per replica-second (the band order inside a segment comes for
/// free), the last one in part. Bands of equal gain (no d(s) inside them) are merged, so a
/// segment gives at most 2 x len_j items however small q is: O(N log N) to build (sorting each
/// segment, then all bands), then O(log N) per budget.

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

#include "qfscale/util/result.h"

namespace qfscale::sim {

/// Thread-safety: immutable after `build`; `at` may be called from any thread.
class OverCapacityFloor {
 public:
  /// Fails with InvalidInput on replica_qps <= 0 or not finite, tick <= 0, startup_delay < 0, or
  /// a peak that needs more than 2^53 replicas (band edges would no longer be exact).
  [[nodiscard]] static Result<OverCapacityFloor> build(std::span<const float> demand,
                                                       double replica_qps,
                                                       std::chrono::seconds tick,
                                                       std::chrono::seconds startup_delay);

  /// The floor, in requests, for a cost of `replica_seconds` (replicas on x seconds, starting
  /// ones included): the total demand at 0, non-increasing, 0 once every second can be served.
  [[nodiscard]] double at(double replica_seconds) const;

  [[nodiscard]] double requests_total() const { return requests_total_; }
  /// Items the bound was built from (merged bands); for tests and benchmarks.
  [[nodiscard]] std::size_t items() const { return cost_prefix_.size(); }

 private:
  double requests_total_ = 0;
  /// Per band in the order taken: cumulative cost and cumulative requests served, both
  /// including the band.
  std::vector<double> cost_prefix_;
  std::vector<double> served_prefix_;
};

}  // namespace qfscale::sim
