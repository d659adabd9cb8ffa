#pragma once

/// A service's QPS history from a Prometheus-compatible HTTP API, as a per-second trace for
/// `qfscale tune --prometheus URL --query Q --range 7d`.
///
/// ## Requests
///
/// `GET {base_url}/api/v1/query_range?query=Q&start=S&end=E&step=STEP`. Prometheus refuses a
/// query whose (end - start) / step exceeds 11,000 points per series, so the range is split
/// into chunks of at most `kPointsPerChunk` evaluation points each (10,000: under the limit
/// with room to spare), asked one after the other. Worked numbers: 7 days at a 15 s step is
/// 40,320 points, so 5 chunks (4 x 10,000 + 320); at a 1 s step, 604,800 points in 61 chunks.
///
/// ## From points to seconds
///
/// Point k is evaluated at start + (k+1) x step, k = 0 .. range / step - 1 (the range must be a
/// whole number of steps; the last point is at start + range), and its value is the QPS of trace
/// seconds [k x step, (k+1) x step): as in Prometheus, a value at t describes the time up to t
/// (`rate(x[1m])` at t is the rate over (t - 1m, t]; a per-second gauge sampled at t counts the
/// second before t). The query should be a rate over at least the step
/// (`sum(rate(requests_total[1m]))`), as for the controller. Worked numbers: start 1000, step
/// 15 s, range 1 h: 240 points at 1015, 1030, …, 4600; the one at 1030 fills seconds 15..29. The
/// query must return one series (sum it otherwise); a chunk with no series has no points. A point
/// Prometheus did not return (a gap in the data) or a NaN takes the value of the point before it (0
/// before the first), and is counted in `missing_points` so the caller can say how much was filled.
/// A negative or infinite value is an error: a QPS cannot be one. No point at all is an error.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "qfscale/http/client.h"
#include "qfscale/trace/trace.h"
#include "qfscale/util/result.h"

namespace qfscale::demand {

/// Evaluation points per query_range request (Prometheus' limit is 11,000 per series).
inline constexpr std::int64_t kPointsPerChunk = 10'000;

struct RangeQuery {
  std::string base_url;  ///< "http://127.0.0.1:9090"; user info becomes a Basic header
  std::string query;     ///< PromQL returning one series
  std::int64_t start_unix_seconds = 0;        ///< the first point: trace second 0
  std::chrono::seconds range{0};              ///< the trace's length, a positive multiple of step
  std::chrono::seconds step{15};              ///< > 0
  std::chrono::milliseconds timeout{30'000};  ///< per request
  http::Headers headers;
};

/// One query_range request: its first and last evaluation time, Unix seconds, inclusive.
struct RangeChunk {
  std::int64_t start = 0;
  std::int64_t end = 0;
  friend bool operator==(const RangeChunk&, const RangeChunk&) = default;
};

/// The chunks covering `points` evaluation points from `first` every `step` seconds.
[[nodiscard]] std::vector<RangeChunk> plan_range_chunks(std::int64_t first, std::int64_t points,
                                                        std::chrono::seconds step);

/// The request URL for one chunk (query percent-encoded, as `prometheus_query_url`).
[[nodiscard]] std::string prometheus_range_url(std::string_view base_url, std::string_view query,
                                               const RangeChunk& chunk, std::chrono::seconds step);

/// A point: Unix seconds (as sent, milliseconds possible) and the value.
using RangePoint = std::pair<double, double>;

/// Decodes a query_range reply: the points of its one series (empty when it has none).
/// Remote errors for a non-2xx status, `"status":"error"` (with errorType and error), a
/// reply that is not a matrix, and more than one series ("returned 3 series; the query must
/// return one, e.g. sum(...)").
[[nodiscard]] Result<std::vector<RangePoint>> decode_range_reply(const http::Response& response);

/// The history and what was filled in.
struct RangeHistory {
  trace::Trace trace;               ///< range seconds long
  std::int64_t points = 0;          ///< range / step
  std::int64_t missing_points = 0;  ///< filled from the point before (see the header)
  std::int64_t requests = 0;        ///< query_range requests sent
};

/// Builds the trace from the points of every chunk (pure; see the header).
[[nodiscard]] Result<RangeHistory> history_from_points(std::span<const RangePoint> points,
                                                       std::int64_t start_unix_seconds,
                                                       std::chrono::seconds range,
                                                       std::chrono::seconds step);

/// Validates `query` (http(s) URL, non-empty query, step > 0, range a positive multiple of
/// step), asks every chunk and builds the history. Transport failures are returned as they
/// come, naming the chunk. Thread-safety: reentrant; `client` must be thread-safe.
[[nodiscard]] Result<RangeHistory> read_range_history(http::Client& client, RangeQuery query);

}  // namespace qfscale::demand
