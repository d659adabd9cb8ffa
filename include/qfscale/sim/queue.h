#pragma once

/// The service model behind SLO attainment: a FIFO fluid queue in front of one service's ready
/// replicas, fed one second at a time by the simulator's per-second loop (simulator.h) and by the
/// oracle's replay (report.h).
///
/// ## Model (seconds are whole; amounts are fractional request counts, i.e. rates x 1 s)
///
/// - The requests of trace second s join the queue at the start of s, as one bucket.
/// - In each second s' the capacity of that second (ready replicas x replica_qps) serves the
///   oldest queued requests first. A request served in s' **waited** s' - s seconds.
/// - It is **late** when s' - s > slo_wait (a wait of exactly slo_wait is on time).
/// - A request still queued at the start of second s + abandon_after is **abandoned**: it
///   leaves unserved, takes no capacity, and counts as late. So served waits are
///   0 .. abandon_after - 1.
/// - After the last trace second the queue keeps draining (`drain`) at the last second's
///   capacity, under the same rules, until it is empty; that takes at most abandon_after
///   seconds, since by then every bucket has been served or abandoned (with capacity 0 every
///   remaining request is abandoned when its time comes).
///
/// Order within second s': abandon the bucket of s' - abandon_after if anything is left of it,
/// add the arrivals of s', serve.
///
/// ## Figures (QueueStats)
///
/// - late = served late + abandoned; slo attainment = 100 x (requests - late) / requests
///   (100 when there were no requests: nothing was late).
/// - Wait percentiles are request-weighted over the served requests plus the abandoned ones,
///   counted at a wait of abandon_after. Waits are whole seconds in this model, so they come
///   from the histogram: the nearest rank, i.e. the least w whose cumulative weight reaches
///   p x (served + abandoned). wait_max is the largest w with weight > 0 (abandon_after when
///   anything was abandoned); all three are 0 with no requests.
/// - backlog_max: the most requests left queued at the end of a second (carried into the next).
///
/// ## Worked numbers (capacity 4 per second)
///
/// Arrivals 10, 0, 0 with slo_wait 1 s, abandon_after 30 s: second 0 serves 4 at wait 0 (6
/// left), second 1 serves 4 at wait 1 (2 left), second 2 serves 2 at wait 2 > 1: late. So 2 of
/// 10 late, attainment 80%; waits {0: 4, 1: 4, 2: 2}: p50 is 1 (4 < 5 <= 8), p99 is 2 (9.9 > 8),
/// max 2; backlog_max 6.
///
/// The same with abandon_after 2 s: the 2 left of second 0's bucket are still queued at the
/// start of second 0 + 2, so they are abandoned instead of served: still 2 late and 80%, but
/// waits {0: 4, 1: 4, 2 (= abandon_after): 2}, served 8.
///
/// ## Cost
///
/// A ring of abandon_after buckets (one per second still able to hold requests) and a
/// histogram of abandon_after + 1 doubles, both allocated at construction; each bucket is
/// pushed once and popped once, so `second` is O(1) amortised and a trace of T seconds costs
/// O(T + abandon_after). Double arithmetic: with whole-number arrivals and capacities (below
/// 2^53) every figure is exact.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "qfscale/util/result.h"

namespace qfscale::sim {

/// Longest accepted abandon_after. Far beyond any client timeout; it bounds the ring and the
/// histogram (16 bytes per second of abandon_after per service).
inline constexpr std::chrono::seconds kMaxAbandonAfter{3600};

struct QueueOptions {
  std::chrono::seconds slo_wait{5};        ///< late when waited longer; >= 0
  std::chrono::seconds abandon_after{30};  ///< > slo_wait and <= kMaxAbandonAfter
  friend bool operator==(const QueueOptions&, const QueueOptions&) = default;
};

/// InvalidInput, worded with both values, when slo_wait < 0, abandon_after <= slo_wait or
/// abandon_after > kMaxAbandonAfter.
[[nodiscard]] Status validate(const QueueOptions& options);

/// What one queue (or several, summed with `add`) went through. Thread-safety: a value.
struct QueueStats {
  double requests = 0;   ///< arrived
  double served = 0;     ///< served within abandon_after
  double late = 0;       ///< served after waiting > slo_wait, plus abandoned
  double abandoned = 0;  ///< left unserved after abandon_after
  /// Most requests queued at the end of a second. For a sum of queues (`add`) the sum of the
  /// maxima: it bounds the peak of the total from above (peaks may not coincide).
  double backlog_max = 0;
  /// [w]: requests served after waiting w whole seconds, w < abandon_after;
  /// [abandon_after]: the abandoned ones. Empty in a default QueueStats (no queue ran).
  std::vector<double> waits;

