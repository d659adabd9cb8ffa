#pragma once

/// Seeded synthetic traffic for the built-in demo, tests, benchmarks and
/// `qfscale loadgen --synthetic`. The rate at second t is
///
///   base * (1 + amplitude * cos(2π (t - peak_at) / period)) * noise(t) * burst(t)
///
/// where noise(t) is log-normal with mean 1 and log-sigma `noise`, and burst(t) is `burst_height`
/// while a burst is active, else 1. Bursts start at any second with probability
/// `bursts_per_hour / 3600` and last `burst_duration`. Every random draw is a hash of
/// (seed, stream, second), so `rate_at` is random access, `series` equals `rate_at` second by
/// second, and the output is the same on every platform for a seed (no std distributions).
/// Without bursts the mean over a whole period is `base`.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "qfscale/demand/qps_source.h"
#include "qfscale/trace/trace.h"
#include "qfscale/util/result.h"

namespace qfscale::demand {

struct SyntheticConfig {
  std::uint64_t seed = 1;
  double base_qps = 10.0;                   ///< mean level, >= 0
  double amplitude = 0.5;                   ///< diurnal swing relative to base, in [0, 1]
  std::chrono::seconds period{86'400};      ///< diurnal period, > 0
  std::chrono::seconds peak_at{72'000};     ///< offset within the period of the peak (20:00)
  double noise = 0.1;                       ///< log-sigma of the multiplicative noise, [0, 2]
  double bursts_per_hour = 1.0;             ///< expected burst starts per hour, [0, 3600]
  double burst_height = 3.0;                ///< rate multiplier during a burst, >= 1
  std::chrono::seconds burst_duration{60};  ///< > 0 when bursts_per_hour > 0, <= 1 day
};

/// A validated generator. Thread-safety: immutable; safe to share across threads.
class SyntheticTraffic {
 public:
  /// Fails with InvalidInput naming the field and allowed range.
  [[nodiscard]] static Result<SyntheticTraffic> create(SyntheticConfig config);

  [[nodiscard]] const SyntheticConfig& config() const { return config_; }

  /// QPS during second `second` of stream `stream` (independent streams for several services
  /// from one seed). Defined for any second, negative too.
  [[nodiscard]] double rate_at(std::int64_t second, std::uint64_t stream = 0) const;

  /// Seconds [0, seconds) of stream `stream`; equal to `rate_at` per second (as float), O(n).
  [[nodiscard]] std::vector<float> series(std::size_t seconds, std::uint64_t stream = 0) const;

  /// The series as a Trace.
  [[nodiscard]] trace::Trace trace(std::size_t seconds, std::uint64_t stream = 0) const;

  /// A stable stream number for a name (FNV-1a), so each service gets its own traffic.
  [[nodiscard]] static std::uint64_t stream_for(std::string_view name);

 private:
  explicit SyntheticTraffic(SyntheticConfig config) : config_(config) {}
  [[nodiscard]] double envelope(std::int64_t second) const;
  [[nodiscard]] double noise_factor(std::int64_t second, std::uint64_t stream) const;
  [[nodiscard]] bool burst_starts(std::int64_t second, std::uint64_t stream) const;

  SyntheticConfig config_;
};

/// Synthetic traffic as a QpsSource: service s reads stream `stream_for(s.value)` at second
/// floor(now - start). Times before `start` are `missing`. Samples are stamped `now`.
/// Thread-safety: `read` is safe to call concurrently.
class SyntheticQpsSource final : public QpsSource {
 public:
  SyntheticQpsSource(SyntheticTraffic traffic, util::SystemTime start)
      : traffic_(traffic), start_(start) {}

  [[nodiscard]] std::vector<QpsReading> read(std::span<const model::ServiceId> services,
                                             util::SystemTime now) override;

 private:
  SyntheticTraffic traffic_;
  util::SystemTime start_;
};

}  // namespace qfscale::demand
