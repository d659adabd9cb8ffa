#include "qfscale/demand/prometheus_source.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/demand/promql_span.h"
#include "qfscale/http/url.h"
#include "qfscale/util/redact.h"

#include "demand/prometheus_text.h"

namespace qfscale::demand {

namespace {

using detail::format_unix_seconds;
using detail::parse_sample_value;
using detail::percent_encode;
using detail::snippet;

/// One series of an instant vector.
struct Series {
  std::optional<std::string> label_value;  ///< nullopt when the series lacks the label
  double timestamp = 0;                    ///< Unix seconds
  double value = 0;
  std::string value_text;  ///< as sent, for messages ("NaN", "+Inf")
};

using Decoded = tl::expected<std::vector<Series>, QpsFailure>;

QpsFailure failure(FailureKind kind, std::string message) {
  return QpsFailure{.kind = kind, .message = std::move(message)};
}

/// Where the user info of an absolute URL is: from after "://" to the last '@' of the
/// authority (a raw '@' in a password is common and unambiguous there), '@' included.
struct UserInfo {
  std::size_t start = 0;
  std::size_t length = 0;  ///< 0: none
  [[nodiscard]] std::string_view text(std::string_view url) const {
    return length == 0 ? std::string_view() : url.substr(start, length - 1);
  }
};
UserInfo find_userinfo(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto start = scheme_end + 3;
  const auto end = std::min(url.find_first_of("/?#", start), url.size());
  const auto at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return {};
  return {.start = start, .length = at + 1};
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// "user:password" decoded for the Basic scheme, or why not. The message never quotes them.
tl::expected<std::string, std::string> decode_userinfo(std::string_view userinfo) {
  const auto colon = userinfo.find(':');
  const auto user = http::percent_decode(userinfo.substr(0, colon));
  const auto password = colon == std::string_view::npos
                            ? std::optional<std::string>(std::string())
                            : http::percent_decode(userinfo.substr(colon + 1));
  const auto why = [](std::string_view what) {
    return tl::unexpected(fmt::format(
        "the user info {}, must be user:password percent-encoded (not shown here)", what));
  };
  if (!user || !password) return why("has a bad percent-encoding");
  // RFC 7617: the user-id cannot hold a colon, and neither part a control character.
  const auto has_control = [](std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f;
    });
  };
  if (user->find(':') != std::string::npos) return why("has a ':' in the user name");
  if (has_control(*user) || has_control(*password)) return why("has a control character");
  return *user + ":" + *password;
}

/// RFC 4648 base64 with padding, for the Basic scheme.
std::string base64_encode(std::string_view bytes) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (at(i) << 16U) | (at(i + 1) << 8U) | at(i + 2);
    for (const unsigned shift : {18U, 12U, 6U, 0U}) out.push_back(kAlphabet[(v >> shift) & 63U]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    const std::uint32_t v = (at(i) << 16U) | (rest == 2 ? at(i + 1) << 8U : 0U);
    out.push_back(kAlphabet[(v >> 18U) & 63U]);
    out.push_back(kAlphabet[(v >> 12U) & 63U]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6U) & 63U] : '=');
    out.push_back('=');
  }
  return out;
}

QpsFailure http_status_failure(const http::Response& response) {
  auto f = failure(FailureKind::HttpStatus,
                   fmt::format("HTTP {}: {}", response.status, snippet(response.body)));
  f.http_status = response.status;
  return f;
}

