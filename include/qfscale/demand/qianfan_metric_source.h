#pragma once

/// QPS from Qianfan's own call counters: `DescribeServiceMetric` (docs/QIANFAN-API.md §6.1), for
/// users without Prometheus. Config key: `metrics: {qianfan: {window: 60s}}`.
///
/// Per tick at `now`: the window is [end - window, end) with end = `now` rounded down to a whole
/// second (the API takes whole-second UTC times). One call carries every requested service
/// (split into calls of at most `max_services_per_call`), and a service's QPS is the sum of
/// `callTotal` over its apps divided by the window in seconds: 600 calls in 60 s = 10 qps.
/// `callTotal` counts failed calls too: they are load the service had to answer. Samples are
/// stamped with the window end.
///
/// Failures, for every service of the failed call, never a zero QPS:
/// - `transport`: no reply (connect failure, timeout, reset; the client already retried);
/// - `query_error`: the API answered with an error code (`error_type` = the code, e.g.
///   `AccessDenied`; `http_status` when known), or the request could not be built;
/// - `http_status`: a non-2xx status without an error code;
/// - `malformed`: a 2xx reply that does not decode, or a service listed twice in one reply;
/// - `missing`: the reply has no entry for the service;
/// - `negative`: a negative `callTotal` sum.
///
/// ASSUMPTIONS (the documents are silent; docs/QIANFAN-API.md §6.1 only lists the request fields):
/// - The number of `serviceIds` per call is unlimited in the docs; we send at most 100 per call,
///   the cap DescribeServices puts on `maxKeys`, so a large fleet never meets an unknown limit.
/// - An unknown service id fails the whole call with `ResourceNotFound` (what the fake does). So
///   that one stale id does not blind every other service, a call of several services refused
///   with that code is repeated once per service; a service refused alone is `missing`.
/// - The counters are complete up to `now`. If the real console lags, widen the window; a lag
///   shows up as a QPS biased low by lag/window.

#include <chrono>
#include <cstddef>
#include <memory>

#include "qfscale/demand/qps_source.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/util/result.h"

namespace qfscale::demand {

struct QianfanMetricConfig {
  std::chrono::seconds window{60};          ///< averaging window, >= 1 s
  std::size_t max_services_per_call = 100;  ///< >= 1
  friend bool operator==(const QianfanMetricConfig&, const QianfanMetricConfig&) = default;
};

/// InvalidInput naming the field when the window is below 1 s or longer than a day (the API
/// keeps per-call totals, not a long history) or `max_services_per_call` is 0.
[[nodiscard]] Status validate(const QianfanMetricConfig& config);

/// Builds the source. `api` must outlive it.
/// Thread-safety: `read` is safe to call concurrently (no mutable state; `QianfanApi` methods are
/// thread-safe).
[[nodiscard]] Result<std::unique_ptr<QpsSource>> make_qianfan_metric_source(
    QianfanMetricConfig config, qianfan::QianfanApi& api);

/// The failure kind a DescribeServiceMetric error maps to (see above). Exposed for tests.
[[nodiscard]] QpsFailure failure_from_error(const Error& error);

}  // namespace qfscale::demand
