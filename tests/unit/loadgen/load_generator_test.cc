#include "qfscale/loadgen/load_generator.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "support/fake_http_client.h"

namespace qfscale::loadgen {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpClient;

LoadSchedule trace_schedule(std::vector<float> rates, double speedup) {
  auto s = LoadSchedule::for_trace(trace::Trace(std::move(rates)), speedup);
  REQUIRE(s.has_value());
  return std::move(*s);
}

LoadSchedule constant(double qps) {
  auto s = LoadSchedule::create([qps](std::int64_t) { return qps; }, std::nullopt, 1.0);
  REQUIRE(s.has_value());
  return std::move(*s);
}

/// Options that never drop for lateness: these tests count outcomes, not timing.
LoadOptions options_for(std::vector<LoadStream> streams) {
  return LoadOptions{.streams = std::move(streams), .concurrency = 4, .max_lag = 60s};
}

TEST_SUITE("loadgen") {
  TEST_CASE("loadgen: answers count as ok, rejected or errors per stream") {
    FakeHttpClient client;
    client.set_handler([](const http::ClientRequest& r) -> FakeHttpClient::Reply {
      const std::string_view url = r.url;
      if (url.ends_with("/ok")) return testing::json_reply(200, "{}");
      if (url.ends_with("/created")) return testing::json_reply(201, "{}");
      if (url.ends_with("/throttled")) return testing::json_reply(429, "{}");
      if (url.ends_with("/unavailable")) return testing::json_reply(503, "{}");
      if (url.ends_with("/broken")) return testing::json_reply(500, "{\"error\":\"boom\"}");
      return fail(ErrorCode::Transient, "connect to 127.0.0.1:9: Connection refused");
    });
    struct Want {
      std::string_view path;
      LoadCounts counts;
    };
    // Each stream: trace [2, 3] = 5 requests, played at speedup 1000 (2 ms).
    const Want wants[] = {
        {"/ok", {.scheduled = 5, .sent = 5, .ok = 5}},
        {"/created", {.scheduled = 5, .sent = 5, .ok = 5}},
        {"/throttled", {.scheduled = 5, .sent = 5, .rejected = 5}},
        {"/unavailable", {.scheduled = 5, .sent = 5, .rejected = 5}},
        {"/broken", {.scheduled = 5, .sent = 5, .errors = 5}},
        {"/refused", {.scheduled = 5, .sent = 5, .errors = 5}},
    };
    std::vector<LoadStream> streams;
    for (const auto& w : wants) {
      streams.push_back({.name = std::string(w.path),
                         .url = "http://target.test" + std::string(w.path),
                         .schedule = trace_schedule({2, 3}, 1000)});
    }
    auto options = options_for(std::move(streams));
    options.method = "POST";
    options.headers = {{"X-Test", "1"}};
    options.body = "{}";
    std::vector<LoadProgress> finals;
    auto report =
        run_load(std::move(options), client, std::stop_token{}, [&](const LoadProgress& p) {
          if (p.final) finals.push_back(p);
        });
    REQUIRE_MESSAGE(report.has_value(), report.error().to_string());
    REQUIRE(report->per_stream.size() == std::size(wants));
    for (std::size_t i = 0; i < std::size(wants); ++i) {
      CAPTURE(wants[i].path);
      CHECK(report->per_stream[i] == wants[i].counts);
    }
    CHECK(report->total ==
          LoadCounts{.scheduled = 30, .sent = 30, .ok = 10, .rejected = 10, .errors = 10});
    CHECK_FALSE(report->stopped);
    CHECK_FALSE(report->last_error.empty());
    REQUIRE(finals.size() == 1);
    CHECK(finals[0].total == report->total);
    for (const auto& r : client.requests()) {
      CHECK(r.method == "POST");
      CHECK(r.body == "{}");
      CHECK(http::find_header(r.headers, "X-Test") == std::optional<std::string_view>("1"));
    }
  }

  TEST_CASE("loadgen: a duration cuts an endless schedule at exactly the due requests") {
    FakeHttpClient client;
    client.set_handler([](const http::ClientRequest&) { return testing::json_reply(200, "{}"); });
    // 1000 qps from wall 0: due at 0, 1, ..., 49 ms before the 50 ms end: 50 requests.
    std::vector<LoadStream> streams;
    streams.push_back({.name = "s", .url = "http://target.test/", .schedule = constant(1000)});
    auto options = options_for(std::move(streams));
    options.duration = 50ms;
    auto report = run_load(std::move(options), client, std::stop_token{});
    REQUIRE(report.has_value());
    CHECK(report->total == LoadCounts{.scheduled = 50, .sent = 50, .ok = 50});
    CHECK(report->elapsed >= 50ms);
    CHECK(client.request_count() == 50);
  }

  TEST_CASE("loadgen: stop ends an endless run cleanly, with consistent counts") {
    FakeHttpClient client;
    client.set_handler([](const http::ClientRequest&) { return testing::json_reply(200, "{}"); });
    std::vector<LoadStream> streams;
    streams.push_back({.name = "s", .url = "http://target.test/", .schedule = constant(2000)});
    auto options = options_for(std::move(streams));
    options.report_every = 1ms;
    std::stop_source stop;
    int reports = 0;
    // Stop from the third progress report: an event, not a timer in the test.
    auto report =
        run_load(std::move(options), client, stop.get_token(), [&](const LoadProgress& p) {
          if (!p.final && ++reports == 3) stop.request_stop();
        });
    REQUIRE(report.has_value());
    CHECK(report->stopped);
    CHECK(reports == 3);
    const auto& t = report->total;
    CHECK(t.scheduled == t.sent + t.dropped);
    CHECK(t.sent == t.ok);
    CHECK(t.sent == client.request_count());
  }

  TEST_CASE("loadgen: a request that cannot start within max lag is dropped, not delayed") {
    // One sender, held by the first request until the pacer has scheduled all ten (due every
    // 10 ms: trace [10] at speedup 10). By then requests 2..9 (due 10..80 ms) are at least
    // 10 ms late, beyond the 1 ms max lag; the last one (due 90 ms) may or may not be.
    std::mutex mu;
    std::condition_variable cv;
    bool all_due = false;
    FakeHttpClient client;
    client.set_handler([&](const http::ClientRequest&) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, 10s, [&] { return all_due; });
      return testing::json_reply(200, "{}");
    });
    std::vector<LoadStream> streams;
    streams.push_back(
        {.name = "s", .url = "http://target.test/", .schedule = trace_schedule({10}, 10)});
    LoadOptions options{
        .streams = std::move(streams), .concurrency = 1, .max_lag = 1ms, .report_every = 1ms};
    auto report =
        run_load(std::move(options), client, std::stop_token{}, [&](const LoadProgress& p) {
          if (p.total.scheduled == 10) {
            const std::lock_guard lock(mu);
            all_due = true;
            cv.notify_all();
          }
        });
    REQUIRE(report.has_value());
    const auto& t = report->total;
    CHECK(t.scheduled == 10);
    CHECK(t.dropped >= 8);
    CHECK(t.sent == 10 - t.dropped);
    CHECK(t.ok == t.sent);
  }

  TEST_CASE("loadgen: options are validated with the option named") {
    struct Case {
      std::string_view name;
      std::string url = "http://127.0.0.1:8765/traffic/svco-a";
      std::string method = "GET";
      int concurrency = 4;
      std::chrono::milliseconds max_lag{1000};
      std::optional<std::chrono::milliseconds> duration;
      http::Headers headers;
      std::string_view want;  ///< empty = valid
    };
    const Case cases[] = {
        {.name = "valid"},
        {.name = "https is fine", .url = "https://example.com/x"},
        {.name = "not a URL", .url = "127.0.0.1:8765", .want = "target"},
        {.name = "ftp", .url = "ftp://h/", .want = "target"},
        {.name = "empty method", .method = "", .want = "method"},
        {.name = "method with a space", .method = "G T", .want = "method"},
        {.name = "concurrency 0", .concurrency = 0, .want = "concurrency"},
        {.name = "concurrency 1", .concurrency = 1},
        {.name = "concurrency 4096", .concurrency = 4096},
        {.name = "concurrency 4097", .concurrency = 4097, .want = "concurrency"},
        {.name = "max lag 0", .max_lag = 0ms, .want = "max lag"},
        {.name = "max lag 1 ms", .max_lag = 1ms},
        {.name = "duration 0", .duration = 0ms, .want = "duration"},
        {.name = "duration 1 ms", .duration = 1ms},
        {.name = "a header", .headers = {{"Authorization", "Bearer x"}}},
        {.name = "header name with a space", .headers = {{"X Bad", "1"}}, .want = "header"},
        {.name = "header value with a line break",
         .headers = {{"X-Ok", "1\r\nX-Injected: 2"}},
         .want = "line breaks"},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        std::vector<LoadStream> streams;
        streams.push_back({.name = "s", .url = c.url, .schedule = trace_schedule({1}, 1)});
        LoadOptions options{.streams = std::move(streams),
                            .method = c.method,
                            .headers = c.headers,
                            .concurrency = c.concurrency,
                            .max_lag = c.max_lag,
                            .duration = c.duration};
        const auto status = validate(options);
        CHECK(status.has_value() == c.want.empty());
        if (!c.want.empty()) {
          CHECK(status.error().code == ErrorCode::InvalidInput);
          CHECK(status.error().to_string().find(c.want) != std::string::npos);
        }
      }
    }
    FakeHttpClient client;
    CHECK_FALSE(run_load(LoadOptions{}, client, std::stop_token{}).has_value());
  }
}

}  // namespace
}  // namespace qfscale::loadgen
