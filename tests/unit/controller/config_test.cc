#include "qfscale/controller/config.h"

#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"

#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Every key of the schema, none at its default.
constexpr std::string_view kFull = R"(apiVersion: qfscale/v1
kind: ControllerConfig
qianfan:
  baseUrl: http://127.0.0.1:8765/
  credentialsFile: secrets/ak-sk
  timeout: 20s
  maxAttempts: 2
  concurrency: 32
metrics:
  prometheus:
    url: http://prom:9090/prefix
    query: sum by (svc) (rate(requests_total[1m]))
    label: svc
    timeout: 3s
    staleness: 5m
    span: 45s
instances:
  - {id: unit-a, capacity: 16}
  - {id: unit-b}
services:
  - id: svco-1
    policy: latency-first
    instances: [unit-b, unit-a]
    priority: 7
    weight: 3
    unitsPerReplica: 4
    query: sum(rate(one_total[1m]))
  - id: svco-2
    policy: custom/mine.yaml
    instances: [unit-a]
loop:
  interval: 30s
  dryRun: true
  listen: 0.0.0.0:9000
  stateFile: /var/lib/qfscale/state.json
  auditLog: ../log/audit.jsonl
  auditLogMaxBytes: 8Mi
  auditLogKeep: 9
)";

constexpr std::string_view kMinePolicy =
    "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: mine}\n"
    "spec: {replicas: {min: 2, max: 6}}\n";

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  return text.replace(text.find(from), from.size(), to);
}

