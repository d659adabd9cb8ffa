#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/fake/fake_qianfan.h"

namespace qfscale::fake {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kGood = R"(credentials: {accessKey: ak-file, secretKey: sk-file}
startupDelay: 45s
modelUpdateDuration: 2m
allowedClockSkew: 60s
seed: 99
instances:
  - id: unit-aaaa0001
    capacity: 16
    foreignUsage: 2
  - {id: unit-bbbb0002, capacity: 8, region: gz, type: cpu-1, status: Running}
services:
  - id: svco-aaaaaaaaaaa1
    name: chat-small
    type: GPU-I-2
    qps: 5.5
    serviceType: chat
    modelSetId: am-set001
    modelId: amv-ver001
    deployments:
      - {instanceId: unit-aaaa0001, replicas: 7}
  - id: svco-bbbbbbbbbbb2
    name: frozen
    type: CPU-I-2
    qps: 10
    runStatus: Failed
faults:
  "*": {latency: 500ms}
  ScaleService:
    errors: {InternalError: 0.25, RequestLimitExceeded: 0.5}
    dropRate: 0.1
    throttleQps: 3
)";

/// "line:column" of every diagnostic, in order.
std::vector<std::string> positions(const util::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) out.push_back(fmt::format("{}:{}", d.line, d.column));
  return out;
}

std::string all(const util::Diagnostics& diagnostics) { return util::to_string(diagnostics); }

