#include <algorithm>
#include <chrono>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <simdjson.h>

#include "qfscale/http/server.h"
#include "qfscale/telemetry/exporter.h"

#include "support/golden.h"
#include "unit/telemetry/fixtures.h"

namespace qfscale::telemetry {
namespace {

using model::Replicas;
using std::chrono::seconds;

http::Response get(const http::Router& router, std::string target) {
  http::Request req;
  req.method = "GET";
  req.target = std::move(target);
  return router.dispatch(req);
}

struct Fixture {
  util::ManualClock clock;
  std::unique_ptr<Exporter> exporter;
  http::Router router;

  explicit Fixture(seconds staleness = seconds{60}) {
    auto e = Exporter::create({.version = "test", .ready_staleness = staleness}, clock);
    REQUIRE(e.has_value());
    exporter = std::move(*e);
    add_routes(router, *exporter);
  }
};

TickReport tick(bool success) {
  TickReport r;
  r.finished_at = test::kT0;
  r.success = success;
  return r;
}

TEST_SUITE("telemetry") {
  TEST_CASE("routes: /metrics serves the exposition with the 0.0.4 content type") {
    Fixture f;
    f.exporter->on_tick(test::golden_tick());
    const auto res = get(f.router, "/metrics");
    CHECK(res.status == 200);
    CHECK(res.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(res.body == f.exporter->render_metrics());
    CHECK(res.body.find("qfscale_service_current_replicas{service=\"svc-a\"} 2\n") !=
          std::string::npos);
  }

  TEST_CASE("routes: /healthz is 200 and wrong methods are 405") {
    Fixture f;
    CHECK(get(f.router, "/healthz").status == 200);
    http::Request post;
    post.method = "POST";
    post.target = "/metrics";
    CHECK(f.router.dispatch(post).status == 405);
  }

  TEST_CASE("routes: /readyz follows successful ticks and their staleness") {
    Fixture f{seconds{60}};
    // Before any tick: not ready.
    CHECK(get(f.router, "/readyz").status == 503);
    // A failed tick does not make it ready.
    f.exporter->on_tick(tick(false));
    CHECK(get(f.router, "/readyz").status == 503);
    CHECK(get(f.router, "/readyz").body == "no successful reconcile yet\n");
    // The first success: ready.
    f.exporter->on_tick(tick(true));
    CHECK(get(f.router, "/readyz").status == 200);
    // Exactly at the 60 s limit still ready; one second past it, not.
    f.clock.advance(seconds{60});
    CHECK(get(f.router, "/readyz").status == 200);
    f.clock.advance(seconds{1});
    const auto stale = get(f.router, "/readyz");
    CHECK(stale.status == 503);
    CHECK(stale.body == "last successful reconcile 61s ago (limit 60s)\n");
    // Failed ticks do not refresh it; a successful one does.
    f.exporter->on_tick(tick(false));
    CHECK(get(f.router, "/readyz").status == 503);
    f.exporter->on_tick(tick(true));
    CHECK(get(f.router, "/readyz").status == 200);
  }

  TEST_CASE("routes: /readyz is 503 while the state cannot be saved, and shows the tick's errors") {
    Fixture f{seconds{0}};
    f.exporter->on_tick(tick(true));
    REQUIRE(get(f.router, "/readyz").status == 200);
    auto unsaved = tick(false);
    unsaved.errors = {{.stage = TickStage::Observe,
                       .code = TickErrorCode::SignatureDoesNotMatch,
                       .message = "DescribeService svc-a: HTTP 400 SignatureDoesNotMatch: bad"},
                      {.stage = TickStage::Save,
                       .code = TickErrorCode::Io,
                       .message = "saving the controller state to /x/state.json failed: ENOENT"}};
    f.exporter->on_tick(unsaved);
    const auto res = get(f.router, "/readyz");
    CHECK(res.status == 503);  // staleness 0 would keep it ready: the failed save alone does it
    CHECK(res.body ==
          "the last tick could not save the controller state\n"
          "the last tick had 2 errors:\n"
          "observe SignatureDoesNotMatch: DescribeService svc-a: HTTP 400 "
          "SignatureDoesNotMatch: bad\n"
          "save io: saving the controller state to /x/state.json failed: ENOENT\n");
    // Ready again once a tick saves; errors of a ready tick are still listed.
    auto saved = tick(true);
    saved.errors = {unsaved.errors[0]};
    f.exporter->on_tick(saved);
    const auto ok = get(f.router, "/readyz");
    CHECK(ok.status == 200);
    CHECK(ok.body ==
          "ok\nthe last tick had 1 error:\nobserve SignatureDoesNotMatch: DescribeService "
          "svc-a: HTTP 400 SignatureDoesNotMatch: bad\n");
    f.exporter->on_tick(tick(true));
    CHECK(get(f.router, "/readyz").body == "ok\n");
  }

  TEST_CASE("routes: /readyz lists at most 20 errors") {
    Fixture f;
    auto r = tick(false);
    for (int i = 0; i < 25; ++i) {
      r.errors.push_back({.stage = TickStage::Metrics,
                          .code = TickErrorCode::Stale,
                          .message = fmt::format("service svc-{}: stale", i)});
    }
    f.exporter->on_tick(r);
    const auto body = get(f.router, "/readyz").body;
    CHECK(std::count(body.begin(), body.end(), '\n') == 1 + 1 + 20 + 1);
    CHECK(body.ends_with("metrics stale: service svc-19: stale\n... and 5 more\n"));
  }

  TEST_CASE("routes: /readyz with staleness 0 stays ready once ready") {
    Fixture f{seconds{0}};
    CHECK(get(f.router, "/readyz").status == 503);
    f.exporter->on_tick(tick(true));
    f.clock.advance(std::chrono::hours{24 * 365});
    CHECK(get(f.router, "/readyz").status == 200);
  }

  TEST_CASE("routes: /api/v1/decisions lists the last decision of every service") {
    Fixture f;
    CHECK(get(f.router, "/api/v1/decisions").body == R"({"decisions":[]})");
    f.exporter->on_tick(test::golden_tick());
    // A later tick for svc-a replaces only svc-a's decision.
    auto later = test::service_a(test::kT0 + std::chrono::milliseconds{15'250});
    later.decision.current = Replicas{4};
    f.exporter->on_tick({.finished_at = later.decision.at, .services = {later}});

    const auto res = get(f.router, "/api/v1/decisions");
    CHECK(res.status == 200);
    CHECK(res.header("Content-Type") == "application/json");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(res.body).get(doc) == simdjson::SUCCESS);
    simdjson::dom::array decisions;
    REQUIRE(doc["decisions"].get(decisions) == simdjson::SUCCESS);
    REQUIRE(decisions.size() == 3);
    std::string_view service;
    std::string_view at;
    int64_t current = 0;
    REQUIRE(decisions.at(0)["service"].get(service) == simdjson::SUCCESS);
    CHECK(service == "svc-a");
    REQUIRE(decisions.at(0)["at"].get(at) == simdjson::SUCCESS);
    CHECK(at == "2023-11-14T22:13:35.250Z");
    REQUIRE(decisions.at(0)["inputs"]["current"].get(current) == simdjson::SUCCESS);
    CHECK(current == 4);
    REQUIRE(decisions.at(2)["service"].get(service) == simdjson::SUCCESS);
    CHECK(service == "svc-c");
  }

  TEST_CASE("routes: /api/v1/decisions JSON matches the golden file") {
    Fixture f;
    f.exporter->on_tick(test::golden_tick());
    const auto res = get(f.router, "/api/v1/decisions");
    const auto result = qfscale::test::check_golden("decisions.json", res.body + "\n");
    CHECK_MESSAGE(result.ok, result.message);
  }

  TEST_CASE("routes: /api/v1/decisions/{service} returns one decision or a 404 JSON error") {
    Fixture f;
    f.exporter->on_tick(test::golden_tick());

    const auto one = get(f.router, "/api/v1/decisions/svc-b");
    CHECK(one.status == 200);
    CHECK(one.body == decision_to_json(test::service_b().decision));

    for (const auto* target :
         {"/api/v1/decisions/svc-zzz", "/api/v1/decisions/", "/api/v1/decisions/svc-a/extra"}) {
      CAPTURE(target);
      const auto res = get(f.router, target);
      CHECK(res.status == 404);
      CHECK(res.header("Content-Type") == "application/json");
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      REQUIRE(parser.parse(res.body).get(doc) == simdjson::SUCCESS);
      std::string_view code;
      REQUIRE(doc["error"]["code"].get(code) == simdjson::SUCCESS);
      CHECK(code == "not_found");
    }
    std::string_view message;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(get(f.router, "/api/v1/decisions/svc-zzz").body).get(doc) ==
            simdjson::SUCCESS);
    REQUIRE(doc["error"]["message"].get(message) == simdjson::SUCCESS);
    CHECK(message.find("\"svc-zzz\"") != std::string_view::npos);
  }
}

}  // namespace
}  // namespace qfscale::telemetry

namespace qfscale::telemetry {
namespace {

TEST_SUITE("telemetry") {
  TEST_CASE("routes: /api/v1/status, /readyz and the gauges say the role") {
    Fixture f;
    // Alone: always the leader, no token.
    auto res = get(f.router, "/api/v1/status");
    CHECK(res.status == 200);
    CHECK(res.body == R"({"role":"leader","fencing_token":null,"coordination":"none",)"
                      R"("lease_remaining_seconds":0,"member":"","last_error":"",)"
                      R"("shards":0,"members":0,"owned_shards":0,"owned_services":0,)"
                      R"("disagreeing_members":[]})");

    f.exporter->on_leadership({.coordinated = true,
                               .leader = false,
                               .fencing_token = 41,
                               .lease_remaining_seconds = 2.5,
                               .member = "ctl-b"});
    res = get(f.router, "/api/v1/status");
    CHECK(res.body == R"({"role":"follower","fencing_token":41,"coordination":"etcd",)"
                      R"("lease_remaining_seconds":2.5,"member":"ctl-b","last_error":"",)"
                      R"("shards":0,"members":0,"owned_shards":0,"owned_services":0,)"
                      R"("disagreeing_members":[]})");
    res = get(f.router, "/readyz");
    CHECK(res.status == 200);  // standing by is a follower's job
    CHECK(res.body.starts_with("follower: standing by (the leader's fencing token is 41)\n"));
    const auto metrics = f.exporter->render_metrics();
    CHECK(metrics.find("\nqfscale_leader 0\n") != std::string::npos);
    CHECK(metrics.find("\nqfscale_leader_fencing_token 41\n") != std::string::npos);
    CHECK(metrics.find("\nqfscale_leader_lease_remaining_seconds 2.5\n") != std::string::npos);

    // A follower that cannot reach etcd could not take over: not ready, and says why.
    f.exporter->on_leadership({.coordinated = true,
                               .leader = false,
                               .member = "ctl-b",
                               .last_error = "lease grant 3s: connection refused"});
    res = get(f.router, "/readyz");
    CHECK(res.status == 503);
    CHECK(
        res.body.starts_with("follower: cannot reach etcd, so it cannot take over: lease grant "
                             "3s: connection refused\n"));

    f.exporter->on_leadership({.coordinated = true, .leader = true, .fencing_token = 57});
    res = get(f.router, "/readyz");
    CHECK(res.status == 503);  // a leader is ready only after a good tick, as alone
    CHECK(res.body.starts_with("leader (fencing token 57): no successful reconcile yet\n"));
    f.exporter->on_tick(tick(true));
    res = get(f.router, "/readyz");
    CHECK(res.status == 200);
    CHECK(res.body.starts_with("leader (fencing token 57): ok\n"));

    // Sharded: every live member acts on its own shards.
    f.exporter->on_leadership({.coordinated = true,
                               .leader = true,
                               .fencing_token = 60,
                               .member = "ctl-c",
                               .shards = 64,
                               .members = 3,
                               .owned_shards = 21,
                               .owned_services = 40});
    res = get(f.router, "/api/v1/status");
    CHECK(res.body.ends_with(
        R"("member":"ctl-c","last_error":"","shards":64,"members":3,"owned_shards":21,)"
        R"("owned_services":40,"disagreeing_members":[]})"));
    CHECK(get(f.router, "/readyz")
              .body.starts_with("member ctl-c of 3: owns 40 services in 21 of 64 shards: ok\n"));
    const auto sharded = f.exporter->render_metrics();
    CHECK(sharded.find("\nqfscale_shard_members 3\n") != std::string::npos);
    CHECK(sharded.find("\nqfscale_shard_owned_shards 21\n") != std::string::npos);
    CHECK(sharded.find("\nqfscale_shard_owned_services 40\n") != std::string::npos);
    CHECK(sharded.find("\nqfscale_coordination_disagreeing_members 0\n") != std::string::npos);

    // Members on different configs: nobody acts, and that is right during a rolling change, so
    // ready (a rollout waiting for readiness must go on), with the reason.
    f.exporter->on_leadership({.coordinated = true,
                               .leader = true,
                               .member = "ctl-c",
                               .shards = 64,
                               .members = 2,
                               .disagreeing = {"ctl-b (another config)"}});
    CHECK(get(f.router, "/api/v1/status")
              .body.ends_with(
                  R"x("owned_services":0,"disagreeing_members":["ctl-b (another config)"]})x"));
    res = get(f.router, "/readyz");
    CHECK(res.status == 200);
    CHECK(
        res.body.starts_with("standing down: the controllers disagree on the config (ctl-b "
                             "(another config)); none acts until all run the same one\n"));
    CHECK(f.exporter->render_metrics().find("\nqfscale_coordination_disagreeing_members 1\n") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::telemetry
