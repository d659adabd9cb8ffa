// `qfscale loadgen`'s core (loadgen::run_load over the real HTTP client) against the real fake
// (FakeQianfan on http::start_server at 127.0.0.1:0). The fake runs on a ManualClock that never
// moves, so every request lands in the same traffic second and the fake serves exactly
// floor(ready replicas x qps) of them, whatever the wall-clock timing of the run; the rest get
// 429. Then DescribeServiceMetric, through the real client and the Qianfan metric source,
// reports the same calls.

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/demand/qianfan_metric_source.h"
#include "qfscale/demand/synthetic.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/loadgen/load_generator.h"
#include "qfscale/loadgen/load_schedule.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/util/random.h"

#include "unit/fake/fixture.h"

namespace qfscale::loadgen {
namespace {

using namespace std::chrono_literals;
using fake::testing::kAlpha;  // 1 ready replica x 5 qps = 5 served per second
using fake::testing::kBeta;   // 1 x 2.5 qps = floor(2.5) = 2 served per second
using fake::testing::kGamma;  // 2 x 10 qps = 20 served per second

/// The fake behind a real server, and a keep-alive client for the load.
struct Live {
  fake::testing::Harness harness;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Client> client;
  std::string base;

  Live() {
    auto started =
        http::start_server({.listen = "127.0.0.1:0", .threads = 2}, harness.fake->router());
    REQUIRE_MESSAGE(started.has_value(), (started ? "" : started.error().to_string()));
    server = std::move(*started);
    auto made = http::make_client({.request_timeout = 10s, .max_idle_per_host = 8});
    REQUIRE(made.has_value());
    client = std::move(*made);
    base = "http://" + server->address();
  }
  ~Live() { server->stop(); }
  Live(const Live&) = delete;
  Live& operator=(const Live&) = delete;
  Live(Live&&) = delete;
  Live& operator=(Live&&) = delete;

  LoadReport run(std::vector<LoadStream> streams) {
    // max_lag 60 s: on a loaded machine nothing is dropped, so counts are exact.
    auto report =
        run_load(LoadOptions{.streams = std::move(streams), .concurrency = 4, .max_lag = 60s},
                 *client, std::stop_token{});
    REQUIRE_MESSAGE(report.has_value(), (report ? "" : report.error().to_string()));
    return *report;
  }

