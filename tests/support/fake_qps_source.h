#pragma once

// An in-memory QpsSource for controller tests: per-service readings (a QPS value or a typed
// failure), a source-wide outage switch, and a record of every read.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "qfscale/demand/qps_source.h"

namespace qfscale::testing {

/// One `read` call as the source saw it.
struct QpsRead {
  std::vector<model::ServiceId> services;
  util::SystemTime now;
};

/// A service with nothing set reads as `Missing`. Samples are stamped with the read's `now`.
/// Thread-safety: every method may be called concurrently (one mutex).
class FakeQpsSource final : public demand::QpsSource {
 public:
  /// `span`: the seconds the value averages over (demand::QpsSample::span); 0 unknown.
  void set(const model::ServiceId& service, double qps,
           std::chrono::seconds span = std::chrono::seconds{0}) {
    const std::lock_guard lock(mutex_);
    readings_[service] = Setting{.qps = qps, .span = span};
  }
  void fail(const model::ServiceId& service, demand::FailureKind kind,
            std::string message = "injected") {
    const std::lock_guard lock(mutex_);
    readings_[service] =
        Setting{.failure = demand::QpsFailure{.kind = kind, .message = std::move(message)}};
  }
  /// Every service fails with `kind` until `restore()` (the per-service settings are kept).
  void outage(demand::FailureKind kind, std::string message = "injected outage") {
    const std::lock_guard lock(mutex_);
    outage_ = demand::QpsFailure{.kind = kind, .message = std::move(message)};
  }
  void restore() {
    const std::lock_guard lock(mutex_);
    outage_.reset();
  }

  [[nodiscard]] std::vector<QpsRead> reads() const {
    const std::lock_guard lock(mutex_);
    return reads_;
  }

  std::vector<demand::QpsReading> read(std::span<const model::ServiceId> services,
                                       util::SystemTime now) override {
    const std::lock_guard lock(mutex_);
    reads_.push_back(QpsRead{.services = {services.begin(), services.end()}, .now = now});
    std::vector<demand::QpsReading> out;
    out.reserve(services.size());
    for (const auto& id : services) {
      if (outage_) {
        out.emplace_back(tl::unexpected(*outage_));
        continue;
      }
      const auto it = readings_.find(id);
      if (it == readings_.end()) {
        out.emplace_back(tl::unexpected(
            demand::QpsFailure{.kind = demand::FailureKind::Missing, .message = "not set"}));
      } else if (it->second.failure) {
        out.emplace_back(tl::unexpected(*it->second.failure));
      } else {
        out.emplace_back(
            demand::QpsSample{.qps = it->second.qps, .timestamp = now, .span = it->second.span});
      }
    }
    return out;
  }

 private:
  struct Setting {
    double qps = 0;
    std::chrono::seconds span{0};
    std::optional<demand::QpsFailure> failure;
  };

  mutable std::mutex mutex_;
  std::map<model::ServiceId, Setting> readings_;
  std::optional<demand::QpsFailure> outage_;
  std::vector<QpsRead> reads_;
};

}  // namespace qfscale::testing
