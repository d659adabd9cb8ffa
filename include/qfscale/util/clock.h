#pragma once

/// Time source. Wall time (`system_now`) is for stamps, `x-bce-date`, the state file and traces;
/// monotonic time is only for timeouts, backoff and latency. Decision code never reads a clock:
/// it takes `now` as an argument.

#include <atomic>
#include <chrono>

namespace qfscale::util {

using SystemTime = std::chrono::system_clock::time_point;
using MonotonicTime = std::chrono::steady_clock::time_point;

/// Thread-safety: implementations are safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual SystemTime system_now() const = 0;
  [[nodiscard]] virtual MonotonicTime monotonic_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] SystemTime system_now() const override { return std::chrono::system_clock::now(); }
  [[nodiscard]] MonotonicTime monotonic_now() const override {
    return std::chrono::steady_clock::now();
  }
};

/// A clock that moves only when told; used by tests and by the simulator in production.
/// Both readings advance together. Thread-safety: safe; `set`/`advance` are atomic.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start = SystemTime{std::chrono::seconds{1'700'000'000}})
      : since_epoch_(start.time_since_epoch()) {}

  [[nodiscard]] SystemTime system_now() const override { return SystemTime{since_epoch_.load()}; }
  [[nodiscard]] MonotonicTime monotonic_now() const override {
    return MonotonicTime{std::chrono::duration_cast<MonotonicTime::duration>(since_epoch_.load())};
  }
  void set(SystemTime t) { since_epoch_.store(t.time_since_epoch()); }
  void advance(std::chrono::nanoseconds d) {
    auto cur = since_epoch_.load();
    while (!since_epoch_.compare_exchange_weak(
        cur, cur + std::chrono::duration_cast<SystemTime::duration>(d))) {
    }
  }

 private:
  std::atomic<SystemTime::duration> since_epoch_;
};

}  // namespace qfscale::util
