#include "qfscale/demand/synthetic.h"

#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace qfscale::demand {

namespace {

/// SplitMix64 finaliser: a bijective 64-bit mix, specified bit for bit.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31U);
}

enum class Draw : std::uint64_t { Noise1 = 1, Noise2 = 2, Burst = 3 };

/// A uniform draw in [0, 1) that depends only on (seed, stream, second, purpose).
double uniform(std::uint64_t seed, std::uint64_t stream, std::int64_t second, Draw purpose) {
  const std::uint64_t h = mix(mix(mix(seed ^ static_cast<std::uint64_t>(purpose)) ^ stream) ^
                              static_cast<std::uint64_t>(second));
  return static_cast<double>(h >> 11U) * 0x1.0p-53;
}

}  // namespace

Result<SyntheticTraffic> SyntheticTraffic::create(SyntheticConfig config) {
  std::vector<std::string> problems;
  const auto range = [&](std::string_view field, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) {
      problems.push_back(fmt::format("{}: {} is out of range [{}, {}]", field, v, lo, hi));
    }
  };
  range("base_qps", config.base_qps, 0, 1e9);
  range("amplitude", config.amplitude, 0, 1);
  range("noise", config.noise, 0, 2);
  range("bursts_per_hour", config.bursts_per_hour, 0, 3600);
  range("burst_height", config.burst_height, 1, 1000);
  if (config.period <= std::chrono::seconds::zero()) {
    problems.push_back(fmt::format("period: {} s must be > 0", config.period.count()));
  }
  if (config.bursts_per_hour > 0 && (config.burst_duration <= std::chrono::seconds::zero() ||
                                     config.burst_duration > std::chrono::hours{24})) {
    problems.push_back(fmt::format("burst_duration: {} s is out of range (0, 86400]",
                                   config.burst_duration.count()));
  }
  if (!problems.empty()) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("synthetic traffic: {}", fmt::join(problems, "; ")));
  }
  return SyntheticTraffic(config);
}

double SyntheticTraffic::envelope(std::int64_t second) const {
  // Reduce in integers first so that far-away seconds keep full precision. Over whole periods
  // the cosine over integer seconds sums to exactly zero, so the mean is base_qps.
  const std::int64_t period = config_.period.count();
  std::int64_t r = (second - config_.peak_at.count()) % period;
  if (r < 0) {
    r += period;
  }
  const double phase =
      2.0 * std::numbers::pi * static_cast<double>(r) / static_cast<double>(period);
  return config_.base_qps * (1.0 + config_.amplitude * std::cos(phase));
}

double SyntheticTraffic::noise_factor(std::int64_t second, std::uint64_t stream) const {
  if (config_.noise == 0) {
    return 1.0;
  }
  // Box-Muller from two hashed uniforms, then a log-normal factor with mean exactly 1:
  // E[exp(sigma Z - sigma^2/2)] = 1.
  const double u1 = 1.0 - uniform(config_.seed, stream, second, Draw::Noise1);  // (0, 1]
  const double u2 = uniform(config_.seed, stream, second, Draw::Noise2);
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  const double sigma = config_.noise;
  return std::exp(sigma * z - sigma * sigma / 2.0);
}

bool SyntheticTraffic::burst_starts(std::int64_t second, std::uint64_t stream) const {
  if (config_.bursts_per_hour <= 0) {
    return false;
  }
  return uniform(config_.seed, stream, second, Draw::Burst) < config_.bursts_per_hour / 3600.0;
}

double SyntheticTraffic::rate_at(std::int64_t second, std::uint64_t stream) const {
  bool burst = false;
  if (config_.bursts_per_hour > 0) {
    for (std::int64_t k = second - config_.burst_duration.count() + 1; k <= second && !burst; ++k) {
      burst = burst_starts(k, stream);
    }
  }
  return envelope(second) * noise_factor(second, stream) * (burst ? config_.burst_height : 1.0);
}

std::vector<float> SyntheticTraffic::series(std::size_t seconds, std::uint64_t stream) const {
  std::vector<float> out(seconds);
  const std::int64_t duration = config_.bursts_per_hour > 0 ? config_.burst_duration.count() : 0;
  // Sliding count of burst starts in (s - duration, s].
  std::int64_t active = 0;
  for (std::int64_t k = -duration + 1; k < 0; ++k) {
    active += burst_starts(k, stream) ? 1 : 0;
  }
  for (std::size_t i = 0; i < seconds; ++i) {
    const auto s = static_cast<std::int64_t>(i);
    if (duration > 0) {
      active += burst_starts(s, stream) ? 1 : 0;
      if (s >= 1 && burst_starts(s - duration, stream)) {
        --active;
      }
    }
    const double burst = active > 0 ? config_.burst_height : 1.0;
    out[i] = static_cast<float>(envelope(s) * noise_factor(s, stream) * burst);
  }
  return out;
}

trace::Trace SyntheticTraffic::trace(std::size_t seconds, std::uint64_t stream) const {
  return trace::Trace(series(seconds, stream));
}

std::uint64_t SyntheticTraffic::stream_for(std::string_view name) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

std::vector<QpsReading> SyntheticQpsSource::read(std::span<const model::ServiceId> services,
                                                 util::SystemTime now) {
  std::vector<QpsReading> out;
  out.reserve(services.size());
  for (const auto& service : services) {
    if (now < start_) {
      out.emplace_back(tl::unexpected(
          QpsFailure{.kind = FailureKind::Missing, .message = "synthetic traffic not started"}));
      continue;
    }
    const auto second = std::chrono::floor<std::chrono::seconds>(now - start_).count();
    out.emplace_back(
        QpsSample{.qps = traffic_.rate_at(second, SyntheticTraffic::stream_for(service.value)),
                  .timestamp = now,
                  .span = std::chrono::seconds{1}});
  }
  return out;
}

}  // namespace qfscale::demand
