#include "qfscale/demand/prometheus_range.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "support/scripted_http_client.h"

namespace qfscale::demand {
namespace {

using namespace std::chrono_literals;
using testing::ScriptedHttpClient;

http::Response reply(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string matrix(std::string_view values) {
  return fmt::format(
      R"({{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[{}]}}]}}}})",
      values);
}

/// The `start`, `end` and `step` parameters of a query_range URL, as numbers.
std::int64_t param(const std::string& url, std::string_view name) {
  const auto at = url.find(fmt::format("&{}=", name));
  REQUIRE(at != std::string::npos);
  return std::stoll(url.substr(at + name.size() + 2));
}

TEST_SUITE("demand") {
  TEST_CASE("prometheus range: chunks stay under the 11,000-point limit") {
    // 7 days at 15 s: 40,320 points = 4 x 10,000 + 320.
    const auto week15 = plan_range_chunks(1000, 40'320, 15s);
    REQUIRE(week15.size() == 5);
    CHECK(week15[0] == RangeChunk{.start = 1000, .end = 1000 + 9'999 * 15});
    CHECK(week15[1].start == 1000 + 10'000 * 15);
    CHECK(week15[4] == RangeChunk{.start = 1000 + 40'000 * 15, .end = 1000 + 40'319 * 15});
    CHECK(plan_range_chunks(0, 604'800, 1s).size() == 61);
    CHECK(plan_range_chunks(0, 10'000, 1s).size() == 1);  // at, just above the chunk size
    CHECK(plan_range_chunks(0, 10'001, 1s).size() == 2);
    CHECK(plan_range_chunks(0, 10'001, 1s)[1] == RangeChunk{.start = 10'000, .end = 10'000});
    for (const auto& c : week15) CHECK((c.end - c.start) / 15 + 1 <= 11'000);
    CHECK(
        prometheus_range_url("http://p:9090/", "sum(rate(x[1m]))", {.start = 10, .end = 40}, 15s) ==
        "http://p:9090/api/v1/query_range?query=sum%28rate%28x%5B1m%5D%29%29&start=10&end=40"
        "&step=15");
  }

  TEST_CASE("prometheus range: replies decode to the one series' points or a clear error") {
    const auto ok = decode_range_reply(reply(200, matrix(R"([10,"1.5"],[25.5,"NaN"])")));
    REQUIRE(ok);
    REQUIRE(ok->size() == 2);
    CHECK((*ok)[0] == RangePoint{10, 1.5});
    CHECK((*ok)[1].first == 25.5);
    CHECK(std::isnan((*ok)[1].second));
    const auto none = decode_range_reply(
        reply(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})"));
    REQUIRE(none);
    CHECK(none->empty());

    struct Case {
      std::string_view name;
      int status;
      std::string body;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "two series",
         .status = 200,
         .body = R"({"status":"success","data":{"resultType":"matrix","result":[)"
                 R"({"metric":{"a":"1"},"values":[]},{"metric":{"a":"2"},"values":[]}]}})",
         .want = "the query returned 2 series; it must return one, e.g. sum("},
        {.name = "query error",
         .status = 400,
         .body =
             R"({"status":"error","errorType":"bad_data","error":"exceeded maximum resolution"})",
         .want = "bad_data: exceeded maximum resolution"},
        {.name = "a vector",
         .status = 200,
         .body = R"({"status":"success","data":{"resultType":"vector","result":[]}})",
         .want = "not a range query's matrix"},
        {.name = "proxy page",
         .status = 502,
         .body = "<html>bad gateway</html>",
         .want = "HTTP 502"},
        {.name = "bad value",
         .status = 200,
         .body = matrix(R"([10,"x"])"),
         .want = "values[0]: \"x\" is not a number"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto r = decode_range_reply(reply(c.status, c.body));
      REQUIRE_FALSE(r);
      CHECK(r.error().code == ErrorCode::Remote);
      CHECK_MESSAGE(r.error().message.find(c.want) != std::string::npos, r.error().message);
    }
  }

  TEST_CASE("prometheus range: points become seconds; gaps hold the point before") {
    // Start 100, step 2 s, range 10 s: points at 102, 104, …, 110, the one at 102 filling seconds
    // 0 and 1. 106 is missing, 108 is NaN, 105 is off the grid and 100 and 200 are outside
    // (ignored).
    const RangePoint points[] = {{100, 7}, {102, 1}, {104, 2}, {105, 50}, {108, std::nan("")},
                                 {110, 4}, {200, 9}};
    const auto h = history_from_points(points, 100, 10s, 2s);
    REQUIRE(h);
    CHECK(h->points == 5);
    CHECK(h->missing_points == 2);
    CHECK(h->trace == trace::Trace({1, 1, 2, 2, 2, 2, 2, 2, 4, 4}));
    // A leading gap is 0 until the first point.
    const RangePoint late[] = {{106, 3}};
    const auto l = history_from_points(late, 100, 6s, 2s);
    REQUIRE(l);
    CHECK(l->trace == trace::Trace({0, 0, 0, 0, 3, 3}));

    const RangePoint negative[] = {{102, -1}};
    const auto n = history_from_points(negative, 100, 2s, 2s);
    REQUIRE_FALSE(n);
    CHECK(n.error().message.find("is -1; a QPS must be a finite number >= 0") != std::string::npos);
    const auto empty = history_from_points({}, 100, 2s, 2s);
    REQUIRE_FALSE(empty);
    CHECK(empty.error().message == "the query returned no data in the range");
  }

  TEST_CASE("prometheus range: read_range_history asks every chunk and joins them") {
    // 12,000 one-second points after 1000: two chunks. The point at 1000 + s + 1 holds s, so
    // the trace must read 0, 1, 2, … whatever the chunking.
    ScriptedHttpClient client([](const http::ClientRequest& r) -> Result<http::Response> {
      const auto start = param(r.url, "start");
      const auto end = param(r.url, "end");
      std::string values;
      for (auto t = start; t <= end; ++t) {
        values += fmt::format("{}[{},\"{}\"]", values.empty() ? "" : ",", t, t - 1001);
      }
      return reply(200, matrix(values));
    });
    const auto h = read_range_history(client, {.base_url = "http://u:secret@prom:9090",
                                               .query = "sum(rate(x[1m]))",
                                               .start_unix_seconds = 1000,
                                               .range = 12'000s,
                                               .step = 1s});
    REQUIRE_MESSAGE(h, h.error().to_string());
    CHECK(h->requests == 2);
    CHECK(h->missing_points == 0);
    REQUIRE(h->trace.size() == 12'000);
    CHECK(h->trace.per_second()[0] == 0);
    CHECK(h->trace.per_second()[10'000] == 10'000);
    CHECK(h->trace.per_second()[11'999] == 11'999);
    const auto requests = client.requests();
    REQUIRE(requests.size() == 2);
    CHECK(param(requests[0].url, "start") == 1'001);  // a step after the start
    CHECK(param(requests[0].url, "end") == 11'000);
    CHECK(param(requests[1].url, "start") == 11'001);
    CHECK(param(requests[1].url, "end") == 13'000);
    // The URL's credentials went into a header, not the URL.
    CHECK(requests[0].url.find("secret") == std::string::npos);

    const auto bad = read_range_history(
        client, {.base_url = "http://prom:9090", .query = "q", .range = 10s, .step = 3s});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "range 10 s must be a positive multiple of the step 3 s");
  }
}

}  // namespace
}  // namespace qfscale::demand
