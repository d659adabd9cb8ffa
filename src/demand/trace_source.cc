#include "qfscale/demand/trace_source.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "qfscale/util/check.h"

namespace qfscale::demand {

TraceQpsSource::TraceQpsSource(std::map<model::ServiceId, trace::Trace> traces,
                               TraceReplayOptions options)
    : traces_(std::move(traces)), options_(options) {
  QFS_CHECK(std::isfinite(options_.speedup) && options_.speedup > 0, "speedup must be > 0");
  QFS_CHECK(options_.window >= std::chrono::seconds::zero(), "window must be >= 0");
  if (options_.speedup == 1.0) span_ = std::max(options_.window, std::chrono::seconds{1});
}

double TraceQpsSource::trace_time(util::SystemTime now) const {
  return std::chrono::duration<double>(now - options_.start).count() * options_.speedup;
}

std::vector<QpsReading> TraceQpsSource::read(std::span<const model::ServiceId> services,
                                             util::SystemTime now) {
  std::vector<QpsReading> out;
  out.reserve(services.size());
  const double t0 = trace_time(now);
  const auto missing = [](std::string message) -> QpsReading {
    return tl::unexpected(QpsFailure{.kind = FailureKind::Missing, .message = std::move(message)});
  };
  for (const auto& service : services) {
    const auto it = traces_.find(service);
    if (it == traces_.end() || it->second.empty()) {
      out.push_back(missing("no trace for service"));
      continue;
    }
    const trace::Trace& trace = it->second;
    const auto length = static_cast<double>(trace.size());
    double t = t0;
    if (t < 0) {
      out.push_back(missing(fmt::format("trace starts in {:.3f} s", -t)));
      continue;
    }
    if (t >= length) {
      if (!options_.loop) {
        out.push_back(missing(fmt::format("trace ended {:.3f} s ago", t - length)));
        continue;
      }
      t = std::fmod(t, length);
    }
    const auto window = static_cast<double>(options_.window.count());
    const double qps = window > 0 ? trace.mean(t - window, t) : trace.rate_at(t);
    out.emplace_back(QpsSample{.qps = qps, .timestamp = now, .span = span_});
  }
  return out;
}

}  // namespace qfscale::demand
