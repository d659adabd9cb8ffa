// The telemetry endpoints on qfscale's real Beast server over loopback, scraped with our client.

#include <memory>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/telemetry/exporter.h"

#include "unit/telemetry/fixtures.h"

namespace qfscale::telemetry {
namespace {

struct Served {
  util::ManualClock clock;
  std::unique_ptr<Exporter> exporter;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Client> client;

  Served() {
    auto e = Exporter::create({.version = "test"}, clock);
    REQUIRE(e.has_value());
    exporter = std::move(*e);
    http::Router router;
    add_routes(router, *exporter);
    auto s = http::start_server({}, std::move(router));  // 127.0.0.1:0, plain HTTP
    REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().to_string()));
    server = std::move(*s);
    http::ClientOptions options;
    options.request_timeout = std::chrono::milliseconds{10'000};
    auto c = http::make_client(options);
    REQUIRE(c.has_value());
    client = std::move(*c);
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;
  Served(Served&&) = delete;
  Served& operator=(Served&&) = delete;
  ~Served() { server->stop(); }

  http::Response get(std::string_view path) const {
    http::ClientRequest req;
    req.url = "http://" + server->address() + std::string(path);
    auto res = client->send(req);
    REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().to_string()));
    return std::move(*res);
  }
};

TEST_SUITE("telemetry") {
  TEST_CASE("telemetry server: scrape, readiness and decisions over loopback") {
    Served s;
    CHECK(s.get("/healthz").status == 200);
    CHECK(s.get("/readyz").status == 503);
    s.exporter->on_tick(test::golden_tick());
    CHECK(s.get("/readyz").status == 200);

    const auto metrics = s.get("/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(metrics.body == s.exporter->render_metrics());
    CHECK(test::value_of(metrics.body, R"(qfscale_service_desired_replicas{service="svc-c"})") ==
          8.0);

    const auto one = s.get("/api/v1/decisions/svc-a");
    CHECK(one.status == 200);
    CHECK(one.body == decision_to_json(test::service_a().decision));
    const auto missing = s.get("/api/v1/decisions/nope");
    CHECK(missing.status == 404);
    CHECK(missing.header("Content-Type") == "application/json");
  }

  TEST_CASE("telemetry server: scrapes run safely while ticks are recorded") {
    Served s;
    constexpr int kTicks = 50;
    std::thread loop([&] {
      for (int i = 0; i < kTicks; ++i) s.exporter->on_tick(test::golden_tick());
    });
    int ok = 0;
    for (int i = 0; i < 20; ++i) {
      ok += s.get("/metrics").status == 200 ? 1 : 0;
      ok += s.get("/api/v1/decisions").status == 200 ? 1 : 0;
    }
    loop.join();
    CHECK(ok == 40);
    CHECK(test::value_of(s.get("/metrics").body,
                         R"(qfscale_reconcile_runs_total{result="success"})") == kTicks);
  }
}

}  // namespace
}  // namespace qfscale::telemetry