/// Decodes an instant-query reply into its series. Every failure here concerns the whole reply.
Decoded decode_reply(const http::Response& response, std::string_view label) {
  namespace dom = simdjson::dom;
  const bool ok_status = response.status >= 200 && response.status < 300;
  const auto not_json = [&](std::string what) -> Decoded {
    // A proxy's HTML error page is an HTTP failure, not a malformed Prometheus reply.
    if (!ok_status) {
      return tl::unexpected(http_status_failure(response));
    }
    return tl::unexpected(failure(FailureKind::Malformed, std::move(what)));
  };

  dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(response.body.data(), response.body.size()).get(doc); err) {
    return not_json(fmt::format("reply is not JSON ({}): {}", simdjson::error_message(err),
                                snippet(response.body)));
  }
  dom::object root;
  std::string_view status;
  if (doc.get_object().get(root) || root["status"].get_string().get(status)) {
    return not_json("reply is not an object with a string \"status\"");
  }
  if (status == "error") {
    std::string_view error_type;
    std::string_view error;
    // Both are documented as present with status "error"; tolerate their absence.
    if (root["errorType"].get_string().get(error_type)) {
      error_type = "unknown";
    }
    if (root["error"].get_string().get(error)) {
      error = "(no message)";
    }
    auto f = failure(FailureKind::QueryError, fmt::format("{}: {}", error_type, error));
    f.error_type = std::string(error_type);
    f.http_status = response.status;
    return tl::unexpected(std::move(f));
  }
  if (status != "success") {
    return not_json(fmt::format(R"("status" is "{}"; want "success" or "error")", status));
  }
  if (!ok_status) {
    return tl::unexpected(http_status_failure(response));
  }

  std::string_view result_type;
  dom::array result;
  if (root["data"]["resultType"].get_string().get(result_type)) {
    return not_json("reply has no string \"data.resultType\"");
  }
  if (result_type != "vector") {
    return not_json(
        fmt::format("resultType is \"{}\"; want \"vector\" (an instant query with one "
                    "series per service)",
                    result_type));
  }
  if (root["data"]["result"].get_array().get(result)) {
    return not_json("reply has no array \"data.result\"");
  }

  std::vector<Series> out;
  out.reserve(result.size());
  std::size_t index = 0;
  for (dom::element element : result) {
    const auto bad = [&](std::string_view what) {
      return not_json(fmt::format("data.result[{}]: {}", index, what));
    };
    dom::object series;
    dom::object metric;
    dom::array value;
    if (element.get_object().get(series)) {
      return bad("not an object");
    }
    if (series["metric"].get_object().get(metric)) {
      return bad("no object \"metric\"");
    }
    if (series["value"].get_array().get(value)) {
      return bad(series["histogram"].error() == simdjson::SUCCESS
                     ? "a native histogram sample; want a float \"value\""
                     : "no array \"value\"");
    }
    Series s;
    std::string_view text;
    if (value.size() != 2 || value.at(0).get_double().get(s.timestamp) ||
        value.at(1).get_string().get(text)) {
      return bad(R"("value" is not [<unix seconds>, "<number>"])");
    }
    // Unix seconds from 1970 to 2255: later ones overflow SystemTime's int64 nanoseconds (the
    // limit is 2262); neither end is a plausible Prometheus evaluation time.
    if (!(s.timestamp >= 0 && s.timestamp < 9e9)) {
      return bad("timestamp out of range");
    }
    const auto v = parse_sample_value(text);
    if (!v) {
      return bad(fmt::format("value \"{}\" is not a number", snippet(text)));
    }
    s.value = *v;
    s.value_text = std::string(text);
    std::string_view label_value;
    auto label_field = metric[label];
    if (label_field.error() == simdjson::SUCCESS) {
      if (label_field.get_string().get(label_value)) {
        return bad("label value is not a string");
      }
      s.label_value = std::string(label_value);
    }
    out.push_back(std::move(s));
    ++index;
  }
  return out;
}

util::SystemTime to_system_time(double unix_seconds) {
  // Prometheus timestamps have millisecond precision; rounding avoids 0.999999 artefacts.
  return util::SystemTime{std::chrono::duration_cast<util::SystemTime::duration>(
      std::chrono::milliseconds{std::llround(unix_seconds * 1000.0)})};
}

QpsReading to_reading(const Series& s, util::SystemTime now, std::chrono::seconds staleness,
                      std::chrono::seconds span) {
  if (!std::isfinite(s.value)) {
    return tl::unexpected(failure(FailureKind::NotFinite, fmt::format("value {}", s.value_text)));
  }
  if (s.value < 0) {
    return tl::unexpected(
        failure(FailureKind::Negative, fmt::format("value {} is negative", s.value_text)));
  }
  const auto stamp = to_system_time(s.timestamp);
  if (stamp < now - staleness) {
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - stamp);
    return tl::unexpected(
        failure(FailureKind::Stale,
                fmt::format("sample is {:.3f} s old; bound {} s",
                            static_cast<double>(age.count()) / 1000.0, staleness.count())));
  }
  return QpsSample{.qps = s.value, .timestamp = stamp, .span = span};
}

