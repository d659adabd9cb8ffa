#include "qfscale/demand/prometheus_source.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/util/file.h"

#include "support/scripted_http_client.h"

namespace qfscale::demand {
namespace {

using namespace std::chrono_literals;
using model::ServiceId;
using testing::ScriptedHttpClient;

const util::SystemTime kNow{1'700'000'000s};

std::string recorded(std::string_view name) {
  auto text = util::read_file(std::string(QFS_TEST_DATA_DIR "/prometheus/") + std::string(name));
  REQUIRE_MESSAGE(text.has_value(), text.error().to_string());
  return *text;
}

PrometheusConfig base_config() {
  return PrometheusConfig{.base_url = "http://prom.internal:9090",
                          .query = "sum by (service) (rate(qianfan_requests_total[1m]))"};
}

std::vector<QpsReading> read_with(ScriptedHttpClient& client, PrometheusConfig config,
                                  const std::vector<ServiceId>& services) {
  auto source = make_prometheus_source(std::move(config), client);
  REQUIRE_MESSAGE(source.has_value(), source.error().to_string());
  return (*source)->read(services, kNow);
}

/// What one service's reading should be: a value, or a failure kind.
struct Want {
  std::string_view service;
  std::optional<double> qps;
  FailureKind kind = FailureKind::Missing;
};

TEST_SUITE("demand") {
  TEST_CASE("prometheus: recorded replies decode to samples or distinct typed failures") {
    struct Case {
      std::string_view name;
      std::string_view file;
      int status = 200;
      std::vector<Want> want;
    };
    const Case cases[] = {
        {.name = "success vector; unmanaged and unlabelled series ignored",
         .file = "success_vector.json",
         .want = {{"svco-a1b2c3", 12.5},
                  {"svco-d4e5f6", 0.0},  // a real zero is a sample, not a failure
                  {"svco-not-in-result", std::nullopt, FailureKind::Missing}}},
        {.name = "empty vector: every service missing",
         .file = "empty_vector.json",
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::Missing}}},
        {.name = "NaN and +Inf are not finite; a negative rate is its own kind",
         .file = "nan_value.json",
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::NotFinite},
                  {"svco-d4e5f6", std::nullopt, FailureKind::NotFinite},
                  {"svco-g7h8i9", std::nullopt, FailureKind::Negative}}},
        // Bound 120 s: 1000 s old is stale; 120 s old (1699999880) is exactly at the bound: fresh.
        {.name = "stale sample beyond the bound; sample at the bound is fresh",
         .file = "stale_sample.json",
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::Stale}, {"svco-d4e5f6", 8.0}}},
        {.name = "status error with 400 is a query error, not an HTTP status failure",
         .file = "status_error_bad_data.json",
         .status = 400,
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::QueryError}}},
        {.name = "status error with 503 (timeout) is a query error",
         .file = "status_error_timeout.json",
         .status = 503,
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::QueryError}}},
        {.name = "matrix instead of vector is malformed",
         .file = "matrix_result.json",
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::Malformed}}},
        {.name = "truncated JSON is malformed",
         .file = "malformed.json",
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::Malformed},
                  {"svco-d4e5f6", std::nullopt, FailureKind::Malformed}}},
        {.name = "a sample value that is not a number is malformed",
         .file = "value_not_a_number.json",
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::Malformed}}},
        {.name = "HTML 502 page from a proxy is an HTTP status failure",
         .file = "bad_gateway_502.html",
         .status = 502,
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::HttpStatus}}},
        {.name = "duplicate series for one service is ambiguous; the other service is fine",
         .file = "duplicate_series.json",
         .want = {{"svco-a1b2c3", std::nullopt, FailureKind::Malformed}, {"svco-d4e5f6", 2.75}}},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto client = ScriptedHttpClient::replying(c.status, recorded(c.file));
        std::vector<ServiceId> services;
        for (const auto& w : c.want) services.emplace_back(w.service);
        const auto readings = read_with(client, base_config(), services);
        REQUIRE(readings.size() == c.want.size());
        CHECK(client.requests().size() == 1);
        for (std::size_t i = 0; i < readings.size(); ++i) {
          CAPTURE(c.want[i].service);
          const auto& r = readings[i];
          if (c.want[i].qps) {
            REQUIRE_MESSAGE(r.has_value(), r.error().message);
            CHECK(r->qps == *c.want[i].qps);
          } else {
            REQUIRE(!r.has_value());
            CHECK(r.error().kind == c.want[i].kind);
            CHECK_FALSE(r.error().message.empty());
          }
        }
      }
    }
  }

  TEST_CASE("prometheus: failure details carry status, errorType and the sample time") {
    {
      auto client = ScriptedHttpClient::replying(400, recorded("status_error_bad_data.json"));
      const auto r = read_with(client, base_config(), {ServiceId("svco-a1b2c3")});
      REQUIRE(!r[0].has_value());
      CHECK(r[0].error().error_type == "bad_data");
      CHECK(r[0].error().http_status == 400);
      CHECK(r[0].error().message.find("unexpected right parenthesis") != std::string::npos);
      CHECK(
          fmt::format("{}", r[0].error()).starts_with("query_error: bad_data: invalid parameter"));
    }
    {
      auto client = ScriptedHttpClient::replying(502, recorded("bad_gateway_502.html"));
      const auto r = read_with(client, base_config(), {ServiceId("svco-a1b2c3")});
      REQUIRE(!r[0].has_value());
      CHECK(r[0].error().http_status == 502);
      CHECK(r[0].error().message.find("502 Bad Gateway") != std::string::npos);
      CHECK(fmt::format("{}", r[0].error()).starts_with("http_status: HTTP 502: <html>"));
    }
    {
      auto client = ScriptedHttpClient::replying(200, recorded("stale_sample.json"));
      const auto r = read_with(client, base_config(), {ServiceId("svco-d4e5f6")});
      REQUIRE(r[0].has_value());
      CHECK(r[0]->timestamp == util::SystemTime{1'699'999'880s});
    }
    {
      // 1699999000.25 is 999.75 s before now.
      auto client = ScriptedHttpClient::replying(200, recorded("stale_sample.json"));
      const auto r = read_with(client, base_config(), {ServiceId("svco-a1b2c3")});
      REQUIRE(!r[0].has_value());
      CHECK(r[0].error().message.find("999.750 s old") != std::string::npos);
    }
  }

  TEST_CASE("prometheus: transport errors are their own kind, never zero") {
    ScriptedHttpClient client([](const http::ClientRequest&) -> Result<http::Response> {
      return fail(ErrorCode::Transient, "connect 127.0.0.1:9090: connection refused");
    });
    const auto r =
        read_with(client, base_config(), {ServiceId("svco-a1b2c3"), ServiceId("svco-d4e5f6")});
    for (const auto& reading : r) {
      REQUIRE(!reading.has_value());
      CHECK(reading.error().kind == FailureKind::Transport);
      CHECK(reading.error().message.find("connection refused") != std::string::npos);
    }
  }

  TEST_CASE("prometheus: implausible timestamps are malformed, not stale or fresh") {
    // 9699999879 s is year 2277, past what SystemTime holds (found by the fuzz target).
    for (std::string_view ts : {"9699999879", "-1", "1e300", "\"1700000000\""}) {
      CAPTURE(ts);
      auto client = ScriptedHttpClient::replying(
          200, fmt::format(R"({{"status":"success","data":{{"resultType":"vector","result":[)"
                           R"({{"metric":{{"service":"svco-a1b2c3"}},"value":[{},"8"]}}]}}}})",
                           ts));
      const auto r = read_with(client, base_config(), {ServiceId("svco-a1b2c3")});
      REQUIRE(!r[0].has_value());
      CHECK(r[0].error().kind == FailureKind::Malformed);
    }
  }

  TEST_CASE("prometheus: a 2xx success body with a non-2xx status is an HTTP failure") {
    auto client = ScriptedHttpClient::replying(500, recorded("success_vector.json"));
    const auto r = read_with(client, base_config(), {ServiceId("svco-a1b2c3")});
    REQUIRE(!r[0].has_value());
    CHECK(r[0].error().kind == FailureKind::HttpStatus);
    CHECK(r[0].error().http_status == 500);
  }

  TEST_CASE("prometheus: every failure kind has a distinct snake_case label") {
    std::set<std::string_view> labels;
    for (auto kind : kAllFailureKinds) {
      const auto label = to_string(kind);
      CHECK(label.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos);
      labels.insert(label);
    }
    CHECK(labels.size() == kAllFailureKinds.size());
    CHECK(to_string(FailureKind::NotFinite) == "nan");
    CHECK(to_string(FailureKind::HttpStatus) == "http_status");
    CHECK(to_string(FailureKind::QueryError) == "query_error");
  }

  TEST_CASE("prometheus: request is one GET with the encoded query, time, timeout and headers") {
    auto client = ScriptedHttpClient::replying(200, recorded("success_vector.json"));
    auto config = base_config();
    config.base_url = "http://prom.internal:9090/prefix/";
    config.timeout = 1500ms;
    config.headers.push_back({"Authorization", "Bearer t0ken"});
    auto source = make_prometheus_source(config, client);
    REQUIRE(source.has_value());
    const std::vector<ServiceId> services = {ServiceId("svco-a1b2c3"), ServiceId("svco-d4e5f6")};
    (void)(*source)->read(services, kNow + 250ms);
    const auto requests = client.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].url ==
          "http://prom.internal:9090/prefix/api/v1/query?query="
          "sum%20by%20%28service%29%20%28rate%28qianfan_requests_total%5B1m%5D%29%29"
          "&time=1700000000.25");
    CHECK(requests[0].timeout == 1500ms);
    CHECK(requests[0].headers ==
          http::Headers{{"Authorization", "Bearer t0ken"}, {"Accept", "application/json"}});
  }

  TEST_CASE("prometheus: user info in the URL is sent as basic auth, never in the URL") {
    auto client = ScriptedHttpClient::replying(200, recorded("success_vector.json"));
    auto config = base_config();
    // RFC 7617's example: "Aladdin:open sesame"; the space percent-encoded, as in a URL.
    config.base_url = "http://Aladdin:open%20sesame@prom.internal:9090/prefix";
    auto source = make_prometheus_source(config, client);
    REQUIRE(source.has_value());
    const std::vector<ServiceId> services = {ServiceId("svco-a1b2c3")};
    (void)(*source)->read(services, kNow);
    const auto requests = client.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].url.starts_with("http://prom.internal:9090/prefix/api/v1/query?"));
    CHECK(requests[0].headers ==
          http::Headers{{"Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
                        {"Accept", "application/json"}});
  }

  TEST_CASE("prometheus: with_basic_auth_from_url decodes, refuses hostile user info unquoted") {
    struct Case {
      std::string_view name;
      std::string url;
      std::string want_url;     // empty: refused
      std::string want_header;  // the Authorization value, empty: none
    };
    const Case cases[] = {
        {.name = "no user info: unchanged",
         .url = "https://prom:9090/x",
         .want_url = "https://prom:9090/x",
         .want_header = ""},
        // "u:p@ss" -> dTpwQHNz
        {.name = "raw @ in the password: the last @ ends the user info",
         .url = "http://u:p@ss@prom",
         .want_url = "http://prom",
         .want_header = "Basic dTpwQHNz"},
        {.name = "percent-encoded @ and : in the password",
         .url = "http://u:p%40s%3As@prom/",
         .want_url = "http://prom/",
         .want_header = "Basic dTpwQHM6cw=="},  // "u:p@s:s"
        {.name = "user without password: empty password",
         .url = "http://u@prom",
         .want_url = "http://prom",
         .want_header = "Basic dTo="},  // "u:"
        {.name = "empty user info",
         .url = "http://@prom",
         .want_url = "http://prom",
         .want_header = "Basic Og=="},  // ":"
        {.name = "@ in the path is not user info",
         .url = "http://prom/a@b",
         .want_url = "http://prom/a@b",
         .want_header = ""},
        {.name = "bad percent-encoding",
         .url = "http://u:p%4@prom",
         .want_url = "",
         .want_header = ""},
        {.name = "truncated percent-encoding",
         .url = "http://u:p%@prom",
         .want_url = "",
         .want_header = ""},
        {.name = "encoded colon in the user",
         .url = "http://a%3Ab:p@prom",
         .want_url = "",
         .want_header = ""},
        {.name = "encoded newline (header injection)",
         .url = "http://u:p%0d%0aX-Evil:%201@prom",
         .want_url = "",
         .want_header = ""},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto config = base_config();
      config.base_url = c.url;
      const auto got = with_basic_auth_from_url(config);
      if (c.want_url.empty()) {
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == ErrorCode::InvalidInput);
        CHECK(got.error().message.find("user info") != std::string::npos);
        const auto userinfo = c.url.substr(7, c.url.rfind('@') - 7);
        CHECK(got.error().message.find(userinfo) == std::string::npos);
        CHECK_FALSE(validate(config).has_value());
        continue;
      }
      REQUIRE(got.has_value());
      CHECK(got->base_url == c.want_url);
      if (c.want_header.empty()) {
        CHECK(got->headers.empty());
      } else {
        CHECK(got->headers == http::Headers{{"Authorization", c.want_header}});
      }
      CHECK(validate(config).has_value());
    }
    // Two sources of credentials for one request: refused rather than picking one silently.
    auto both = base_config();
    both.base_url = "http://u:p@prom";
    both.headers.push_back({"authorization", "Bearer x"});
    CHECK_FALSE(with_basic_auth_from_url(both).has_value());
  }

  TEST_CASE("prometheus: validation messages never quote the password") {
    const std::string password = "0b6e4f2a9c8d4e51a7f3b2c1d0e9f8a7";
    auto config = base_config();
    config.base_url = "http://admin:" + password + "@/x";  // user info, but no host
    const auto status = validate(config);
    REQUIRE_FALSE(status.has_value());
    CHECK(status.error().message.find("http://admin:***@/x") != std::string::npos);
    CHECK(status.error().message.find(password) == std::string::npos);
    config.base_url = "http://admin:" + password + "@prom/?q=1";
    REQUIRE_FALSE(validate(config).has_value());
    CHECK(validate(config).error().message.find(password) == std::string::npos);
  }

  TEST_CASE("prometheus: query URL encodes reserved and non-ASCII bytes and formats time") {
    struct Case {
      std::string_view name;
      std::string_view query;
      util::SystemTime time;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "whole second has no fraction",
         .query = "up",
         .time = kNow,
         .want = "http://p:9090/api/v1/query?query=up&time=1700000000"},
        {.name = "milliseconds without trailing zeros",
         .query = "up",
         .time = kNow + 120ms,
         .want = "http://p:9090/api/v1/query?query=up&time=1700000000.12"},
        {.name = "sub-millisecond is truncated",
         .query = "up",
         .time = kNow + 1ms + 999us,
         .want = "http://p:9090/api/v1/query?query=up&time=1700000000.001"},
        {.name = "label matchers, quotes, plus, ampersand and UTF-8",
         .query = R"(a{s="x+y&z",n="服"})",
         .time = kNow,
         .want = "http://p:9090/api/v1/query?query="
                 "a%7Bs%3D%22x%2By%26z%22%2Cn%3D%22%E6%9C%8D%22%7D&time=1700000000"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(prometheus_query_url("http://p:9090", c.query, c.time) == c.want);
    }
  }

  TEST_CASE("prometheus: per-service queries override the shared query, one request each") {
    const std::string shared_query = "sum by (service) (rate(qianfan_requests_total[1m]))";
    const std::string override_query = R"(sum(rate(gw_requests_total{route="/chat"}[2m])))";
    const auto single = [](std::string_view value) {
      return fmt::format(
          R"({{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1700000000,"{}"]}}]}}}})",
          value);
    };
    const std::string two_series =
        R"({"status":"success","data":{"resultType":"vector","result":[)"
        R"({"metric":{"a":"1"},"value":[1700000000,"1"]},{"metric":{"a":"2"},"value":[1700000000,"2"]}]}})";
    const std::string shared_reply = recorded("success_vector.json");
    std::string override_reply = single("99.5");
    ScriptedHttpClient client([&](const http::ClientRequest& request) -> Result<http::Response> {
      http::Response r;
      r.body = request.url.find("gw_requests_total") != std::string::npos ? override_reply
                                                                          : shared_reply;
      return r;
    });
    auto config = base_config();
    // svco-d4e5f6 appears in the shared reply with 0; its override must win.
    config.per_service_queries.emplace(ServiceId("svco-d4e5f6"), override_query);
    const std::vector<ServiceId> services = {ServiceId("svco-a1b2c3"), ServiceId("svco-d4e5f6")};
    auto source = make_prometheus_source(config, client);
    REQUIRE(source.has_value());

    auto r = (*source)->read(services, kNow);
    REQUIRE(r[0].has_value());
    CHECK(r[0]->qps == 12.5);
    REQUIRE(r[1].has_value());
    CHECK(r[1]->qps == 99.5);
    // Each value's span is its own query's range (promql_span.h): [1m] and [2m].
    CHECK(r[0]->span == 60s);
    CHECK(r[1]->span == 120s);
    const auto requests = client.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].url == prometheus_query_url(config.base_url, override_query, kNow));
    CHECK(requests[1].url == prometheus_query_url(config.base_url, shared_query, kNow));

    SUBCASE("metrics.prometheus.span, when set, is every value's span") {
      config.span = 15s;
      auto spanned = make_prometheus_source(config, client);
      REQUIRE(spanned.has_value());
      r = (*spanned)->read(services, kNow);
      REQUIRE(r[0].has_value());
      REQUIRE(r[1].has_value());
      CHECK(r[0]->span == 15s);
      CHECK(r[1]->span == 15s);
    }
    SUBCASE("a query without one range selector has no span to read") {
      config.per_service_queries.clear();
      config.query = "sum by (service) (recorded_qps)";
      auto gauge = make_prometheus_source(config, client);
      REQUIRE(gauge.has_value());
      r = (*gauge)->read(services, kNow);
      REQUIRE(r[0].has_value());
      CHECK(r[0]->span == 0s);
    }
    SUBCASE("an override returning two series is ambiguous") {
      override_reply = two_series;
      r = (*source)->read(services, kNow);
      REQUIRE(!r[1].has_value());
      CHECK(r[1].error().kind == FailureKind::Malformed);
      CHECK(r[0].has_value());
    }
    SUBCASE("an override returning no series is missing") {
      override_reply = recorded("empty_vector.json");
      r = (*source)->read(services, kNow);
      REQUIRE(!r[1].has_value());
      CHECK(r[1].error().kind == FailureKind::Missing);
    }
    SUBCASE("an override returning NaN is not finite") {
      override_reply = single("NaN");
      r = (*source)->read(services, kNow);
      REQUIRE(!r[1].has_value());
      CHECK(r[1].error().kind == FailureKind::NotFinite);
    }
  }

  TEST_CASE("prometheus: no shared request when every requested service has an override") {
    auto client = ScriptedHttpClient::replying(
        200,
        R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"3"]}]}})");
    auto config = base_config();
    config.query.clear();
    config.per_service_queries.emplace(ServiceId("svco-a1b2c3"), "sum(rate(x[1m]))");
    const auto r = read_with(client, config, {ServiceId("svco-a1b2c3")});
    REQUIRE(r[0].has_value());
    CHECK(r[0]->qps == 3.0);
    CHECK(client.requests().size() == 1);
    // A service without an override and no shared query: missing, and still no extra request.
    const auto r2 = read_with(client, config, {ServiceId("svco-other")});
    REQUIRE(!r2[0].has_value());
    CHECK(r2[0].error().kind == FailureKind::Missing);
    CHECK(client.requests().size() == 1);
  }

  TEST_CASE("prometheus: label is configurable") {
    auto client = ScriptedHttpClient::replying(
        200,
        R"({"status":"success","data":{"resultType":"vector","result":[)"
        R"({"metric":{"service":"svco-x","qianfan_service":"svco-a1b2c3"},"value":[1700000000,"4"]}]}})");
    auto config = base_config();
    config.label = "qianfan_service";
    const auto r = read_with(client, config, {ServiceId("svco-a1b2c3"), ServiceId("svco-x")});
    REQUIRE(r[0].has_value());
    CHECK(r[0]->qps == 4.0);
    REQUIRE(!r[1].has_value());
    CHECK(r[1].error().kind == FailureKind::Missing);
  }

  TEST_CASE("prometheus: config validation names each bad field") {
    struct Case {
      std::string_view name;
      PrometheusConfig config;
      std::string_view want;  // empty: valid
    };
    const auto with = [](auto change) {
      auto c = base_config();
      change(c);
      return c;
    };
    const Case cases[] = {
        {.name = "defaults are valid", .config = base_config(), .want = ""},
        {.name = "https with prefix is valid",
         .config = with([](auto& c) { c.base_url = "https://thanos.example/prom"; }),
         .want = ""},
        {.name = "no scheme",
         .config = with([](auto& c) { c.base_url = "prom:9090"; }),
         .want = "base_url"},
        {.name = "no host",
         .config = with([](auto& c) { c.base_url = "http:///x"; }),
         .want = "base_url"},
        {.name = "query string in base",
         .config = with([](auto& c) { c.base_url = "http://p/?x=1"; }),
         .want = "query or fragment"},
        {.name = "label starting with a digit",
         .config = with([](auto& c) { c.label = "1service"; }),
         .want = "label"},
        {.name = "empty query and no overrides",
         .config = with([](auto& c) { c.query.clear(); }),
         .want = "query: empty"},
        {.name = "zero timeout",
         .config = with([](auto& c) { c.timeout = 0ms; }),
         .want = "timeout"},
        {.name = "negative staleness",
         .config = with([](auto& c) { c.staleness = -1s; }),
         .want = "staleness"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto status = validate(c.config);
      if (c.want.empty()) {
        CHECK(status.has_value());
      } else {
        REQUIRE(!status.has_value());
        CHECK(status.error().code == ErrorCode::InvalidInput);
        CHECK(status.error().message.find(c.want) != std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace qfscale::demand
