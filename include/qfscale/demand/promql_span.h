#pragma once

/// The span of a PromQL query's values: the seconds each value averages over, which SLO sizing
/// needs to read burstiness from the values' scatter (policy/slo_sizing.h). It is the duration of
/// the query's range selector: `sum by (service) (rate(requests_total[1m]))` gives 60 s,
/// `increase(x[30s]) / 30` 30 s.
///
/// There is none to read (empty) when the query has no range selector (a recording rule's gauge),
/// several different ones (`rate(a[1m]) + rate(b[5m])`), a subquery (`max_over_time(
/// rate(x[1m])[5m:15s])`: the values are a maximum, not a mean), a range below 1 s, or a range that
/// is not a duration (`[$__rate_interval]`). Set `metrics.prometheus.span` then. Quoted strings
/// and comments are skipped, so `{path="/v1[2]"}` is no range.
///
/// PromQL durations: one or more `<integer><unit>` parts in descending units, unit one of `ms`,
/// `s`, `m`, `h`, `d` (24 h), `w` (7 d), `y` (365 d): `90s`, `1h30m`, `1500ms` (rounded to whole
/// seconds, at least 1).

#include <chrono>
#include <optional>
#include <string_view>

namespace qfscale::demand {

[[nodiscard]] std::optional<std::chrono::seconds> query_span(std::string_view promql);

/// A PromQL duration (above) in whole seconds, rounded to the nearest; empty when the text is not
/// one or it is below half a second.
[[nodiscard]] std::optional<std::chrono::seconds> promql_duration(std::string_view text);

}  // namespace qfscale::demand
