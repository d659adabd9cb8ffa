#pragma once

/// Seeded randomness (jitter, synthetic traffic). Tests and the simulator pass fixed seeds.

#include <cstdint>
#include <random>

namespace qfscale::util {

/// Thread-safety: not thread-safe; give each thread its own or guard it.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  virtual ~Random() = default;
  Random(const Random&) = delete;
  Random& operator=(const Random&) = delete;
  Random(Random&&) = default;
  Random& operator=(Random&&) = default;

  /// Uniform in [0, 1).
  [[nodiscard]] virtual double uniform01() {
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  }
  /// Uniform integer in [lo, hi].
  [[nodiscard]] std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(engine_);
  }
  [[nodiscard]] std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace qfscale::util