TEST_SUITE("fake") {
  TEST_CASE("scenario: a complete YAML file") {
    const auto parsed = parse_scenario(kGood, "good.yaml");
    REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : all(parsed.error())));
    const Scenario& s = *parsed;
    REQUIRE(s.credentials.has_value());
    CHECK(s.credentials->access_key == "ak-file");
    CHECK(s.startup_delay == 45s);
    CHECK(s.model_update_duration == 120s);
    CHECK(s.allowed_clock_skew == 60s);
    CHECK(s.seed == 99);
    REQUIRE(s.instances.size() == 2);
    CHECK(s.instances[0].capacity == model::ComputeUnits{16});
    CHECK(s.instances[0].foreign_usage == model::ComputeUnits{2});
    CHECK(s.instances[1].region == "gz");
    REQUIRE(s.services.size() == 2);
    CHECK(s.services[0].qps == 5.5);
    REQUIRE(s.services[0].deployments.size() == 1);
    CHECK(s.services[0].deployments[0].replicas == model::Replicas{7});
    CHECK(s.services[1].run_status == model::RunStatus::Failed);
    const auto* scale = s.faults.find("ScaleService");
    REQUIRE(scale != nullptr);
    CHECK(scale->error_rates.size() == 2);
    CHECK(scale->error_rates[1].first == "RequestLimitExceeded");
    CHECK(scale->drop_rate == 0.1);
    CHECK(scale->throttle_qps == 3);
    const auto* other = s.faults.find("DescribeService");
    REQUIRE(other != nullptr);
    CHECK(other->latency == 500ms);
  }

  TEST_CASE("scenario: JSON is read too") {
    const auto parsed = parse_scenario(
        R"({"instances":[{"id":"unit-aaaa0001","capacity":4}],
            "services":[{"id":"svco-aaaaaaaaaaa1","name":"js","type":"GPU-I-2","qps":1,
                         "deployments":[{"instanceId":"unit-aaaa0001","replicas":2}]}]})",
        "s.json");
    REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : all(parsed.error())));
    CHECK(parsed->services[0].deployments[0].replicas == model::Replicas{2});
  }

  TEST_CASE("scenario: every structural error is reported with its line and column") {
    // Columns are 1-based; the value's column is where the value starts.
    const std::string text = R"(startupDelay: soon
instances:
  - id: unit-aaaa0001
    capacity: "16"
    colour: red
services:
  - id: svco-aaaaaaaaaaa1
    type: GPU-I-2
    qps: [5]
    deployments: {instanceId: unit-aaaa0001}
faults:
  ScaleService: {dropRate: lots}
extra: 1
)";
    const auto parsed = parse_scenario(text, "bad.yaml");
    REQUIRE_FALSE(parsed.has_value());
    const auto& d = parsed.error();
    const std::string text_all = all(d);
    CAPTURE(text_all);
    CHECK(positions(d) == std::vector<std::string>{
                              "1:15",   // startupDelay: soon
                              "4:15",   // capacity: "16" is a string
                              "5:5",    // unknown key colour
                              "7:5",    // missing name (reported at the service mapping)
                              "9:10",   // qps: [5]
                              "10:18",  // deployments must be a list
                              "12:28",  // dropRate: lots
                              "13:1",   // unknown key extra
                          });
    CHECK(d[0].path == "startupDelay");
    CHECK(d[0].file == "bad.yaml");
    CHECK(d[1].path == "instances[0].capacity");
    CHECK(d[2].path == "instances[0].colour");
    CHECK(d[3].message == "is required, must be the service's name");
    CHECK(d[4].path == "services[0].qps");
    CHECK(d[5].message.find("is not a list, must be a list of {instanceId, replicas}") !=
          std::string::npos);
    CHECK(d[6].path == "faults.ScaleService.dropRate");
    CHECK(d[7].message.find("unknown field (allowed: credentials, startupDelay") !=
          std::string::npos);
    CHECK(d[0].to_string().rfind("bad.yaml:1:15: startupDelay: ", 0) == 0);
  }

  TEST_CASE("scenario: a wrong key and a bad duration read as in policies and the config") {
    // The shared reader (src/util/yaml_reader.h): file:line:col, "did you mean", and one
    // duration grammar, with ms where sub-second values make sense (allowedClockSkew is whole
    // seconds, as x-bce-date is).
    const std::string text = R"(instances:
  - id: unit-aaaa0001
    capacty: 16
startupDelay: 90sec
faults:
  "*": {latency: 1m30}
allowedClockSkew: 500ms
)";
    const auto parsed = parse_scenario(text, "w.yaml");
    REQUIRE_FALSE(parsed.has_value());
    CHECK(all(parsed.error()) ==
          "w.yaml:2:5: instances[0].capacity: is required, must be a number of compute units\n"
          "w.yaml:3:5: instances[0].capacty: unknown field, did you mean 'capacity'? (allowed: "
          "id, capacity, foreignUsage, region, type, status)\n"
          "w.yaml:4:15: startupDelay: 90sec has unknown unit 'sec', must be a duration such as "
          "500ms, 90s, 5m or 1h30m (units h, m, s, ms)\n"
          "w.yaml:6:18: faults.*.latency: 1m30 ends without a unit, must be a duration such as "
          "500ms, 90s, 5m or 1h30m\n"
          "w.yaml:7:19: allowedClockSkew: 500ms has unknown unit 'ms', must be a duration such "
          "as 90s, 5m or 1h30m (units h, m, s; whole seconds)\n");
  }

  TEST_CASE("scenario: sub-second latencies and delays read in ms") {
    const auto parsed = parse_scenario(
        "startupDelay: 250ms\nfaults:\n  ScaleService: {latency: 1s250ms}\n", "ms.yaml");
    REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : all(parsed.error())));
    CHECK(parsed->startup_delay == 250ms);
    REQUIRE(parsed->faults.find("ScaleService") != nullptr);
    CHECK(parsed->faults.find("ScaleService")->latency == 1250ms);
  }

  TEST_CASE("scenario: semantic errors are located by field path") {
    // unit-aaaa0001 has 10 - 2 = 8 units for services: 4 x GPU-I-2 = 8 fits exactly, then
    // 1 x GPU-I-4 = 4 more does not (0 left).
    const std::string text = R"(instances:
  - id: unit-aaaa0001
    capacity: 10
    foreignUsage: 2
  - id: unit-short
    capacity: 0
services:
  - id: svco-aaaaaaaaaaa1
    name: a
    type: GPU-I-2
    qps: 0
    modelId: ver-1
    deployments:
      - instanceId: unit-aaaa0001
        replicas: 4
  - id: svco-bbbbbbbbbbb2
    name: b-service
    type: GPU-I-4
    qps: 1
    deployments:
      - instanceId: unit-aaaa0001
        replicas: 1
      - instanceId: unit-nowhere1
        replicas: 1
  - id: svco-aaaaaaaaaaa1
    name: duplicate
    type: GPU-I-x
    qps: 1
faults:
  Reboot: {}
  ScaleService: {errors: {InternalError: 0.7, RequestLimitExceeded: 0.6, Boom: 0.1}}
)";
    const auto parsed = parse_scenario(text, "sem.yaml");
    REQUIRE_FALSE(parsed.has_value());
    const auto& d = parsed.error();
    const std::string text_all = all(d);
    CAPTURE(text_all);
    struct Want {
      std::string_view path;
      int line;
      std::string_view message_part;
    };
    const Want wants[] = {
        {"instances[1].id", 5, "is not an instance id"},
        {"instances[1].capacity", 6, "at least 1"},
        {"services[0].name", 9, "2 to 20 characters"},
        {"services[0].qps", 11, "positive"},
        {"services[0].modelId", 12, "must start with 'amv-'"},
        {"services[1].deployments[0].replicas", 22,
         "1 replicas of GPU-I-4 need 4 compute units but instance unit-aaaa0001 has only 0 left"},
        {"services[1].deployments[1].instanceId", 23, "unknown instance 'unit-nowhere1'"},
        {"services[2].id", 25, "duplicate service id"},
        {"services[2].type", 27, "compute units per replica"},
        {"faults.Reboot", 30, "unknown action 'Reboot'"},
        {"faults.ScaleService.errors", 31, "add up to"},
        {"faults.ScaleService.errors.Boom", 31, "unknown error code 'Boom'"},
    };
    REQUIRE(d.size() == std::size(wants));
    for (std::size_t i = 0; i < d.size(); ++i) {
      CAPTURE(i);
      CHECK(d[i].path == wants[i].path);
      CHECK(d[i].line == wants[i].line);
      CHECK(d[i].message.find(wants[i].message_part) != std::string::npos);
    }
  }

  TEST_CASE("scenario: a service on an instance of the other resource kind is located") {
    // GPU-I-2 on cpu-1 and CPU-I-2 on an instance of the default type gpu-1: both refused; a
    // type that names neither kind (a100-1) is not checked.
    const std::string text = R"(instances:
  - {id: unit-gpua0001, capacity: 16}
  - {id: unit-cpua0003, capacity: 8, type: cpu-1}
  - {id: unit-othr0004, capacity: 8, type: a100-1}
services:
  - id: svco-chatsmall001
    name: chat-small
    type: GPU-I-2
    qps: 5
    deployments:
      - {instanceId: unit-cpua0003, replicas: 1}
      - {instanceId: unit-othr0004, replicas: 1}
  - id: svco-embedcpu0001
    name: embed-cpu
    type: cpu-i-2
    qps: 20
    deployments:
      - {instanceId: unit-gpua0001, replicas: 2}
)";
    const auto parsed = parse_scenario(text, "kinds.yaml");
    REQUIRE_FALSE(parsed.has_value());
    const auto& d = parsed.error();
    CAPTURE(all(d));
    REQUIRE(d.size() == 2);
    CHECK(d[0].path == "services[0].deployments[0].instanceId");
    CHECK(d[0].line == 11);
    CHECK(d[0].message ==
          "instance unit-cpua0003 cannot run this service: GPU-I-2 is a GPU type but instance "
          "type cpu-1 is CPU");
    CHECK(d[1].path == "services[1].deployments[0].instanceId");
    CHECK(d[1].line == 18);
    CHECK(d[1].message.find("cpu-i-2 is a CPU type but instance type gpu-1 is GPU") !=
          std::string::npos);
    CHECK(d[0].to_string().rfind("kinds.yaml:11:", 0) == 0);
  }

  TEST_CASE("scenario: syntax errors, empty files and missing files") {
    auto parsed = parse_scenario("services: [\n  {id: x\n", "broken.yaml");
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().size() == 1);
    CHECK(parsed.error()[0].line >= 2);
    CHECK(parsed.error()[0].message.find("YAML syntax error") != std::string::npos);

    parsed = parse_scenario("", "empty.yaml");
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error()[0].message.find("empty") != std::string::npos);

    parsed = load_scenario("/nonexistent/dir/scenario.yaml");
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error()[0].file == "/nonexistent/dir/scenario.yaml");
  }

  TEST_CASE("scenario: durations, integers and numbers are strict") {
    struct Case {
      std::string_view name;
      std::string text;
      std::string_view want;
    };
    const Case cases[] = {
        {"duration unit", "startupDelay: 5d\n", "must be a duration"},
        {"negative duration", "startupDelay: -1s\n", "-1s is negative, must be a duration"},
        // One grammar with the policy and controller files: no bare numbers, no fractions.
        {"bare number", "allowedClockSkew: 60\n",
         "60 has no unit, must be a duration such as 90s, 5m or 1h30m"},
        {"fraction", "modelUpdateDuration: 1.5s\n",
         "1.5s is fractional, must be a duration such as 500ms, 90s"},
        {"fractional seed", "seed: 1.5\n", "1.5 is not an integer"},
        {"quoted number", "seed: \"3\"\n", "\"3\" is not an integer"},
        {"null", "seed: ~\n", "null is not an integer"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto parsed = parse_scenario(c.text, "t.yaml");
      REQUIRE_FALSE(parsed.has_value());
      CHECK(all(parsed.error()).find(c.want) != std::string::npos);
    }
    const auto ok = parse_scenario("startupDelay: 1s500ms\nmodelUpdateDuration: 500ms\n", "t.yaml");
    REQUIRE(ok.has_value());
    CHECK(ok->startup_delay == 1500ms);
    CHECK(ok->model_update_duration == 500ms);
  }

  TEST_CASE("scenario: faults round-trip through their JSON form") {
    const auto parsed = parse_scenario(kGood, "good.yaml");
    REQUIRE(parsed.has_value());
    const auto json = to_json(parsed->faults);
    const auto again = parse_faults(json, "json");
    REQUIRE_MESSAGE(again.has_value(), (again ? "" : all(again.error())));
    CHECK(*again == parsed->faults);
    CHECK(to_json(Faults{}) == "{}");
    CHECK(fault_error_status("RequestLimitExceeded") == 429);
    CHECK(fault_error_status("InternalError") == 500);
    CHECK_FALSE(fault_error_status("Nope").has_value());
  }
}

}  // namespace
}  // namespace qfscale::fake