  /// `qfscale_fake_requests_total{service=…,outcome=…}` from the fake's /metrics.
  std::uint64_t counter(std::string_view service, std::string_view outcome) {
    auto r = client->send({.method = "GET", .url = base + "/metrics"});
    REQUIRE(r.has_value());
    REQUIRE(r->status == 200);
    const std::string key = fmt::format(
        "qfscale_fake_requests_total{{service=\"{}\",outcome=\"{}\"}} ", service, outcome);
    const auto at = r->body.find(key);
    REQUIRE_MESSAGE(at != std::string::npos, key);
    return std::stoull(r->body.substr(at + key.size()));
  }
};

LoadSchedule trace_schedule(std::vector<float> rates, double speedup) {
  auto s = LoadSchedule::for_trace(trace::Trace(std::move(rates)), speedup);
  REQUIRE(s.has_value());
  return std::move(*s);
}

TEST_SUITE("loadgen") {
  TEST_CASE("loadgen: a trace replay is served up to capacity and the rest rejected") {
    Live live;
    // 12 + 18 = 30 requests in 2 trace seconds, played in 2 ms of wall time. The frozen clock
    // puts all 30 in one traffic second: 5 served (1 x 5 qps), 25 rejected with 429.
    std::vector<LoadStream> streams;
    streams.push_back({.name = std::string(kAlpha),
                       .url = fmt::format("{}/traffic/{}", live.base, kAlpha),
                       .schedule = trace_schedule({12, 18}, 1000)});
    const auto report = live.run(std::move(streams));
    CHECK(report.total ==
          LoadCounts{.scheduled = 30, .sent = 30, .ok = 5, .rejected = 25, .errors = 0});
    CHECK(report.last_error.empty());
    CHECK(live.counter(kAlpha, "served") == 5);
    CHECK(live.counter(kAlpha, "rejected") == 25);
    CHECK(live.counter(kGamma, "served") == 0);  // nothing leaked to other services
  }

  TEST_CASE("loadgen: synthetic streams per service, each capped by its own capacity") {
    Live live;
    auto traffic = demand::SyntheticTraffic::create({.seed = 7, .base_qps = 4, .noise = 0.3});
    REQUIRE(traffic.has_value());
    struct Service {
      std::string_view id;
      std::uint64_t capacity;
    };
    const Service services[] = {{kAlpha, 5}, {kBeta, 2}, {kGamma, 20}};
    std::vector<LoadStream> streams;
    std::vector<std::uint64_t> want_sent;
    for (const auto& s : services) {
      const auto stream = demand::SyntheticTraffic::stream_for(s.id);
      const RateFunction rate = [t = *traffic, stream](std::int64_t k) {
        return t.rate_at(k, stream);
      };
      // 10 trace seconds at speedup 1000: 10 ms. The expected count comes from an identical
      // schedule played to its end (the schedule's own arithmetic is unit-tested).
      auto expected = LoadSchedule::create(rate, 10, 1000);
      REQUIRE(expected.has_value());
      want_sent.push_back(expected->take(1h));
      auto schedule = LoadSchedule::create(rate, 10, 1000);
      REQUIRE(schedule.has_value());
      streams.push_back({.name = std::string(s.id),
                         .url = fmt::format("{}/traffic/{}", live.base, s.id),
                         .schedule = std::move(*schedule)});
    }
    const auto report = live.run(std::move(streams));
    REQUIRE(report.per_stream.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CAPTURE(services[i].id);
      const auto sent = want_sent[i];
      CHECK(sent > 0);  // about 4-5 qps for 10 s: tens of requests per stream
      const auto served = std::min(sent, services[i].capacity);
      CHECK(report.per_stream[i] ==
            LoadCounts{.scheduled = sent, .sent = sent, .ok = served, .rejected = sent - served});
      CHECK(live.counter(services[i].id, "served") == served);
      CHECK(live.counter(services[i].id, "rejected") == sent - served);
    }
  }

  TEST_CASE("loadgen: an unknown service's 404 counts as an error") {
    Live live;
    std::vector<LoadStream> streams;
    streams.push_back({.name = "svco-unknown00001",
                       .url = live.base + "/traffic/svco-unknown00001",
                       .schedule = trace_schedule({3}, 1000)});
    const auto report = live.run(std::move(streams));
    CHECK(report.total == LoadCounts{.scheduled = 3, .sent = 3, .errors = 3});
    CHECK(report.last_error.find("HTTP 404") != std::string::npos);
  }

  TEST_CASE("loadgen: DescribeServiceMetric reports the calls the load made") {
    Live live;
    std::vector<LoadStream> streams;
    streams.push_back({.name = std::string(kAlpha),
                       .url = fmt::format("{}/traffic/{}", live.base, kAlpha),
                       .schedule = trace_schedule({12, 18}, 1000)});
    REQUIRE(live.run(std::move(streams)).total.sent == 30);

    util::Random random(1);
    qianfan::ClientConfig config;
    config.credentials = fake::testing::kCredentials;
    config.base_url = live.base;
    auto api = qianfan::make_qianfan_client(config, *live.client, live.harness.clock, random,
                                            [](std::chrono::milliseconds) {});
    REQUIRE(api.has_value());
    auto source = demand::make_qianfan_metric_source({.window = 60s}, **api);
    REQUIRE(source.has_value());
    // The load fell in second kStart; the window [kStart + 1 s - 60 s, kStart + 1 s) holds it:
    // callTotal = 5 served + 25 rejected = 30, / 60 s = 0.5 qps.
    const auto now = fake::testing::kStart + 1s;
    const model::ServiceId ids[] = {model::ServiceId{kAlpha}, model::ServiceId{kGamma},
                                    model::ServiceId{"svco-unknown00001"}};
    const auto got = (*source)->read(ids, now);
    REQUIRE(got.size() == 3);
    REQUIRE_MESSAGE(got[0].has_value(), (got[0] ? "" : fmt::format("{}", got[0].error())));
    CHECK(got[0]->qps == doctest::Approx(0.5));
    CHECK(got[0]->timestamp == now);
    REQUIRE(got[1].has_value());
    CHECK(got[1]->qps == 0.0);  // no traffic: a real zero
    // The fake refuses the whole call for the unknown id; the source asks one by one.
    REQUIRE_FALSE(got[2].has_value());
    CHECK(got[2].error().kind == demand::FailureKind::Missing);

    // A window that ends at kStart excludes the load's second.
    const auto before = (*source)->read(std::span(ids, 1), fake::testing::kStart);
    REQUIRE(before[0].has_value());
    CHECK(before[0]->qps == 0.0);
  }
}

}  // namespace
}  // namespace qfscale::loadgen
