// The fake Qianfan's throughput: signed DescribeService requests per second, (1) through the
// handler alone (signature verification + JSON), and (2) over loopback HTTP against the real
// server from several client threads, each with its own keep-alive client.
//
//   cmake --preset release && cmake --build build/release -j2 --target qfscale_bench
//   build/release/bench/qfscale_bench --benchmark_filter=Fake

#include <chrono>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "qfscale/bce/signer.h"
#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/util/check.h"
#include "qfscale/util/clock.h"

namespace {

using namespace qfscale;

const bce::Credentials kCredentials{.access_key = "ak-bench", .secret_key = "sk-bench-secret"};
constexpr std::string_view kBody = R"({"serviceId":"svco-chatsmall001"})";

std::unique_ptr<fake::FakeQianfan> make_fake(const util::Clock& clock) {
  auto scenario = fake::default_scenario();
  scenario.credentials = kCredentials;
  auto created = fake::FakeQianfan::create(std::move(scenario), clock);
  QFS_CHECK(created.has_value(), "default scenario must create");
  return std::move(*created);
}

/// Headers of a signed DescribeService for `host` at `clock`'s current second.
http::Headers signed_headers(const util::Clock& clock, const std::string& host) {
  const auto at = std::chrono::floor<std::chrono::seconds>(clock.system_now());
  http::Headers headers = {{"Host", host},
                           {"Content-Type", "application/json"},
                           {"x-bce-date", bce::format_timestamp(at)}};
  bce::CanonicalInput input{
      .method = "POST", .path = "/v2/service", .query = {{"Action", "DescribeService"}}};
  for (const auto& h : headers) input.headers.emplace_back(h.name, h.value);
  input.headers.emplace_back("Content-Length", std::to_string(kBody.size()));
  const auto signature = bce::sign(kCredentials, input, bce::SigningOptions{.timestamp = at});
  headers.push_back({"Authorization", signature.authorization});
  return headers;
}

void BM_FakeHandlerDescribeService(benchmark::State& state) {
  const util::ManualClock clock;
  auto qianfan = make_fake(clock);
  http::Request request;
  request.method = "POST";
  request.target = "/v2/service?Action=DescribeService";
  request.headers = signed_headers(clock, "127.0.0.1:8765");
  request.headers.push_back({"Content-Length", std::to_string(kBody.size())});
  request.body = std::string(kBody);
  for (auto _ : state) {
    auto response = qianfan->handle(request);
    if (response.status != 200) state.SkipWithError("DescribeService failed");
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FakeHandlerDescribeService);

/// One server shared by every thread of the loopback benchmark.
struct LiveFake {
  util::SystemClock clock;
  std::unique_ptr<fake::FakeQianfan> qianfan = make_fake(clock);
  std::unique_ptr<http::Server> server;

  LiveFake() {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    auto started = http::start_server(options, qianfan->router());
    QFS_CHECK(started.has_value(), "fake server must start on 127.0.0.1:0");
    server = std::move(*started);
  }
  ~LiveFake() { server->stop(); }
  LiveFake(const LiveFake&) = delete;
  LiveFake& operator=(const LiveFake&) = delete;
  LiveFake(LiveFake&&) = delete;
  LiveFake& operator=(LiveFake&&) = delete;
};

LiveFake& live() {
  static LiveFake instance;
  return instance;
}

void BM_FakeServerDescribeService(benchmark::State& state) {
  auto& fake = live();
  auto client = http::make_client(http::ClientOptions{});
  QFS_CHECK(client.has_value(), "client must be created");
  http::ClientRequest request;
  request.method = "POST";
  request.url = fmt::format("http://{}/v2/service?Action=DescribeService", fake.server->address());
  request.body = std::string(kBody);
  std::int64_t failures = 0;
  for (auto _ : state) {
    // Signing is part of what a real client does per request.
    request.headers = signed_headers(fake.clock, fake.server->address());
    auto response = (*client)->send(request);
    if (!response || response->status != 200) ++failures;
  }
  if (failures > 0) state.SkipWithError("some DescribeService calls failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FakeServerDescribeService)->Threads(1)->Threads(4)->Threads(8)->UseRealTime();

}  // namespace
