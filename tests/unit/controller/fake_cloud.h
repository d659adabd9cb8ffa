#pragma once

// The controller against the real fake (its built-in scenario: examples/fake.yaml plus code-gen)
// over signed HTTP on 127.0.0.1:0, through the real Qianfan client.

#include <memory>
#include <string>
#include <vector>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/http/client.h"
#include "qfscale/http/server.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/util/random.h"

#include "fixture.h"

namespace qfscale::controller::test {

struct FakeCloudOptions {
  qianfan::AttemptObserver on_attempt;       ///< the client's (retries: 3 attempts, no wait)
  telemetry::TelemetrySink* also = nullptr;  ///< another sink for the controller
};

inline const bce::Credentials kKeys{.access_key = "ak-fake-cloud-test",
                                    .secret_key = "sk-fake-cloud-test-secret"};

inline constexpr std::string_view kChatSmall = "svco-chatsmall001";  // GPU-I-2, 5 qps a replica
inline constexpr std::string_view kCodeGen = "svco-codegen00001";    // GPU-I-2, 4 qps a replica

/// The fake's built-in scenario served on 127.0.0.1:0, the real Qianfan client in front of it,
/// and a controller managing chat-small and code-gen on the two GPU instances.
struct FakeCloud {
  util::ManualClock clock{kT0};
  std::unique_ptr<fake::FakeQianfan> fake;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Client> http;
  util::Random random{1};
  std::unique_ptr<qianfan::QianfanApi> api;
  qfscale::testing::FakeQpsSource qps;
  RecordingSink sink;
  std::unique_ptr<Controller> controller;

  /// `options` may observe the client's attempts and add a sink.
  explicit FakeCloud(const FakeCloudOptions& options = {}) {
    auto scenario = fake::default_scenario();
    scenario.credentials = kKeys;
    auto created = fake::FakeQianfan::create(scenario, clock);
    REQUIRE_MESSAGE(created.has_value(), (created ? "" : created.error().to_string()));
    fake = std::move(*created);
    auto started = http::start_server(http::ServerOptions{.listen = "127.0.0.1:0"}, fake->router());
    REQUIRE_MESSAGE(started.has_value(), (started ? "" : started.error().to_string()));
    server = std::move(*started);
    fake->serve_at(server->address());
    // The timeouts bound every exchange, so a hang fails the test instead of stalling it.
    auto made = http::make_client(
        http::ClientOptions{.connect_timeout = 10'000ms, .request_timeout = 10'000ms});
    REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error().to_string()));
    http = std::move(*made);
    auto client = qianfan::make_qianfan_client(
        qianfan::ClientConfig{.credentials = kKeys,
                              .base_url = fmt::format("http://{}", server->address()),
                              .retry = {.max_attempts = 3},
                              .on_attempt = options.on_attempt},
        *http, clock, random, [](std::chrono::milliseconds) {});
    REQUIRE_MESSAGE(client.has_value(), (client ? "" : client.error().to_string()));
    api = std::move(*client);

    Config config;
    config.qianfan.concurrency = 4;
    config.instances = {{.id = InstanceId{"unit-gpua0001"}}, {.id = InstanceId{"unit-gpub0002"}}};
    config.services = {
        ServiceConfig{.id = ServiceId{kChatSmall},
                      .policy_ref = "inline",
                      .policy = make_policy(kNoWindow),
                      .instances = {InstanceId{"unit-gpua0001"}, InstanceId{"unit-gpub0002"}}},
        ServiceConfig{.id = ServiceId{kCodeGen},
                      .policy_ref = "inline",
                      .policy = make_policy(kNoWindow),
                      .instances = {InstanceId{"unit-gpub0002"}, InstanceId{"unit-gpua0001"}}},
    };
    std::vector<telemetry::TelemetrySink*> sinks{&sink};
    if (options.also != nullptr) sinks.push_back(options.also);
    auto c = Controller::create(
        config, Dependencies{.api = api.get(), .qps = &qps, .clock = &clock, .sinks = sinks});
    REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().to_string()));
    controller = std::move(*c);
  }
  ~FakeCloud() {
    controller.reset();
    api.reset();
    server->stop();
  }
  FakeCloud(const FakeCloud&) = delete;
  FakeCloud& operator=(const FakeCloud&) = delete;
  FakeCloud(FakeCloud&&) = delete;
  FakeCloud& operator=(FakeCloud&&) = delete;

  telemetry::TickReport tick_at(std::chrono::seconds t) {
    clock.set(kT0 + t);
    return controller->tick(kT0 + t);
  }

  /// The fake's own line for `service`: "service <id> type GPU-I-2 replicas unit-...=N ...".
  [[nodiscard]] std::string inventory(std::string_view service) const {
    for (const auto& line : fake->inventory()) {
      if (line.find(service) != std::string::npos) return line;
    }
    return "";
  }
};

}  // namespace qfscale::controller::test
