#include "qfscale/sim/queue.h"

#include <algorithm>
#include <cstddef>

#include <fmt/format.h>

#include "qfscale/util/check.h"

namespace qfscale::sim {

Status validate(const QueueOptions& options) {
  const auto slo = options.slo_wait.count();
  const auto abandon = options.abandon_after.count();
  if (slo < 0) {
    return fail(ErrorCode::InvalidInput, fmt::format("queue: slo wait {}s must be >= 0", slo));
  }
  if (abandon <= slo) {
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("queue: abandon after {}s must be longer than the slo wait {}s", abandon, slo));
  }
  if (abandon > kMaxAbandonAfter.count()) {
    return fail(ErrorCode::InvalidInput, fmt::format("queue: abandon after {}s must be at most {}s",
                                                     abandon, kMaxAbandonAfter.count()));
  }
  return util::ok();
}

double QueueStats::attainment_pct() const {
  return requests > 0 ? 100.0 * (requests - late) / requests : 100.0;
}

std::int64_t QueueStats::wait_percentile(double p) const {
  double total = 0;
  for (double w : waits) total += w;
  if (!(total > 0)) return 0;
  // Summed in the same order as `total`, so the last cumulative value equals it exactly and
  // some w always reaches p x total (p <= 1).
  const double rank = p * total;
  double cumulative = 0;
  for (std::size_t w = 0; w < waits.size(); ++w) {
    cumulative += waits[w];
    if (waits[w] > 0 && cumulative >= rank) return static_cast<std::int64_t>(w);
  }
  return wait_max();
}

std::int64_t QueueStats::wait_max() const {
  for (std::size_t w = waits.size(); w > 0; --w) {
    if (waits[w - 1] > 0) return static_cast<std::int64_t>(w - 1);
  }
  return 0;
}

void QueueStats::add(const QueueStats& other) {
  requests += other.requests;
  served += other.served;
  late += other.late;
  abandoned += other.abandoned;
  backlog_max += other.backlog_max;
  if (waits.empty()) {
    waits = other.waits;
    return;
  }
  QFS_CHECK(other.waits.empty() || other.waits.size() == waits.size(),
            "queue stats added with different abandon_after");
  for (std::size_t w = 0; w < other.waits.size(); ++w) waits[w] += other.waits[w];
}

FifoQueue::FifoQueue(const QueueOptions& options)
    : slo_wait_(options.slo_wait.count()), abandon_after_(options.abandon_after.count()) {
  QFS_CHECK(validate(options).has_value(), "queue options not validated");
  ring_.assign(static_cast<std::size_t>(abandon_after_), 0.0);
  stats_.waits.assign(static_cast<std::size_t>(abandon_after_) + 1, 0.0);
}

void FifoQueue::queue_and_serve(double arrivals, double capacity) {
  const std::int64_t s = now_++;
  if (head_ == s) {  // the queue was empty: the slots start here
    now_slot_ = static_cast<std::size_t>(s % abandon_after_);
    head_slot_ = now_slot_;
  }
  const std::size_t slot = now_slot_;  // second s's, and second s - abandon_after's
  now_slot_ = next(now_slot_);
  // What is left of the bucket of s - abandon_after has waited its full time and leaves. (head_
  // never falls behind s - abandon_after: each second passes at most this one bucket.)
  if (head_ == s - abandon_after_) {
    const double left = ring_[slot];
    if (left > 0) {
      stats_.abandoned += left;
      stats_.late += left;
      stats_.waits.back() += left;
      backlog_ -= left;
    }
    ring_[slot] = 0;
    pop_head();
  }
  stats_.requests += arrivals;
  ring_[slot] = arrivals;
  backlog_ += arrivals;
  // Oldest first. Every pop passes a bucket for good, at most once per second overall.
  while (capacity > 0 && head_ <= s) {
    double& queued = ring_[head_slot_];
    const double take = std::min(queued, capacity);
    if (take > 0) {
      const std::int64_t wait = s - head_;
      stats_.served += take;
      stats_.waits[static_cast<std::size_t>(wait)] += take;
      if (wait > slo_wait_) stats_.late += take;
      backlog_ -= take;
      capacity -= take;
    }
    if (take < queued) {
      queued -= take;  // capacity is used up
    } else {
      queued = 0;
      pop_head();
    }
  }
  // With whole numbers this is exact; with fractions, 0 once every bucket is empty.
  if (head_ > s) backlog_ = 0;
  stats_.backlog_max = std::max(stats_.backlog_max, backlog_);
}

QueueStats FifoQueue::stats() const {
  QueueStats out = stats_;
  out.requests += served_at_once_;
  out.served += served_at_once_;
  out.waits[0] += served_at_once_;
  return out;
}

bool FifoQueue::empty() {
  while (head_ < now_ && ring_[head_slot_] == 0) pop_head();
  return head_ == now_;
}

void FifoQueue::drain(double capacity) {
  while (!empty()) second(0, capacity);
}

}  // namespace qfscale::sim
