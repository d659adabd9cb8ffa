// The fake Qianfan on the real Beast server (127.0.0.1:0, HTTP and HTTPS), driven by the real
// client with requests signed by bce::sign; replies are checked as they come off the wire.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/bce/signer.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/util/clock.h"

#include "support/test_tls.h"
#include "unit/fake/fixture.h"

namespace qfscale::fake {
namespace {

using namespace std::chrono_literals;

/// A fake on a ManualClock behind a real server, and a client that trusts the test CA.
struct Live {
  testing::Harness harness;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Client> client;
  std::string base;

  explicit Live(bool tls) {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    if (tls) options.tls = qfscale::test::test_pki().server_tls();
    auto started = http::start_server(options, harness.fake->router());
    REQUIRE_MESSAGE(started.has_value(), (started ? "" : started.error().to_string()));
    server = std::move(*started);
    http::ClientOptions client_options;
    client_options.request_timeout = 10s;
    if (tls) client_options.ca_file = qfscale::test::test_pki().ca_file;
    auto made = http::make_client(client_options);
    REQUIRE(made.has_value());
    client = std::move(*made);
    base = fmt::format("{}://{}", tls ? "https" : "http", server->address());
  }
  ~Live() { server->stop(); }
  Live(const Live&) = delete;
  Live& operator=(const Live&) = delete;
  Live(Live&&) = delete;
  Live& operator=(Live&&) = delete;

  /// POST {base}{route}?Action=… signed like the qfscale client signs (host with port,
  /// content-length, content-type, x-bce-date).
  Result<http::Response> api(std::string_view route, std::string_view action, std::string body,
                             const bce::Credentials& credentials = testing::kCredentials) {
    const auto at = std::chrono::floor<std::chrono::seconds>(harness.clock.system_now());
    http::ClientRequest request;
    request.method = "POST";
    request.url = fmt::format("{}{}?Action={}", base, route, action);
    request.headers = {{"Host", server->address()},
                       {"Content-Type", "application/json"},
                       {"x-bce-date", bce::format_timestamp(at)}};
    bce::CanonicalInput input{
        .method = "POST", .path = std::string(route), .query = {{"Action", std::string(action)}}};
    for (const auto& h : request.headers) input.headers.emplace_back(h.name, h.value);
    input.headers.emplace_back("Content-Length", std::to_string(body.size()));
    const auto signature = bce::sign(credentials, input, bce::SigningOptions{.timestamp = at});
    request.headers.push_back({"Authorization", signature.authorization});
    request.body = std::move(body);
    return client->send(request);
  }

