#pragma once

/// The span of a PromQL query's values: the seconds each value averages over, which SLO sizing
/// needs to read burstiness from the values' scatter (policy/slo_sizing.h). It is the duration of
/// the range of the query's `rate`, `increase` or `avg_over_time`, the functions whose value is a
/// mean over (or a count of) their range: `sum by (service) (rate(requests_total[1m]))` gives
/// 60 s, `increase(x[30s]) / 30` 30 s.
///
/// There is none to read (empty) when the query has no range (a recording rule's gauge), several
/// different ones (`rate(a[1m]) + rate(b[5m])`), a range under another function (`irate(x[5m])`
/// covers the last two scrapes, `max_over_time(x[5m])` is a maximum), a subquery
/// (`max_over_time(rate(x[1m])[5m:15s])`), a range that rounds below 1 s, or one that is not a
/// duration (`[$__rate_interval]`). Set `metrics.prometheus.span` then. Quoted strings and
/// comments are skipped, so `{path="/v1[2]"}` is no range.
///
/// PromQL durations: one or more `<integer><unit>` parts in descending units, unit one of `ms`,
/// `s`, `m`, `h`, `d` (24 h), `w` (7 d), `y` (365 d), or a plain number of seconds (`300`, `1.5`:
/// Prometheus 3); rounded to whole seconds: `90s`, `1h30m`, `1500ms` (2 s), `500ms` (1 s).

#include <chrono>
#include <optional>
#include <string_view>

namespace qfscale::demand {

[[nodiscard]] std::optional<std::chrono::seconds> query_span(std::string_view promql);

/// A PromQL duration (above) in whole seconds, rounded to the nearest; empty when the text is not
/// one or it rounds below 1 s.
[[nodiscard]] std::optional<std::chrono::seconds> promql_duration(std::string_view text);

}  // namespace qfscale::demand
