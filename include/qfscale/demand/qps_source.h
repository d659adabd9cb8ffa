#pragma once

/// QPS sources: where the controller learns each service's request rate. A source answers, for a
/// list of services at `now`, one reading per service: a sample (value and the time it describes)
/// or a typed failure. A failure is never turned into a zero QPS: zero would scale a busy service
/// down, so the policy engine decides what to do (`onMetricsFailure`). Implementations:
/// Prometheus (`prometheus_source.h`), trace replay (`trace.h`) and synthetic traffic
/// (`synthetic.h`).

#include <array>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <tl/expected.hpp>

#include "qfscale/model/ids.h"
#include "qfscale/util/clock.h"

namespace qfscale::demand {

/// Why a source has no usable QPS for a service. The set is closed: `to_string` values are
/// metric label values (bounded cardinality) and audit-log spellings.
enum class FailureKind {
  NotFinite,   ///< the value was NaN or +/-Inf ("nan")
  Negative,    ///< the value was below zero, impossible for a rate ("negative")
  Missing,     ///< the service had no series in the result ("missing")
  Stale,       ///< the sample is older than the staleness bound ("stale")
  HttpStatus,  ///< the metric server answered with a non-2xx status ("http_status")
  Malformed,   ///< unparseable reply, wrong result type, or ambiguous duplicates ("malformed")
  Transport,   ///< connect failure, timeout, reset ("transport")
  QueryError,  ///< the server reported `status: error`, e.g. a bad PromQL ("query_error")
};

inline constexpr std::array kAllFailureKinds = {
    FailureKind::NotFinite, FailureKind::Negative,   FailureKind::Missing,
    FailureKind::Stale,     FailureKind::HttpStatus, FailureKind::Malformed,
    FailureKind::Transport, FailureKind::QueryError,
};

/// Snake-case label value, e.g. "http_status".
[[nodiscard]] std::string_view to_string(FailureKind kind);

/// A usable rate. Thread-safety: a value type; not synchronised.
struct QpsSample {
  double qps = 0;                ///< requests per second, finite and >= 0
  util::SystemTime timestamp{};  ///< the time the value describes
  /// The seconds the value averages over (a 1m rate: 60 s), ending at `timestamp`; 0 when the
  /// source cannot tell. The engine reads burstiness from it (policy::EngineInput::sample_span).
  std::chrono::seconds span{0};
  friend bool operator==(const QpsSample&, const QpsSample&) = default;
};

/// Why there is no sample. Thread-safety: a value type; not synchronised.
struct QpsFailure {
  FailureKind kind = FailureKind::Missing;
  std::string message;     ///< human-readable detail for logs; never a label value
  int http_status = 0;     ///< filled for HttpStatus and, when known, QueryError
  std::string error_type;  ///< Prometheus `errorType` for QueryError (e.g. "bad_data")
  friend bool operator==(const QpsFailure&, const QpsFailure&) = default;
};

/// One service's reading: `has_value()` for a sample, `error()` for a failure.
using QpsReading = tl::expected<QpsSample, QpsFailure>;

/// Thread-safety: each implementation states its own; callers that share a source across
/// threads must check it. The controller calls `read` from its reconcile thread only.
class QpsSource {
 public:
  QpsSource() = default;
  virtual ~QpsSource() = default;
  QpsSource(const QpsSource&) = delete;
  QpsSource& operator=(const QpsSource&) = delete;
  QpsSource(QpsSource&&) = delete;
  QpsSource& operator=(QpsSource&&) = delete;

  /// Returns exactly one reading per element of `services`, in the same order
  /// (`result[i]` is for `services[i]`). `now` is the wall time of the tick; sources never read
  /// a clock themselves. Never throws; every problem is a `QpsFailure` in the affected slots.
  [[nodiscard]] virtual std::vector<QpsReading> read(std::span<const model::ServiceId> services,
                                                     util::SystemTime now) = 0;
};

}  // namespace qfscale::demand

template <>
struct fmt::formatter<qfscale::demand::FailureKind> : fmt::formatter<std::string_view> {
  auto format(qfscale::demand::FailureKind k, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(qfscale::demand::to_string(k), ctx);
  }
};

/// "<kind>: <message>", e.g. "query_error: bad_data: invalid parameter ...". Messages carry the
/// details (status, errorType), so logs need nothing else.
template <>
struct fmt::formatter<qfscale::demand::QpsFailure> : fmt::formatter<std::string_view> {
  auto format(const qfscale::demand::QpsFailure& f, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(
        fmt::format("{}: {}", qfscale::demand::to_string(f.kind), f.message), ctx);
  }
};
