// qfscale_api_attempts_total: every HTTP attempt of a Qianfan call, retries included, on /metrics
// next to qfscale_api_requests_total (one per call).

#include "qfscale/controller/api_attempts.h"

#include <string>

#include "qfscale/telemetry/exporter.h"

#include "fake_cloud.h"

namespace qfscale::controller::test {
namespace {

/// GET /metrics from `exporter` served on 127.0.0.1:0.
std::string scrape(const telemetry::Exporter& exporter, http::Client& client) {
  http::Router router;
  telemetry::add_routes(router, exporter);
  auto server = http::start_server({.listen = "127.0.0.1:0"}, std::move(router));
  REQUIRE_MESSAGE(server.has_value(), (server ? "" : server.error().to_string()));
  auto got = client.send({.url = fmt::format("http://{}/metrics", (*server)->address())});
  (*server)->stop();
  REQUIRE_MESSAGE(got.has_value(), (got ? "" : got.error().to_string()));
  CHECK(got->status == 200);
  return got->body;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST_SUITE("controller") {
  TEST_CASE("api attempts: retries are counted per attempt, requests once per call") {
    const util::ManualClock exporter_clock{kT0};
    auto exporter = telemetry::Exporter::create({}, exporter_clock);
    REQUIRE(exporter.has_value());
    FakeCloud cloud({.on_attempt = count_api_attempts(**exporter), .also = exporter->get()});
    // Every DescribeService attempt fails with 500 InternalError (Transient): 3 attempts each for
    // chat-small and code-gen, then the call fails; DescribeComputeUnit succeeds at once.
    cloud.fake->set_faults(
        fake::Faults{.actions = {{"DescribeService",
                                  fake::ActionFaults{.error_rates = {{"InternalError", 1.0}}}}}});
    cloud.qps.set(ServiceId{kChatSmall}, 10);
    cloud.qps.set(ServiceId{kCodeGen}, 10);
    cloud.tick_at(0s);

    auto text = scrape(**exporter, *cloud.http);
    CHECK(has_line(
        text, R"(qfscale_api_attempts_total{action="DescribeService",outcome="InternalError"} 6)"));
    CHECK(has_line(
        text, R"(qfscale_api_requests_total{action="DescribeService",code="InternalError"} 2)"));
    CHECK(has_line(text,
                   R"(qfscale_api_attempts_total{action="DescribeComputeUnit",outcome="ok"} 2)"));
    CHECK(
        has_line(text, R"(qfscale_api_requests_total{action="DescribeComputeUnit",code="ok"} 2)"));
    CHECK(text.find(R"(qfscale_api_attempts_total{action="DescribeService",outcome="ok"})") ==
          std::string::npos);

    // Without faults every call takes one attempt: attempts and requests grow alike.
    cloud.fake->set_faults({});
    cloud.tick_at(15s);
    text = scrape(**exporter, *cloud.http);
    CHECK(has_line(text, R"(qfscale_api_attempts_total{action="DescribeService",outcome="ok"} 2)"));
    CHECK(has_line(text, R"(qfscale_api_requests_total{action="DescribeService",code="ok"} 2)"));
    CHECK(has_line(
        text, R"(qfscale_api_attempts_total{action="DescribeService",outcome="InternalError"} 6)"));
  }
}

}  // namespace
}  // namespace qfscale::controller::test