bool valid_label_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

class PrometheusQpsSource final : public QpsSource {
 public:
  PrometheusQpsSource(PrometheusConfig config, http::Client& client)
      : config_(std::move(config)), client_(client), shared_span_(span_of(config_.query)) {
    for (const auto& [service, query] : config_.per_service_queries) {
      service_spans_.emplace(service, span_of(query));
    }
  }

  std::vector<QpsReading> read(std::span<const model::ServiceId> services,
                               util::SystemTime now) override {
    std::vector<QpsReading> out(services.size(),
                                tl::unexpected(failure(FailureKind::Missing, "not read")));
    std::vector<std::size_t> shared;  // indexes of services answered by the main query
    for (std::size_t i = 0; i < services.size(); ++i) {
      const auto it = config_.per_service_queries.find(services[i]);
      if (it == config_.per_service_queries.end()) {
        shared.push_back(i);
        continue;
      }
      out[i] = read_single(it->second, service_spans_.at(services[i]), now);
    }
    if (shared.empty()) {
      return out;
    }
    if (config_.query.empty()) {
      for (auto i : shared) {
        out[i] = tl::unexpected(failure(FailureKind::Missing, "no query configured for service"));
      }
      return out;
    }

    const auto decoded = run(config_.query, now);
    if (!decoded) {
      for (auto i : shared) {
        out[i] = tl::unexpected(decoded.error());
      }
      return out;
    }
    struct Match {
      const Series* series = nullptr;
      int count = 0;
    };
    std::unordered_map<std::string_view, Match> wanted;
    wanted.reserve(shared.size());
    for (auto i : shared) {
      wanted.emplace(services[i].value, Match{});
    }
    for (const auto& s : *decoded) {
      if (!s.label_value) {
        continue;
      }
      const auto it = wanted.find(*s.label_value);
      if (it == wanted.end()) {
        continue;  // a service we do not manage
      }
      it->second.series = &s;
      ++it->second.count;
    }
    for (auto i : shared) {
      const auto& m = wanted.at(services[i].value);
      if (m.count == 0) {
        out[i] = tl::unexpected(
            failure(FailureKind::Missing,
                    fmt::format("no series with {}=\"{}\"", config_.label, services[i].value)));
      } else if (m.count > 1) {
        out[i] = tl::unexpected(failure(FailureKind::Malformed,
                                        fmt::format("{} series with {}=\"{}\" (ambiguous)", m.count,
                                                    config_.label, services[i].value)));
      } else {
        out[i] = to_reading(*m.series, now, config_.staleness, shared_span_);
      }
    }
    return out;
  }

 private:
  [[nodiscard]] QpsReading read_single(const std::string& query, std::chrono::seconds span,
                                       util::SystemTime now) const {
    const auto decoded = run(query, now);
    if (!decoded) {
      return tl::unexpected(decoded.error());
    }
    if (decoded->empty()) {
      return tl::unexpected(failure(FailureKind::Missing, "per-service query returned no series"));
    }
    if (decoded->size() > 1) {
      return tl::unexpected(failure(
          FailureKind::Malformed,
          fmt::format("per-service query returned {} series (ambiguous)", decoded->size())));
    }
    return to_reading(decoded->front(), now, config_.staleness, span);
  }

  [[nodiscard]] std::chrono::seconds span_of(std::string_view query) const {
    if (config_.span.count() > 0) return config_.span;
    return query_span(query).value_or(std::chrono::seconds{0});
  }

  [[nodiscard]] Decoded run(const std::string& query, util::SystemTime now) const {
    http::ClientRequest request;
    request.method = "GET";
    request.url = prometheus_query_url(config_.base_url, query, now);
    request.headers = config_.headers;
    request.headers.push_back({"Accept", "application/json"});
    request.timeout = config_.timeout;
    auto response = client_.send(request);
    if (!response) {
      return tl::unexpected(failure(FailureKind::Transport, response.error().to_string()));
    }
    return decode_reply(*response, config_.label);
  }

