#pragma once

/// A recorded trace (trace/trace.h) replayed as a QPS source, for `qfscale run --trace`.

#include <chrono>
#include <map>
#include <span>
#include <vector>

#include "qfscale/demand/qps_source.h"
#include "qfscale/model/ids.h"
#include "qfscale/trace/trace.h"
#include "qfscale/util/clock.h"

namespace qfscale::demand {

struct TraceReplayOptions {
  util::SystemTime start{};  ///< wall time at which trace time 0 plays
  /// Trace seconds per wall second: 60 plays an hour of trace in a minute.
  double speedup = 1.0;
  /// When positive, a reading is the mean over the last `window` trace seconds (clipped to the
  /// trace); when zero, the rate of the current trace second.
  std::chrono::seconds window{0};
  /// Wrap around at the end instead of reporting `missing`.
  bool loop = false;
};

/// Replays one trace per service as a QpsSource. Trace time is
/// `(now - start) * speedup` seconds. A service without a trace, a time before the start, or a
/// time past the end (unless `loop`) is `missing`. Samples are stamped `now`; their span is the
/// window (1 s without one) at speedup 1, and unknown (0) at any other speed, where a trace
/// second is not a second of the engine's clock.
/// Thread-safety: `read` is const in effect and safe to call concurrently.
class TraceQpsSource final : public QpsSource {
 public:
  /// Precondition (QFS_CHECK): speedup > 0 and finite, window >= 0.
  TraceQpsSource(std::map<model::ServiceId, trace::Trace> traces, TraceReplayOptions options);

  [[nodiscard]] std::vector<QpsReading> read(std::span<const model::ServiceId> services,
                                             util::SystemTime now) override;

  /// Trace time in seconds for a wall time (may be negative or past the end).
  [[nodiscard]] double trace_time(util::SystemTime now) const;

 private:
  std::map<model::ServiceId, trace::Trace> traces_;
  TraceReplayOptions options_;
  std::chrono::seconds span_{0};  ///< QpsSample::span: the window (1 s without), at speedup 1
};

}  // namespace qfscale::demand
