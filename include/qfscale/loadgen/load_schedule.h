#pragma once

/// When `qfscale loadgen` sends each request: a pure, clock-free schedule over a per-second rate
/// (a trace, or synthetic traffic) played `speedup` times faster than recorded.
///
/// Counting: the first k trace seconds hold floor(r_0 + ... + r_{k-1}) requests, so the
/// fractional parts carry from second to second and a trace's long-run count is exact:
/// 0.5 qps gives 0, 1, 0, 1, ... requests per second, and 1.5 then 2.5 gives 1 then 3. Rates
/// are summed in millionths of a request, exactly, so float traces (0.7 stored as
/// 0.69999998807907) do not lose a request to rounding.
///
/// Spacing: the n requests of trace second k are spread evenly at trace times k + i/n
/// (i = 0..n-1), which play at wall offset (k + i/n) / speedup from the start, rounded down to
/// a microsecond. Speedup 60 plays one trace minute per wall second.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "qfscale/trace/trace.h"
#include "qfscale/util/result.h"

namespace qfscale::loadgen {

/// Requests per second during trace second `second` (>= 0). Values that are not finite or are
/// negative count as 0, values above `kMaxScheduleRate` as that.
using RateFunction = std::function<double(std::int64_t second)>;

/// A billion requests per second: far above any real endpoint; keeps a rate in millionths of a
/// request well inside 64 bits.
inline constexpr double kMaxScheduleRate = 1e9;
/// Speedups outside [0.001, 1e6] are refused: slower would push send times of long traces past
/// 64-bit microseconds, faster is below the microsecond resolution of the schedule.
inline constexpr double kMinSpeedup = 0.001;
inline constexpr double kMaxSpeedup = 1e6;

/// A cursor over the send times of one stream of requests. Deterministic: the same inputs and
/// calls give the same answers. Thread-safety: a value type; not synchronised.
class LoadSchedule {
 public:
  /// `length`: trace seconds to play; empty plays forever. InvalidInput when `speedup` is
  /// outside [kMinSpeedup, kMaxSpeedup], `length` is negative or `rate` is empty.
  [[nodiscard]] static Result<LoadSchedule> create(RateFunction rate,
                                                   std::optional<std::int64_t> length,
                                                   double speedup);
  /// The whole trace, `trace.size()` seconds.
  [[nodiscard]] static Result<LoadSchedule> for_trace(const trace::Trace& trace, double speedup);

  /// Consumes and returns the requests due before wall offset `until` (from the start).
  [[nodiscard]] std::uint64_t take(std::chrono::microseconds until);

  /// Wall offset of the next request when it is due before `horizon`; empty otherwise (or when
  /// the schedule has ended). Looks no further than `horizon`, so it ends on an endless
  /// all-zero rate.
  [[nodiscard]] std::optional<std::chrono::microseconds> next_due(
      std::chrono::microseconds horizon);

  /// True once every request of a bounded schedule has been taken.
  [[nodiscard]] bool finished() const;
  /// Wall length of a bounded schedule: length / speedup, rounded up to a microsecond.
  [[nodiscard]] std::optional<std::chrono::microseconds> wall_length() const;
  /// Requests taken so far.
  [[nodiscard]] std::uint64_t taken() const { return taken_; }
  [[nodiscard]] double speedup() const { return speedup_; }

 private:
  LoadSchedule(RateFunction rate, std::optional<std::int64_t> length, double speedup);
  /// Moves to the next second with a request to send, not looking past wall offset `horizon`.
  /// False when there is none before the horizon (or at all).
  bool seek(std::chrono::microseconds horizon);
  [[nodiscard]] std::chrono::microseconds due(std::int64_t second, std::uint64_t index,
                                              std::uint64_t count) const;
  [[nodiscard]] std::chrono::microseconds second_start(std::int64_t second) const;

  RateFunction rate_;
  std::optional<std::int64_t> length_;
  double speedup_ = 1.0;
  std::int64_t second_ = -1;       ///< current trace second; -1 before the first
  std::uint64_t count_ = 0;        ///< requests in the current second
  std::uint64_t index_ = 0;        ///< next request within the current second
  std::int64_t carry_micros_ = 0;  ///< fractional requests carried, in 1e-6 requests, < 1e6
  std::uint64_t taken_ = 0;
};

}  // namespace qfscale::loadgen
