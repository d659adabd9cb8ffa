#include "qfscale/demand/prometheus_range.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/demand/prometheus_source.h"
#include "qfscale/util/redact.h"

#include "demand/prometheus_text.h"

namespace qfscale::demand {
namespace {

Error remote(std::string message) {
  return Error{.code = ErrorCode::Remote, .message = std::move(message)};
}

}  // namespace

std::vector<RangeChunk> plan_range_chunks(std::int64_t first, std::int64_t points,
                                          std::chrono::seconds step) {
  std::vector<RangeChunk> out;
  for (std::int64_t k = 0; k < points; k += kPointsPerChunk) {
    const auto last = std::min(points, k + kPointsPerChunk) - 1;
    out.push_back({.start = first + k * step.count(), .end = first + last * step.count()});
  }
  return out;
}

std::string prometheus_range_url(std::string_view base_url, std::string_view query,
                                 const RangeChunk& chunk, std::chrono::seconds step) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return fmt::format("{}/api/v1/query_range?query={}&start={}&end={}&step={}", base_url,
                     detail::percent_encode(query), chunk.start, chunk.end, step.count());
}

Result<std::vector<RangePoint>> decode_range_reply(const http::Response& response) {
  namespace dom = simdjson::dom;
  const bool ok_status = response.status >= 200 && response.status < 300;
  const auto http_failure = [&] {
    auto e = remote(fmt::format("HTTP {}: {}", response.status, detail::snippet(response.body)));
    e.http_status = response.status;
    return tl::unexpected(std::move(e));
  };
  dom::parser parser;
  dom::element doc;
  dom::object root;
  std::string_view status;
  if (parser.parse(response.body.data(), response.body.size()).get(doc) ||
      doc.get_object().get(root) || root["status"].get_string().get(status)) {
    if (!ok_status) return http_failure();
    return tl::unexpected(remote(
        fmt::format("reply is not a Prometheus JSON reply: {}", detail::snippet(response.body))));
  }
  if (status == "error") {
    std::string_view type;
    std::string_view error;
    // Both are documented as present with status "error"; tolerate their absence.
    if (root["errorType"].get_string().get(type)) type = "unknown";
    if (root["error"].get_string().get(error)) error = "(no message)";
    auto e = remote(fmt::format("{}: {}", type, error));
    e.http_status = response.status;
    return tl::unexpected(std::move(e));
  }
  if (!ok_status) return http_failure();
  std::string_view result_type;
  dom::array result;
  if (root["data"]["resultType"].get_string().get(result_type) || result_type != "matrix" ||
      root["data"]["result"].get_array().get(result)) {
    return tl::unexpected(remote(
        fmt::format("reply is not a range query's matrix (resultType \"{}\")", result_type)));
  }
  if (result.size() > 1) {
    return tl::unexpected(remote(fmt::format(
        "the query returned {} series; it must return one, e.g. sum(rate(requests_total[1m]))",
        result.size())));
  }
  std::vector<RangePoint> out;
  for (dom::element series : result) {
    dom::array values;
    if (series["values"].get_array().get(values)) {
      return tl::unexpected(remote("data.result[0] has no array \"values\""));
    }
    out.reserve(values.size());
    std::size_t k = 0;
    for (dom::element item : values) {
      dom::array pair;
      double t = 0;
      std::string_view text;
      if (item.get_array().get(pair) || pair.size() != 2 || pair.at(0).get_double().get(t) ||
          pair.at(1).get_string().get(text)) {
        return tl::unexpected(remote(
            fmt::format("data.result[0].values[{}] is not [<unix seconds>, \"<number>\"]", k)));
      }
      const auto v = detail::parse_sample_value(text);
      if (!v) {
        return tl::unexpected(remote(fmt::format(
            "data.result[0].values[{}]: \"{}\" is not a number", k, detail::snippet(text))));
      }
      out.emplace_back(t, *v);
      ++k;
    }
  }
  return out;
}

Result<RangeHistory> history_from_points(std::span<const RangePoint> points,
                                         std::int64_t start_unix_seconds,
                                         std::chrono::seconds range, std::chrono::seconds step) {
  const auto n = range.count() / step.count();
  // A point's value per evaluation index; NaN: not returned.
  std::vector<double> at(static_cast<std::size_t>(n), std::nan(""));
  for (const auto& [t, v] : points) {
    // The point at start + (k+1) x step fills seconds [k x step, (k+1) x step).
    const double k =
        (t - static_cast<double>(start_unix_seconds)) / static_cast<double>(step.count()) - 1;
    const auto index = std::llround(k);
    if (std::abs(k - static_cast<double>(index)) > 1e-3 || index < 0 || index >= n) continue;
    if (std::isinf(v) || v < 0) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("the value at {} is {}; a QPS must be a finite number >= 0",
                              detail::format_unix_seconds(util::SystemTime{std::chrono::seconds{
                                  start_unix_seconds + (index + 1) * step.count()}}),
                              v));
    }
    at[static_cast<std::size_t>(index)] = v;
  }
  RangeHistory out{.points = n};
  double last = 0;
  bool any = false;
  std::vector<float> per_second;
  per_second.reserve(static_cast<std::size_t>(range.count()));
  for (auto v : at) {
    if (std::isnan(v)) {
      ++out.missing_points;
      v = last;
    } else {
      any = true;
    }
    last = v;
    per_second.insert(per_second.end(), static_cast<std::size_t>(step.count()),
                      static_cast<float>(v));
  }
  if (!any) return fail(ErrorCode::InvalidInput, "the query returned no data in the range");
  out.trace = trace::Trace(std::move(per_second));
  return out;
}

Result<RangeHistory> read_range_history(http::Client& client, RangeQuery query) {
  PrometheusConfig config{.base_url = query.base_url, .query = query.query, .headers = {}};
  config.headers = std::move(query.headers);
  if (auto ok = validate(config); !ok) return tl::unexpected(ok.error());
  auto authorized = with_basic_auth_from_url(std::move(config));
  if (!authorized) return tl::unexpected(authorized.error());
  if (query.step.count() <= 0) return fail(ErrorCode::InvalidInput, "step must be > 0s");
  if (query.range.count() <= 0 || query.range.count() % query.step.count() != 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("range {} s must be a positive multiple of the step {} s",
                            query.range.count(), query.step.count()));
  }
  const auto chunks = plan_range_chunks(query.start_unix_seconds + query.step.count(),
                                        query.range.count() / query.step.count(), query.step);
  std::vector<RangePoint> points;
  for (const auto& chunk : chunks) {
    http::ClientRequest request;
    request.url = prometheus_range_url(authorized->base_url, query.query, chunk, query.step);
    request.headers = authorized->headers;
    request.headers.push_back({"Accept", "application/json"});
    request.timeout = query.timeout;
    const auto where = fmt::format("query_range {} .. {} on {}", chunk.start, chunk.end,
                                   util::redact_url(authorized->base_url));
    auto response = client.send(request);
    if (!response) return tl::unexpected(std::move(response.error()).with_context(where));
    auto decoded = decode_range_reply(*response);
    if (!decoded) return tl::unexpected(std::move(decoded.error()).with_context(where));
    points.insert(points.end(), decoded->begin(), decoded->end());
  }
  auto history = history_from_points(points, query.start_unix_seconds, query.range, query.step);
  if (history) history->requests = static_cast<std::int64_t>(chunks.size());
  return history;
}

}  // namespace qfscale::demand