TEST_SUITE("controller") {
  TEST_CASE("config: a full config sets every field") {
    MemoryFiles files;
    files.files["/etc/qfscale/custom/mine.yaml"] = kMinePolicy;
    auto got = parse(kFull, files);
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
    const Config& c = *got;
    CHECK(c.file == kConfigFile);
    CHECK(c.qianfan == QianfanConfig{.base_url = "http://127.0.0.1:8765",  // slash trimmed
                                     .credentials_file = "/etc/qfscale/secrets/ak-sk",
                                     .timeout = milliseconds{20'000},
                                     .max_attempts = 2,
                                     .concurrency = 32});
    CHECK(c.metrics.kind == MetricSourceKind::Prometheus);
    const auto& p = c.metrics.prometheus;
    CHECK(p.base_url == "http://prom:9090/prefix");
    CHECK(p.query == "sum by (svc) (rate(requests_total[1m]))");
    CHECK(p.label == "svc");
    CHECK(p.timeout == milliseconds{3000});
    CHECK(p.staleness == seconds{300});
    CHECK(p.span == seconds{45});
    CHECK(p.per_service_queries == std::map<model::ServiceId, std::string>{
                                       {model::ServiceId("svco-1"), "sum(rate(one_total[1m]))"}});
    CHECK(c.instances ==
          std::vector<InstanceConfig>{{model::InstanceId("unit-a"), model::ComputeUnits{16}},
                                      {model::InstanceId("unit-b"), std::nullopt}});
    REQUIRE(c.services.size() == 2);
    const auto& s1 = c.services[0];
    CHECK(s1.id == model::ServiceId("svco-1"));
    CHECK(s1.policy_ref == "latency-first");
    CHECK(s1.policy_file.empty());
    CHECK(s1.policy.name() == "latency-first");
    CHECK(s1.instances ==
          std::vector<model::InstanceId>{model::InstanceId("unit-b"), model::InstanceId("unit-a")});
    CHECK(s1.priority == 7);
    CHECK(s1.weight == 3);
    CHECK(s1.units_per_replica == model::ComputeUnits{4});
    const auto& s2 = c.services[1];
    CHECK(s2.policy_ref == "custom/mine.yaml");
    CHECK(s2.policy_file == "/etc/qfscale/custom/mine.yaml");
    CHECK(s2.policy.name() == "mine");
    CHECK(s2.policy.spec().replicas.max == model::Replicas{6});
    CHECK(s2.priority == 0);
    CHECK(s2.weight == 1);
    CHECK_FALSE(s2.units_per_replica.has_value());
    CHECK(c.loop == LoopConfig{.interval = seconds{30},
                               .dry_run = true,
                               .listen = "0.0.0.0:9000",
                               .state_file = "/var/lib/qfscale/state.json",
                               .audit_log = "/etc/log/audit.jsonl",
                               .audit_log_max_bytes = 8ULL << 20U,
                               .audit_log_keep = 9});
  }

  TEST_CASE("config: leaving keys out gives the documented defaults") {
    auto got = parse(make_config({}));
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
    CHECK(got->qianfan == QianfanConfig{});
    CHECK(got->qianfan.timeout == milliseconds{10'000});
    CHECK(got->qianfan.max_attempts == 4);
    CHECK(got->qianfan.concurrency == 16);
    CHECK(got->qianfan.base_url.empty());  // the client falls back to the environment
    CHECK(got->loop == LoopConfig{});
    CHECK(got->loop.interval == seconds{15});
    CHECK(got->loop.listen == "127.0.0.1:9464");
    CHECK(got->loop.audit_log_max_bytes == 64ULL * 1024 * 1024);
    CHECK(got->loop.audit_log_keep == 5);
    CHECK(got->metrics.prometheus.label == "service");
    CHECK(got->metrics.prometheus.timeout == milliseconds{5000});
    CHECK(got->metrics.prometheus.staleness == seconds{120});
    CHECK(got->metrics.prometheus.span == seconds{0});  // read from each query's range
    REQUIRE(got->services.size() == 1);
    const auto& s = got->services[0];
    CHECK(s.policy_ref == "balanced");  // kDefaultPolicy
    CHECK(s.policy.name() == "balanced");
    CHECK(s.priority == 0);
    CHECK(s.weight == 1);
    CHECK_FALSE(s.units_per_replica);
    CHECK_FALSE(got->instances[0].capacity);
  }

  TEST_CASE("config: unknown keys are errors at every level, with line and column") {
    struct Case {
      std::string_view name;
      Parts parts;
      std::string_view want;
    };
    const Case cases[] = {
        {"root",
         {.loop = "interval: 15s}\nlop: {"},
         "8:1: lop: unknown field, did you mean 'loop'? (allowed: apiVersion, kind, qianfan, "
         "metrics, instances, services, loop, coordination)"},
        {"qianfan",
         {.qianfan = "timout: 5s"},
         "3:11: qianfan.timout: unknown field, did you mean 'timeout'? (allowed: baseUrl, "
         "credentialsFile, timeout, maxAttempts, maxRetryAfter, concurrency, caFile)"},
        {"metrics",
         {.metrics = "qianfan: {}, graphite: {}"},
         "4:24: metrics.graphite: unknown field (allowed: prometheus, qianfan, trace, synthetic)"},
        {"prometheus",
         {.metrics = "prometheus: {url: http://p:1, query: q, lable: x}"},
         "4:51: metrics.prometheus.lable: unknown field (allowed: url, query, label, timeout, "
         "staleness, span, caFile)"},
        {"synthetic",
         {.metrics = "synthetic: {baseQPS: 3}"},
         "4:23: metrics.synthetic.baseQPS: unknown field, did you mean 'baseQps'? (allowed: "
         "seed, baseQps, amplitude, period, peakAt, noise, burstsPerHour, burstHeight, "
         "burstDuration)"},
        {"instance",
         {.instance = "size: 4"},
         "5:36: instances[1].size: unknown field (allowed: id, capacity)"},
        {"service",
         {.service = "weigth: 2"},
         "6:43: services[0].weigth: unknown field, did you mean 'weight'? (allowed: id, policy, "
         "instances, priority, weight, unitsPerReplica, query, trace)"},
        {"loop",
         {.loop = "dry_run: true"},
         "7:8: loop.dry_run: unknown field, did you mean 'dryRun'? (allowed: interval, dryRun, "
         "listen, stateFile, auditLog, auditLogMaxBytes, auditLogKeep)"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = parse(make_config(c.parts));
      REQUIRE_FALSE(got.has_value());
      CHECK(joined(lines_of(got.error())) == std::string(c.want) + "\n");
    }
  }

  TEST_CASE("config: every problem is reported at once, in file order, with the file name") {
    const auto text = make_config({.qianfan = "maxAttempts: 0",
                                   .metrics = "qianfan: {window: 0s}",
                                   .instance = "capacity: -1",
                                   .service = "weight: 0, policy: balancd",
                                   .loop = "interval: 2h, auditLogKeep: 101"});
    auto got = parse(text);
    REQUIRE_FALSE(got.has_value());
    CHECK(joined(lines_of(got.error())) ==
          joined({
              "3:24: qianfan.maxAttempts: 0 is out of range, must be in [1, 10]",
              "4:29: metrics.qianfan.window: 0s is out of range, must be in [1s, 1h]",
              "5:46: instances[1].capacity: -1 is out of range, must be in [1, 100000]",
              "6:51: services[0].weight: 0 is out of range, must be in [1, 1000]",
              "6:62: services[0].policy: 'balancd' is not a shipped policy (did you mean "
              "balanced?), must be one of balanced, business-hours, cost-saver, hpa-default, "
              "kpa-default, latency-first, scale-to-zero or a policy file (a path containing "
              "'/' or ending in .yaml)",
              "7:18: loop.interval: 2h is out of range, must be in [1s, 1h]",
              "7:36: loop.auditLogKeep: 101 is out of range, must be in [1, 100]",
          }));
    for (const auto& d : got.error()) CHECK(d.file == kConfigFile);
  }

  TEST_CASE("config: the document itself") {
    struct Case {
      std::string_view name;
      std::string text;
      std::string_view want;  ///< the first diagnostic
    };
    const Case cases[] = {
        {"empty file", "", "0:0: : is empty, must be a ControllerConfig document"},
        {"a policy instead", replaced(make_config({}), "ControllerConfig", "ScalingPolicy"),
         "2:7: kind: ScalingPolicy is not supported, must be ControllerConfig"},
        {"old api version", "apiVersion: qfscale/v0" + make_config({}).substr(22),
         "1:13: apiVersion: qfscale/v0 is not supported, must be qfscale/v1"},
        {"second document", make_config({}) + "---\nkind: x\n",
         "8:1: : starts a second YAML document, a file must hold exactly one config"},
        {"syntax error", "kind: [\n", "2:1: : YAML syntax error: end of sequence flow not found"},
        {"no metric source", make_config({.metrics = ""}),
         "4:10: metrics: sets no metric source, must set exactly one of prometheus, qianfan, "
         "trace, synthetic"},
        {"no services",
         "apiVersion: qfscale/v1\nkind: ControllerConfig\nmetrics: {qianfan: {}}\n"
         "instances: [{id: a}]\nservices: []\n",
         "5:11: services: is empty, must list at least one service"},
        {"no instances",
         "apiVersion: qfscale/v1\nkind: ControllerConfig\nmetrics: {qianfan: {}}\n"
         "instances: []\nservices: [{id: s, instances: [a]}]\n",
         "4:12: instances: is empty, must list at least one compute-unit instance"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = parse(c.text);
      REQUIRE_FALSE(got.has_value());
      CHECK(lines_of(got.error()).front() == c.want);
    }
  }

  TEST_CASE("config: exactly one metric source; query and trace only with their source") {
    struct Case {
      std::string_view name;
      Parts parts;
      std::vector<std::string> want;  ///< empty: valid
    };
    const Case cases[] = {
        {"prometheus alone", {}, {}},
        {"qianfan alone", {.metrics = "qianfan: {window: 2m}"}, {}},
        {"synthetic alone", {.metrics = "synthetic: {seed: 7}"}, {}},
        {"trace alone", {.metrics = "trace: {file: t.csv}"}, {}},
        {"two sources",
         {.metrics = "qianfan: {}, prometheus: {url: http://p:1, query: q}"},
         {"4:36: metrics.prometheus: is set together with metrics.qianfan, must set exactly one "
          "metric source"}},
        {"query with qianfan",
         {.metrics = "qianfan: {}", .service = "query: up"},
         {"6:50: services[0].query: is only used with the prometheus metric source, must be "
          "removed (or use metrics.prometheus)"}},
        {"trace with prometheus",
         {.service = "trace: a.csv"},
         {"6:50: services[0].trace: is only used with the trace metric source, must be removed "
          "(or use metrics.trace)"}},
        {"per-service query replaces the shared one",
         {.metrics = "prometheus: {url: http://p:1}", .service = "query: up"},
         {}},
        {"no query at all",
         {.metrics = "prometheus: {url: http://p:1}"},
         {"4:23: metrics.prometheus.query: is required unless every service sets its own query "
          "(none for: svc-1)"}},
        {"per-service trace replaces the file",
         {.metrics = "trace: {speedup: 60}", .service = "trace: s.csv"},
         {}},
        {"no trace at all",
         {.metrics = "trace: {speedup: 60}"},
         {"4:18: metrics.trace.file: is required unless every service sets its own trace (none "
          "for: svc-1)"}},
        {"prometheus url checked by demand::validate",
         {.metrics = "prometheus: {url: ftp://p, query: q}"},
         {"4:29: metrics.prometheus.url: \"ftp://p\" must be http://host[:port][/prefix] or "
          "https://…"}},
        {"prometheus label checked by demand::validate",
         {.metrics = "prometheus: {url: http://p:1, query: q, label: 1x}"},
         {"4:58: metrics.prometheus.label: \"1x\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"}},
        {"synthetic checked by SyntheticTraffic::create",
         {.metrics = "synthetic: {amplitude: 1.5, burstHeight: 0.5}"},
         {"4:34: metrics.synthetic.amplitude: 1.5 is out of range [0, 1]",
          "4:52: metrics.synthetic.burstHeight: 0.5 is out of range [1, 1000]"}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = parse(make_config(c.parts));
      if (c.want.empty()) {
        CHECK_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
      } else {
        REQUIRE_FALSE(got.has_value());
        CHECK(joined(lines_of(got.error())) == joined(c.want));
      }
    }
    auto one =
        parse(make_config({.metrics = "prometheus: {url: http://p:1}", .service = "query: up"}));
    REQUIRE(one.has_value());
    CHECK(one->metrics.prometheus.per_service_queries.at(model::ServiceId("svc-1")) == "up");
    auto traced = parse(make_config({.metrics = "trace: {file: all.csv, speedup: 60, window: 30s, "
                                                "loop: true}",
                                     .service = "trace: traces/s.csv"}));
    REQUIRE(traced.has_value());
    CHECK(traced->metrics.trace_file == "/etc/qfscale/all.csv");
    CHECK(traced->metrics.service_traces.at(model::ServiceId("svc-1")) ==
          "/etc/qfscale/traces/s.csv");
    CHECK(traced->metrics.trace_options.speedup == 60);
    CHECK(traced->metrics.trace_options.window == seconds{30});
    CHECK(traced->metrics.trace_options.loop);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
