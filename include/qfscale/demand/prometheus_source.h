#pragma once

/// QPS from a Prometheus-compatible HTTP API (Prometheus, Thanos, VictoriaMetrics, Mimir).
///
/// Per tick: one instant query `GET {base_url}/api/v1/query?query=<q>&time=<now>` whose result
/// is a vector with one series per service, the service id being the value of `label`
/// (e.g. `sum by (service) (rate(requests_total[1m]))`; use `label_replace` in the query when
/// the metric labels use other names). Services with their own query in `per_service_queries`
/// get one extra request each; that query must return exactly one series. A series whose label
/// value is not a requested service is ignored.
///
/// Failures (see `FailureKind`): transport error, non-2xx status (`http_status`), a reply with
/// `"status":"error"` (`query_error`, with errorType, even when the status is 4xx/5xx), a reply
/// that is not JSON or not an instant vector (`malformed`, for every service of that query),
/// two series for one service (`malformed`, ambiguous), no series (`missing`), NaN/Inf (`nan`),
/// a negative value, and a sample older than `now - staleness` (`stale`).

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "qfscale/demand/qps_source.h"
#include "qfscale/http/client.h"
#include "qfscale/model/ids.h"
#include "qfscale/util/result.h"

namespace qfscale::demand {

struct PrometheusConfig {
  std::string base_url;  ///< "http://127.0.0.1:9090" or with a path prefix; no query string
  std::string query;     ///< PromQL returning a vector labelled by `label`; may be empty when
                         ///< every service has its own query
  std::string label = "service";  ///< label whose value is the service id
  std::map<model::ServiceId, std::string> per_service_queries;  ///< overrides, one series each
  std::chrono::milliseconds timeout{5'000};                     ///< per request
  std::chrono::seconds staleness{120};  ///< samples older than now - staleness are `stale`
  /// The seconds each value averages over (QpsSample::span), for every query, per-service ones
  /// included. 0: read from each query (demand/promql_span.h: `rate(x[1m])` is 60 s); unknown
  /// (0) where it cannot be read.
  std::chrono::seconds span{0};
  http::Headers headers;  ///< extra request headers, e.g. Authorization
  /// PEM CAs trusted instead of the system store for an https URL; empty: the system store.
  /// The client given to make_prometheus_source must be built with it (ClientOptions::ca_file).
  std::string ca_file;
};

/// Validates `config`: an http(s) base URL without query or fragment (user info allowed, see
/// `with_basic_auth_from_url`), a label name matching [a-zA-Z_][a-zA-Z0-9_]*, a non-empty query
/// unless every service has an override, positive timeout and staleness. Errors are InvalidInput
/// naming the field; a URL is quoted with its password hidden (util::redact_url).
[[nodiscard]] Status validate(const PrometheusConfig& config);

/// `config` with the user info of `base_url` ("https://user:pass@host/prefix") moved into an
/// `Authorization: Basic` header (RFC 7617; user and password percent-decoded, so "p%40ss" sends
/// "p@ss"), as Prometheus' own `basic_auth` expects; the URL keeps no credentials, so nothing
/// that prints it can leak them. Unchanged without user info. InvalidInput, never quoting the
/// credentials, for bad percent-encoding, a ':' or control character in the decoded user, a
/// control character in the password, or an Authorization header already in `headers`.
/// Example: "http://Aladdin:open%20sesame@prom:9090" -> base_url "http://prom:9090" and
/// "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==".
[[nodiscard]] Result<PrometheusConfig> with_basic_auth_from_url(PrometheusConfig config);

/// Builds the source, after `validate` and `with_basic_auth_from_url`. `client` must outlive it.
/// Thread-safety of the source: `read` is safe to call concurrently (it keeps no mutable
/// state; the client is thread-safe).
[[nodiscard]] Result<std::unique_ptr<QpsSource>> make_prometheus_source(PrometheusConfig config,
                                                                        http::Client& client);

/// The request URL for one instant query: base URL, `/api/v1/query`, the query
/// percent-encoded (RFC 3986 unreserved characters kept) and `time` as Unix seconds with
/// millisecond precision ("1700000000.25" style, no trailing zeros). Exposed for tests and logs.
[[nodiscard]] std::string prometheus_query_url(std::string_view base_url, std::string_view query,
                                               util::SystemTime time);

}  // namespace qfscale::demand
