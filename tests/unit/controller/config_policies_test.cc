// The controller config's policies (shipped names, files relative to the config), path
// resolution, to_yaml and the example config in tests/data.

#include <algorithm>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"
#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"

#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

constexpr std::string_view kGoodPolicy =
    "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: good}\nspec: {}\n";
// Two problems: utilization on line 5, an unknown field on line 6.
constexpr std::string_view kBadPolicy =
    "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: bad}\nspec:\n"
    "  target: {utilization: 1.5}\n  replica: {}\n";

TEST_SUITE("controller") {
  TEST_CASE("config policies: every shipped policy name loads through shipped_policy") {
    const auto names = shipped_policy_names();
    CHECK(names == std::vector<std::string_view>{"balanced", "business-hours", "cost-saver",
                                                 "hpa-default", "kpa-default", "latency-first",
                                                 "scale-to-zero"});
    CHECK(std::is_sorted(names.begin(), names.end()));
    for (const auto name : names) {
      CAPTURE(name);
      const auto text = shipped_policy(name);
      REQUIRE(text.has_value());
      auto p = policy::load_policy(*text, name, zones());
      CHECK_MESSAGE(p.has_value(), (p ? "" : util::to_string(p.error())));
      if (p) CHECK(p->name() == name);
      // The compiled-in text is the file in policies/, byte for byte.
      auto file = util::read_file(fmt::format("{}/policies/{}.yaml", QFS_SOURCE_DIR, name));
      REQUIRE(file.has_value());
      CHECK(*file == *text);
      // And a config can name it.
      auto c = parse(make_config({.service = fmt::format("policy: {}", name)}));
      CHECK_MESSAGE(c.has_value(), (c ? "" : util::to_string(c.error())));
      if (c) CHECK(c->services[0].policy.name() == name);
    }
    CHECK_FALSE(shipped_policy("no-such").has_value());
    CHECK_FALSE(shipped_policy("").has_value());
  }

  TEST_CASE("config policies: a file policy resolves against the config's directory") {
    struct Case {
      std::string_view ref;
      std::string_view file;  ///< where it must be read from
    };
    const Case cases[] = {
        {"mine.yaml", "/etc/qfscale/mine.yaml"},
        {"policies/mine.yaml", "/etc/qfscale/policies/mine.yaml"},
        {"./mine.yml", "/etc/qfscale/mine.yml"},
        {"../common/mine.yaml", "/etc/common/mine.yaml"},
        {"/opt/p/mine", "/opt/p/mine"},  // has a '/': a file even without .yaml
    };
    for (const auto& c : cases) {
      CAPTURE(c.ref);
      MemoryFiles files;
      files.files[std::string(c.file)] = kGoodPolicy;
      auto got = parse(make_config({.service = fmt::format("policy: {}", c.ref)}), files);
      REQUIRE_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
      CHECK(got->services[0].policy_ref == c.ref);
      CHECK(got->services[0].policy_file == c.file);
      CHECK(got->services[0].policy.name() == "good");
    }
  }

  TEST_CASE("config policies: each distinct policy file is read and loaded once") {
    MemoryFiles files;
    files.files["/etc/qfscale/p.yaml"] = kGoodPolicy;
    const std::string text =
        "apiVersion: qfscale/v1\nkind: ControllerConfig\nmetrics: {qianfan: {}}\n"
        "instances: [{id: a}]\nservices:\n"
        "  - {id: s1, instances: [a], policy: p.yaml}\n"
        "  - {id: s2, instances: [a], policy: ./p.yaml}\n"
        "  - {id: s3, instances: [a]}\n";
    auto got = parse(text, files);
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
    CHECK(files.reads == std::vector<std::string>{"/etc/qfscale/p.yaml"});
    CHECK(got->services[2].policy.name() == "balanced");
  }

  TEST_CASE("config policies: a broken policy's problems carry its file name") {
    MemoryFiles files;
    files.files["/etc/qfscale/bad.yaml"] = kBadPolicy;
    const std::string text =
        "apiVersion: qfscale/v1\nkind: ControllerConfig\nmetrics: {qianfan: {}}\n"
        "instances: [{id: a}]\nservices:\n"
        "  - {id: s1, instances: [a], policy: bad.yaml}\n"
        "  - {id: s2, instances: [a], policy: missing.yaml}\n"
        "  - {id: s3, instances: [a], policy: bad.yaml}\n";
    auto got = parse(text, files);
    REQUIRE_FALSE(got.has_value());
    std::vector<std::string> all;
    for (const auto& d : got.error()) all.push_back(d.to_string());
    CHECK(joined(all) ==
          joined({
              "/etc/qfscale/qfscale.yaml:6:38: services[0].policy: policy /etc/qfscale/bad.yaml "
              "is invalid (2 problems reported with that file's name), used by service s1",
              "/etc/qfscale/qfscale.yaml:7:38: services[1].policy: 'missing.yaml' cannot be "
              "read: cannot open /etc/qfscale/missing.yaml: No such file or directory, used by "
              "service s2",
              "/etc/qfscale/qfscale.yaml:8:38: services[2].policy: policy /etc/qfscale/bad.yaml "
              "is invalid (2 problems reported with that file's name), used by service s3",
              // The policy's own diagnostics once, after the config's, under its own name.
              "/etc/qfscale/bad.yaml:5:25: spec.target.utilization: 1.5 is out of range, must "
              "be in (0, 1]",
              "/etc/qfscale/bad.yaml:6:3: spec.replica: unknown field, did you mean 'replicas'? "
              "(allowed: target, replicas, metricWindow, panic, forecast, scaleUp, scaleDown, "
              "scaleToZero, "
              "schedules, onMetricsFailure)",
          }));
  }

  TEST_CASE("config policies: relative paths resolve against the config file's directory") {
    MemoryFiles files;
    const auto cwd = std::filesystem::current_path();
    struct Case {
      std::string_view config_file;
      std::string_view written;
      std::string want;
    };
    const Case cases[] = {
        {"/srv/q/qfscale.yaml", "state.json", "/srv/q/state.json"},
        {"/srv/q/qfscale.yaml", "./var/../state.json", "/srv/q/state.json"},
        {"/srv/q/qfscale.yaml", "/abs/state.json", "/abs/state.json"},
        {"/srv/q/qfscale.yaml", "../up/state.json", "/srv/up/state.json"},
        // A config named relative to the working directory: paths become absolute from there.
        {"conf/qfscale.yaml", "state.json", (cwd / "conf/state.json").string()},
        {"qfscale.yaml", "state.json", (cwd / "state.json").string()},
    };
    for (const auto& c : cases) {
      CAPTURE(c.config_file);
      CAPTURE(c.written);
      const auto text =
          make_config({.qianfan = fmt::format("credentialsFile: {}", c.written),
                       .metrics = fmt::format("trace: {{file: {}}}", c.written),
                       .service = fmt::format("trace: {}", c.written),
                       .loop = fmt::format("stateFile: {}, auditLog: {}", c.written, c.written)});
      auto got = parse_config(text, std::string(c.config_file), files.reader(), zones());
      REQUIRE_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
      CHECK(got->file == c.config_file);
      CHECK(got->qianfan.credentials_file == c.want);
      CHECK(got->metrics.trace_file == c.want);
      CHECK(got->metrics.service_traces.at(model::ServiceId("svc-1")) == c.want);
      CHECK(got->loop.state_file == c.want);
      CHECK(got->loop.audit_log == c.want);
    }
  }

  TEST_CASE("config: services sizing for target.slo whose query's span cannot be read") {
    struct Case {
      std::string name;
      Parts parts;
      std::vector<std::string> without_span;
    };
    const std::vector<Case> cases = {
        // svc-1 runs balanced (the default: target.slo) on a gauge query: nothing to read.
        {"a gauge", {}, {"svc-1"}},
        {"a 1m rate", {.metrics = "prometheus: {url: http://p:1, query: 'rate(x[1m])'}"}, {}},
        {"irate covers two scrapes",
         {.metrics = "prometheus: {url: http://p:1, query: 'irate(x[5m])'}"},
         {"svc-1"}},
        {"span set", {.metrics = "prometheus: {url: http://p:1, query: q, span: 1m}"}, {}},
        {"the service's own query",
         {.metrics = "prometheus: {url: http://p:1, query: q}", .service = "query: 'rate(y[30s])'"},
         {}},
        {"a utilization policy needs no span", {.service = "policy: hpa-default"}, {}},
        {"another source", {.metrics = "qianfan: {window: 60s}"}, {}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto config = parse(make_config(c.parts));
      REQUIRE_MESSAGE(config.has_value(), joined(lines_of(config.error())));
      std::vector<std::string> got;
      for (const auto& id : services_without_span(*config)) got.push_back(id.value);
      CHECK(got == c.without_span);
      CHECK(span_warning(*config).has_value() == !c.without_span.empty());
    }
    const auto gauge = parse(make_config({}));
    REQUIRE(gauge.has_value());
    CHECK(span_warning(*gauge) ==
          "warning: metrics.prometheus: the span of the values (the seconds each averages over) "
          "cannot be read from the query of 1 service sizing for target.slo (svc-1): it has no "
          "rate, increase or avg_over_time range; they will be taken for one tick's means, which "
          "misreads their burstiness unless they are. Set metrics.prometheus.span");
  }

  TEST_CASE("config: to_yaml gives a complete config that parses back to the same") {
    MemoryFiles files;
    files.files["/etc/qfscale/p/mine.yaml"] = kGoodPolicy;
    const std::string text =
        "apiVersion: qfscale/v1\nkind: ControllerConfig\n"
        "qianfan: {baseUrl: 'https://q.example/x', credentialsFile: k, timeout: 90s}\n"
        "metrics: {prometheus: {url: 'http://p:9090', query: 'sum by (service) (x{a=\"b\"})'}}\n"
        "instances: [{id: a, capacity: 8}, {id: b}]\n"
        "services:\n"
        "  - {id: s1, instances: [b, a], policy: p/mine.yaml, query: 'y\\\\z', weight: 4}\n"
        "  - {id: s2, instances: [a], policy: cost-saver, unitsPerReplica: 2, priority: -3}\n"
        "loop: {stateFile: s.json, auditLogMaxBytes: 1536, dryRun: true}\n";
    auto first = parse(text, files);
    REQUIRE_MESSAGE(first.has_value(), (first ? "" : util::to_string(first.error())));
    const auto shown = to_yaml(*first);
    CAPTURE(shown);
    CHECK(shown.find("timeout: 1m30s") != std::string::npos);
    CHECK(shown.find("auditLogMaxBytes: 1536") != std::string::npos);
    CHECK(shown.find("auditLogKeep: 5") != std::string::npos);  // a default, filled in
    CHECK(shown.find("policy: \"/etc/qfscale/p/mine.yaml\"  # policy good") != std::string::npos);
    CHECK(shown.find("policy: cost-saver  # shipped policy cost-saver") != std::string::npos);
    CHECK(shown.find("# auditLog: not set: no audit log") != std::string::npos);
    // Shown from another directory, it still means the same thing (paths are absolute).
    auto again = parse_config(shown, "/elsewhere/shown.yaml", files.reader(), zones());
    REQUIRE_MESSAGE(again.has_value(), (again ? "" : util::to_string(again.error())));
    CHECK(to_yaml(*again) == shown);
    CHECK(again->qianfan == first->qianfan);
    CHECK(again->loop == first->loop);
    CHECK(again->instances == first->instances);
    CHECK(again->metrics.prometheus.per_service_queries ==
          first->metrics.prometheus.per_service_queries);
    CHECK(again->services[0].policy.spec() == first->services[0].policy.spec());
  }

  TEST_CASE("config: the example config in tests/data validates") {
    const std::string path = std::string(QFS_TEST_DATA_DIR) + "/config/example.yaml";
    auto got = load_config(path, zones());
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
    CHECK(got->services.size() == 3);
    CHECK(got->instances.size() == 2);
    CHECK(got->metrics.kind == MetricSourceKind::Prometheus);
    CHECK(got->services[2].policy.name() == "batch-nightly");
    auto shown = parse_config(
        to_yaml(*got), "/x/shown.yaml", [](const std::string& p) { return util::read_file(p); },
        zones());
    CHECK_MESSAGE(shown.has_value(), (shown ? "" : util::to_string(shown.error())));
  }

  TEST_CASE("config: load_config reports an unreadable file as one diagnostic") {
    auto got = load_config("/nonexistent/qfscale.yaml", zones());
    REQUIRE_FALSE(got.has_value());
    REQUIRE(got.error().size() == 1);
    CHECK(got.error()[0].file == "/nonexistent/qfscale.yaml");
    CHECK(got.error()[0].message.find("No such file") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
