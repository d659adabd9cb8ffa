#include "qfscale/sim/floor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

namespace qfscale::sim {
namespace {

struct Band {
  double density = 0;  ///< requests served per replica-second
  double cost = 0;     ///< replica-seconds
  double served = 0;   ///< requests
};

/// Whole bands of width q below v: the largest k with k x q <= v, exact in doubles.
std::int64_t full_bands(double v, double q) {
  auto k = static_cast<std::int64_t>(std::floor(v / q));
  while (static_cast<double>(k + 1) * q <= v) ++k;
  while (k > 0 && static_cast<double>(k) * q > v) --k;
  return k;
}

/// Appends the bands of one segment; `values` is sorted in descending order.
void add_segment_bands(std::span<const double> values, double q, std::vector<Band>& out) {
  const auto len = static_cast<double>(values.size());
  std::size_t above = values.size();  // values > lo
  std::size_t full = values.size();   // values >= hi: the whole band of each is served
  std::int64_t n = 0;
  for (;;) {
    const double lo = static_cast<double>(n) * q;
    const double hi = static_cast<double>(n + 1) * q;
    // Both counts only shrink as the band rises: O(len) over all bands of the segment.
    while (above > 0 && values[above - 1] <= lo) --above;
    if (above == 0) return;
    full = std::min(full, above);
    while (full > 0 && values[full - 1] < hi) --full;
    double partial = 0;
    for (std::size_t i = full; i < above; ++i) partial += values[i] - lo;
    const double gain = static_cast<double>(full) * q + partial;
    // With no value inside the band, the next bands serve the same until the smallest value
    // above is reached: one merged item for all of them.
    const std::int64_t run =
        full == above ? std::max<std::int64_t>(1, full_bands(values[above - 1], q) - n) : 1;
    out.push_back(Band{.density = gain / len,
                       .cost = static_cast<double>(run) * len,
                       .served = static_cast<double>(run) * gain});
    n += run;
  }
}

}  // namespace

Result<OverCapacityFloor> OverCapacityFloor::build(std::span<const float> demand,
                                                   double replica_qps, std::chrono::seconds tick,
                                                   std::chrono::seconds startup_delay) {
  if (!std::isfinite(replica_qps) || replica_qps <= 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("floor: replica_qps {} must be a finite number > 0", replica_qps));
  }
  if (tick.count() <= 0) {
    return fail(ErrorCode::InvalidInput, fmt::format("floor: tick {}s must be > 0", tick.count()));
  }
  if (startup_delay.count() < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("floor: startup delay {}s must be >= 0", startup_delay.count()));
  }
  // Band edges n x q must stay exact integers times q in a double (and n fit an int64).
  constexpr double kMaxBands = 9007199254740992.0;  // 2^53
  const float peak = demand.empty() ? 0.0F : *std::max_element(demand.begin(), demand.end());
  if (!(static_cast<double>(peak) / replica_qps < kMaxBands)) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("floor: peak demand {} / replica_qps {} is more than 2^53 replicas",
                            peak, replica_qps));
  }
  const auto n = static_cast<std::int64_t>(demand.size());
  // Segment starts: 0, every tick, and every tick + startup delay (when a scale-up gets ready).
  std::vector<char> starts(demand.size() + 1, 0);
  starts[0] = 1;
  for (std::int64_t t = tick.count(); t < n; t += tick.count()) {
    starts[static_cast<std::size_t>(t)] = 1;
    if (t + startup_delay.count() < n) {
      starts[static_cast<std::size_t>(t + startup_delay.count())] = 1;
    }
  }
  starts[demand.size()] = 1;

  OverCapacityFloor f;
  std::vector<Band> bands;
  std::vector<double> segment;
  std::size_t begin = 0;
  for (std::size_t s = 1; s <= demand.size(); ++s) {
    if (!starts[s]) continue;
    segment.assign(demand.begin() + static_cast<std::ptrdiff_t>(begin),
                   demand.begin() + static_cast<std::ptrdiff_t>(s));
    for (const double v : segment) f.requests_total_ += v;
    std::sort(segment.begin(), segment.end(), std::greater<>());
    add_segment_bands(segment, replica_qps, bands);
    begin = s;
  }
  // Ties in density may come in any order: equal density means the same requests per cost.
  std::sort(bands.begin(), bands.end(),
            [](const Band& a, const Band& b) { return a.density > b.density; });
  f.cost_prefix_.reserve(bands.size());
  f.served_prefix_.reserve(bands.size());
  double cost = 0, served = 0;
  for (const auto& b : bands) {
    cost += b.cost;
    served += b.served;
    f.cost_prefix_.push_back(cost);
    f.served_prefix_.push_back(served);
  }
  return f;
}

double OverCapacityFloor::at(double replica_seconds) const {
  if (!(replica_seconds > 0) || cost_prefix_.empty()) return requests_total_;
  // Bands wholly within the budget, then the next one in part.
  const auto whole = static_cast<std::size_t>(
      std::upper_bound(cost_prefix_.begin(), cost_prefix_.end(), replica_seconds) -
      cost_prefix_.begin());
  // Every band taken serves every request; exactly 0, not a rounding remainder.
  if (whole == cost_prefix_.size()) return 0;
  const double cost_before = whole > 0 ? cost_prefix_[whole - 1] : 0;
  const double served_before = whole > 0 ? served_prefix_[whole - 1] : 0;
  const double fraction = (replica_seconds - cost_before) / (cost_prefix_[whole] - cost_before);
  const double served = served_before + fraction * (served_prefix_[whole] - served_before);
  return std::max(0.0, requests_total_ - served);
}

}  // namespace qfscale::sim