  Result<http::Response> plain(std::string method, std::string path, std::string body = {}) {
    http::ClientRequest request;
    request.method = std::move(method);
    request.url = base + path;
    request.body = std::move(body);
    if (!request.body.empty()) request.headers.push_back({"Content-Type", "application/json"});
    return client->send(request);
  }
};

void check_round_trip(Live& live) {
  auto r = live.api("/v2/service", "DescribeService", R"({"serviceId":"svco-aaaaaaaaaaa1"})");
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
  CHECK(r->status == 200);
  CHECK(r->header("Content-Type") == std::optional<std::string_view>("application/json"));
  CHECK(testing::json_string(r->body, "/result/serviceId") == testing::kAlpha);
  CHECK(testing::json_string(r->body, "/result/runStatus") == "Serving");
  CHECK(r->header("x-bce-request-id") ==
        std::optional<std::string_view>(testing::json_string(r->body, "/requestId")));

  // Capacity refusal, raw: 10 - 2 foreign - 4 beta = 4 units; 3 x GPU-I-2 = 6.
  r = live.api(
      "/v2/service", "ScaleService",
      R"({"serviceId":"svco-aaaaaaaaaaa1","instanceId":"unit-aaaa0001","deploymentReplicasCount":3})");
  REQUIRE(r.has_value());
  testing::check_error(*r, 400, "InsufficientComputeUnits");

  r = live.api("/v2/computeunit", "DescribeComputeUnit", R"({"instanceId":"unit-aaaa0001"})");
  REQUIRE(r.has_value());
  CHECK(r->status == 200);
  CHECK(testing::json_int(r->body, "/result/computeUnitInstance/computeUnitCount") == 10);

  // Auth errors reach the client with the BCE headers.
  r = live.api("/v2/service", "DescribeService", R"({"serviceId":"svco-aaaaaaaaaaa1"})",
               bce::Credentials{.access_key = "ak-other", .secret_key = "sk-other-secret"});
  REQUIRE(r.has_value());
  testing::check_error(*r, 403, "InvalidAccessKeyId");
  r = live.api("/v2/service", "DescribeService", R"({"serviceId":"svco-aaaaaaaaaaa1"})",
               bce::Credentials{.access_key = testing::kCredentials.access_key,
                                .secret_key = "sk-other-secret"});
  REQUIRE(r.has_value());
  testing::check_error(*r, 400, "SignatureDoesNotMatch");

  // Traffic: 1 ready x 5 qps in this second of the manual clock.
  int served = 0;
  int rejected = 0;
  for (int i = 0; i < 8; ++i) {
    auto t = live.plain("POST", "/traffic/svco-aaaaaaaaaaa1", "{}");
    REQUIRE(t.has_value());
    (t->status == 200 ? served : rejected) += 1;
  }
  CHECK(served == 5);
  CHECK(rejected == 3);
  auto metrics = live.plain("GET", "/metrics");
  REQUIRE(metrics.has_value());
  CHECK(
      metrics->body.find(
          "qfscale_fake_requests_total{service=\"svco-aaaaaaaaaaa1\",outcome=\"rejected\"} 3\n") !=
      std::string::npos);
}

TEST_SUITE("fake") {
  TEST_CASE("fake server: signed API calls, capacity, auth and traffic over HTTP") {
    Live live(false);
    check_round_trip(live);
  }

  TEST_CASE("fake server: the same over HTTPS with a verified certificate") {
    Live live(true);
    CHECK(live.server->tls());
    check_round_trip(live);
  }

  TEST_CASE("fake server: faults set through /admin/faults reach the wire") {
    Live live(false);
    auto set = live.plain("POST", "/admin/faults",
                          R"({"DescribeService":{"errors":{"InternalError":1},"latency":"30ms"},
                              "DescribeComputeUnit":{"dropRate":1}})");
    REQUIRE(set.has_value());
    REQUIRE(set->status == 200);
    const auto started = std::chrono::steady_clock::now();
    auto r = live.api("/v2/service", "DescribeService", R"({"serviceId":"svco-aaaaaaaaaaa1"})");
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
    CHECK(std::chrono::steady_clock::now() - started >= 30ms);  // a lower bound only
    testing::check_error(*r, 500, "InternalError");

    r = live.api("/v2/computeunit", "DescribeComputeUnit", R"({"instanceId":"unit-aaaa0001"})");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::Transient);

    auto shown = live.plain("GET", "/admin/faults");
    REQUIRE(shown.has_value());
    CHECK(shown->body.find("\"InternalError\":1") != std::string::npos);
    auto cleared = live.plain("DELETE", "/admin/faults");
    REQUIRE(cleared.has_value());
    r = live.api("/v2/service", "DescribeService", R"({"serviceId":"svco-aaaaaaaaaaa1"})");
    REQUIRE(r.has_value());
    CHECK(r->status == 200);
  }

  TEST_CASE("fake server: concurrent signed DescribeService from several threads") {
    Live live(false);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 50;
    std::vector<int> ok(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          auto r =
              live.api("/v2/service", "DescribeService", R"({"serviceId":"svco-bbbbbbbbbbb2"})");
          if (r && r->status == 200) ++ok[static_cast<std::size_t>(t)];
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (int t = 0; t < kThreads; ++t) CHECK(ok[static_cast<std::size_t>(t)] == kPerThread);
    auto metrics = live.plain("GET", "/metrics");
    REQUIRE(metrics.has_value());
    CHECK(metrics->body.find(fmt::format(
              "qfscale_fake_api_requests_total{{action=\"DescribeService\",code=\"OK\"}} {}\n",
              kThreads * kPerThread)) != std::string::npos);
  }

  TEST_CASE("fake server: wrong method and unknown path are answered by the router") {
    Live live(false);
    auto r = live.plain("GET", "/v2/service?Action=DescribeService");
    REQUIRE(r.has_value());
    CHECK(r->status == 405);
    r = live.plain("GET", "/nowhere");
    REQUIRE(r.has_value());
    CHECK(r->status == 404);
  }
}

}  // namespace
}  // namespace qfscale::fake