  PrometheusConfig config_;
  http::Client& client_;
  // The span of each query's values, read once: the queries do not change while the source lives.
  std::chrono::seconds shared_span_;
  std::map<model::ServiceId, std::chrono::seconds> service_spans_;
};

}  // namespace

std::string prometheus_query_url(std::string_view base_url, std::string_view query,
                                 util::SystemTime time) {
  while (!base_url.empty() && base_url.back() == '/') {
    base_url.remove_suffix(1);
  }
  return fmt::format("{}/api/v1/query?query={}&time={}", base_url, percent_encode(query),
                     format_unix_seconds(time));
}

Status validate(const PrometheusConfig& config) {
  std::vector<std::string> problems;
  // The host must be there once the user info goes to the Authorization header.
  std::string without_userinfo = config.base_url;
  const auto userinfo = find_userinfo(without_userinfo);
  without_userinfo.erase(userinfo.start, userinfo.length);
  const std::string_view url = without_userinfo;
  if (userinfo.length != 0) {
    if (auto decoded = decode_userinfo(userinfo.text(config.base_url)); !decoded) {
      problems.push_back(fmt::format("base_url: {}", decoded.error()));
    }
  }
  const bool scheme = url.starts_with("http://") || url.starts_with("https://");
  const auto host_start = url.find("://");
  if (!scheme || host_start == std::string_view::npos || url.size() <= host_start + 3 ||
      url[host_start + 3] == '/') {
    problems.push_back(
        fmt::format("base_url: \"{}\" must be http://host[:port][/prefix] or https://…",
                    util::redact_url(config.base_url)));
  } else if (url.find_first_of("?#") != std::string_view::npos) {
    problems.push_back(fmt::format("base_url: \"{}\" must not have a query or fragment",
                                   util::redact_url(config.base_url)));
  }
  if (!valid_label_name(config.label)) {
    problems.push_back(
        fmt::format("label: \"{}\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", config.label));
  }
  if (config.query.empty() && config.per_service_queries.empty()) {
    problems.emplace_back("query: empty; set it or give every service its own query");
  }
  for (const auto& [service, query] : config.per_service_queries) {
    if (query.empty() || service.empty()) {
      problems.push_back(fmt::format("per_service_queries[\"{}\"]: empty", service.value));
    }
  }
  if (config.timeout <= std::chrono::milliseconds::zero()) {
    problems.push_back(fmt::format("timeout: {} ms must be > 0", config.timeout.count()));
  }
  if (config.staleness <= std::chrono::seconds::zero()) {
    problems.push_back(fmt::format("staleness: {} s must be > 0", config.staleness.count()));
  }
  if (problems.empty()) {
    return util::ok();
  }
  return fail(ErrorCode::InvalidInput,
              fmt::format("prometheus source: {}", fmt::join(problems, "; ")));
}

Result<PrometheusConfig> with_basic_auth_from_url(PrometheusConfig config) {
  const auto found = find_userinfo(config.base_url);
  if (found.length == 0) return config;
  auto credentials = decode_userinfo(found.text(config.base_url));
  const auto bad = [](std::string_view why) {
    return fail(ErrorCode::InvalidInput, fmt::format("prometheus source: base_url: {}", why));
  };
  if (!credentials) return bad(credentials.error());
  for (const auto& header : config.headers) {
    if (lower_ascii(header.name) == "authorization") {
      return bad("user info in the URL and an Authorization header: set one of them");
    }
  }
  config.headers.push_back({"Authorization", "Basic " + base64_encode(*credentials)});
  config.base_url.erase(found.start, found.length);
  return config;
}

Result<std::unique_ptr<QpsSource>> make_prometheus_source(PrometheusConfig config,
                                                          http::Client& client) {
  if (auto status = validate(config); !status) {
    return tl::unexpected(status.error());
  }
  auto authorized = with_basic_auth_from_url(std::move(config));
  if (!authorized) return tl::unexpected(authorized.error());
  return std::make_unique<PrometheusQpsSource>(std::move(*authorized), client);
}

}  // namespace qfscale::demand
