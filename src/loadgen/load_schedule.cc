#include "qfscale/loadgen/load_schedule.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include <fmt/format.h>

namespace qfscale::loadgen {
namespace {

constexpr std::int64_t kMicros = 1'000'000;

/// A rate in millionths of a request per second: exact integer arithmetic from here on.
std::int64_t rate_micros(double rate) {
  if (!std::isfinite(rate) || rate <= 0) return 0;
  if (rate > kMaxScheduleRate) rate = kMaxScheduleRate;
  return std::llround(rate * static_cast<double>(kMicros));
}

}  // namespace

LoadSchedule::LoadSchedule(RateFunction rate, std::optional<std::int64_t> length, double speedup)
    : rate_(std::move(rate)), length_(length), speedup_(speedup) {}

Result<LoadSchedule> LoadSchedule::create(RateFunction rate, std::optional<std::int64_t> length,
                                          double speedup) {
  if (!rate) return fail(ErrorCode::InvalidInput, "load schedule: no rate function");
  if (!std::isfinite(speedup) || speedup < kMinSpeedup || speedup > kMaxSpeedup) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("speedup: {} is out of range, must be {} to {}", speedup, kMinSpeedup,
                            kMaxSpeedup));
  }
  if (length && *length < 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("load schedule length: {} s is negative", *length));
  }
  return LoadSchedule(std::move(rate), length, speedup);
}

Result<LoadSchedule> LoadSchedule::for_trace(const trace::Trace& trace, double speedup) {
  auto shared = std::make_shared<const trace::Trace>(trace);
  return create(
      [shared](std::int64_t second) -> double {
        const auto values = shared->per_second();
        if (second < 0 || static_cast<std::size_t>(second) >= values.size()) return 0.0;
        return values[static_cast<std::size_t>(second)];
      },
      static_cast<std::int64_t>(trace.size()), speedup);
}

std::chrono::microseconds LoadSchedule::second_start(std::int64_t second) const {
  return std::chrono::microseconds{static_cast<std::int64_t>(
      std::floor(static_cast<double>(second) * static_cast<double>(kMicros) / speedup_))};
}

std::chrono::microseconds LoadSchedule::due(std::int64_t second, std::uint64_t index,
                                            std::uint64_t count) const {
  // The first request is the second's start exactly, so seek() and due() agree on it.
  if (index == 0) return second_start(second);
  // (k n + i) / (n speedup) in one division: whole results (50 of 1000 at 1000 qps = 50 ms)
  // come out exact instead of a hair below.
  const auto n = static_cast<double>(count);
  const double numerator =
      (static_cast<double>(second) * n + static_cast<double>(index)) * static_cast<double>(kMicros);
  const std::chrono::microseconds at{
      static_cast<std::int64_t>(std::floor(numerator / (n * speedup_)))};
  // Two formulas may round apart by a microsecond at extreme rates; never before the start.
  return std::max(at, second_start(second));
}

bool LoadSchedule::seek(std::chrono::microseconds horizon) {
  while (index_ >= count_) {
    const std::int64_t next = second_ + 1;
    if (length_ && next >= *length_) return false;
    if (second_start(next) >= horizon) return false;
    // Whole requests of this second plus what the carried fractions add up to.
    const std::int64_t micros = rate_micros(rate_(next)) + carry_micros_;
    count_ = static_cast<std::uint64_t>(micros / kMicros);
    carry_micros_ = micros % kMicros;
    index_ = 0;
    second_ = next;
  }
  return true;
}

std::uint64_t LoadSchedule::take(std::chrono::microseconds until) {
  std::uint64_t n = 0;
  while (seek(until)) {
    // Due times rise with the index: binary search for the first one not before `until`, so a
    // second of a million requests costs 20 steps, not a million.
    std::uint64_t lo = index_;
    std::uint64_t hi = count_;
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      if (due(second_, mid, count_) < until) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    n += lo - index_;
    index_ = lo;
    if (index_ < count_) break;  // the rest of this second is not due yet
  }
  taken_ += n;
  return n;
}

std::optional<std::chrono::microseconds> LoadSchedule::next_due(std::chrono::microseconds horizon) {
  if (!seek(horizon)) return std::nullopt;
  const auto at = due(second_, index_, count_);
  if (at >= horizon) return std::nullopt;
  return at;
}

bool LoadSchedule::finished() const {
  return length_ && index_ >= count_ && second_ + 1 >= *length_;
}

std::optional<std::chrono::microseconds> LoadSchedule::wall_length() const {
  if (!length_) return std::nullopt;
  return std::chrono::microseconds{static_cast<std::int64_t>(
      std::ceil(static_cast<double>(*length_) * static_cast<double>(kMicros) / speedup_))};
}

}  // namespace qfscale::loadgen
