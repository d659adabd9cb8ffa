#pragma once

/// A QPS source for controller benchmarks: the reading of service k at the n-th `read` call is
/// `level(k, n)`, stamped `now`. Deterministic and allocation-light, so the benchmark measures
/// the controller and not a metric backend.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "qfscale/demand/qps_source.h"

namespace qfscale::bench {

/// Thread-safety: none; the controller reads from its tick thread only.
class BenchQpsSource final : public demand::QpsSource {
 public:
  using Level = std::function<double(std::size_t service, std::int64_t read)>;
  explicit BenchQpsSource(Level level) : level_(std::move(level)) {}

  [[nodiscard]] std::vector<demand::QpsReading> read(std::span<const model::ServiceId> services,
                                                     util::SystemTime now) override {
    std::vector<demand::QpsReading> out;
    out.reserve(services.size());
    for (std::size_t k = 0; k < services.size(); ++k) {
      out.emplace_back(demand::QpsSample{.qps = level_(k, reads_), .timestamp = now});
    }
    ++reads_;
    return out;
  }

 private:
  Level level_;
  std::int64_t reads_ = 0;
};

}  // namespace qfscale::bench