  /// 100 x (requests - late) / requests; 100 with no requests.
  [[nodiscard]] double attainment_pct() const;
  /// Nearest-rank wait percentile in whole seconds, p in (0, 1] (see the header); 0 when empty.
  [[nodiscard]] std::int64_t wait_percentile(double p) const;
  /// The longest wait with weight > 0; 0 when empty.
  [[nodiscard]] std::int64_t wait_max() const;
  /// Adds another queue's figures (same abandon_after, or either empty): counts and histograms
  /// add up, so percentiles of the sum are exact over all requests of both.
  void add(const QueueStats& other);

  friend bool operator==(const QueueStats&, const QueueStats&) = default;
};

/// One service's queue. Feed it every second in order, then `drain` once.
/// Thread-safety: a value; not for concurrent use.
class FifoQueue {
 public:
  FifoQueue() : FifoQueue(QueueOptions{}) {}
  /// `options` must pass `validate` (checked: callers validate external input first).
  explicit FifoQueue(const QueueOptions& options);

  /// One second: abandon what has waited abandon_after, add `arrivals`, serve up to `capacity`
  /// (both >= 0).
  void second(double arrivals, double capacity) {
    // The common case, inline: nothing is queued and this second's arrivals fit its capacity.
    if (head_ == now_ && arrivals <= capacity) {
      served_at_once_ += arrivals;
      ++now_;
      ++head_;
      return;
    }
    queue_and_serve(arrivals, capacity);
  }

  /// Seconds without arrivals at `capacity` until the queue is empty (at most abandon_after).
  void drain(double capacity);

  /// Requests queued now (between seconds).
  [[nodiscard]] double backlog() const { return backlog_; }
  /// Requests late so far (served late or abandoned), without copying the histogram.
  [[nodiscard]] double late() const { return stats_.late; }
  /// The figures so far (complete after `drain`).
  [[nodiscard]] QueueStats stats() const;

 private:
  [[nodiscard]] std::size_t next(std::size_t slot) const {
    return slot + 1 == ring_.size() ? 0 : slot + 1;
  }
  void queue_and_serve(double arrivals, double capacity);
  void pop_head() {
    ++head_;
    head_slot_ = next(head_slot_);
  }
  [[nodiscard]] bool empty();

  // What the inline path touches comes first, together: with 1,000 services a simulator tick
  // visits every service's queue, and each extra cache line per visit showed in the bench.
  std::int64_t now_ = 0;   ///< the next second to run
  std::int64_t head_ = 0;  ///< oldest second whose bucket may still hold requests; = now_: empty
  /// Arrivals served in their own second by the inline path: requests, served and waits[0] of
  /// `stats()`, kept apart so that path updates one number.
  double served_at_once_ = 0;
  /// The slots of now_ and head_, valid while something is queued (head_ < now_). Stepped, not
  /// taken `%` abandon_after each second: set with one division when the queue stops being
  /// empty.
  std::size_t now_slot_ = 0;
  std::size_t head_slot_ = 0;
  std::int64_t slo_wait_;
  std::int64_t abandon_after_;
  /// The bucket of second s at [s mod abandon_after]; a finished bucket's slot holds 0.
  std::vector<double> ring_;
  double backlog_ = 0;
  QueueStats stats_;
};

}  // namespace qfscale::sim
