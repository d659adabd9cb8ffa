#pragma once

/// A one-way stop request that wakes sleepers: the controller's retry waits end at once when
/// SIGTERM asks it to stop, instead of sleeping out a backoff or a Retry-After.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace qfscale::util {

/// Thread-safety: every method may be called from any thread.
class StopSignal {
 public:
  void request_stop() {
    {
      const std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  [[nodiscard]] bool stop_requested() const {
    const std::lock_guard lock(mu_);
    return stopped_;
  }
  /// Sleeps for `d` or until a stop is requested; true when it slept the whole time.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopped_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace qfscale::util
