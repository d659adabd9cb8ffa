// Each validation rule of the controller config at, and just outside, its bounds.

#include <string>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"

#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

enum class Section { Qianfan, Metrics, Instance, Service, Loop };

struct Case {
  std::string_view name;
  Section section;
  std::string_view text;  ///< "key: value" inside the section's one-line mapping
  /// "" when valid, else "path: message" of the only diagnostic, found at `at`.
  std::string_view want;
  std::string_view at = {};  ///< where in `text` it points; default: the value of `text`
};

Parts parts_for(const Case& c) {
  Parts p;
  const std::string text(c.text);
  switch (c.section) {
    case Section::Qianfan:
      p.qianfan = text;
      break;
    case Section::Metrics:
      p.metrics = text;
      break;
    case Section::Instance:
      p.instance = text;
      break;
    case Section::Service:
      p.service = text;
      break;
    case Section::Loop:
      p.loop = text;
      break;
  }
  return p;
}

int line_of(Section s) {
  switch (s) {
    case Section::Qianfan:
      return kQianfanLine;
    case Section::Metrics:
      return kMetricsLine;
    case Section::Instance:
      return kInstancesLine;
    case Section::Service:
      return kServicesLine;
    case Section::Loop:
      return kLoopLine;
  }
  return 0;
}

void check_cases(std::span<const Case> cases) {
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.text);
    const auto text = make_config(parts_for(c));
    auto got = parse(text);
    if (c.want.empty()) {
      CHECK_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
      continue;
    }
    REQUIRE_FALSE(got.has_value());
    // The expected column: where `at` (default: the value after "key: ") sits on its line.
    std::string_view line = text;
    for (int i = 1; i < line_of(c.section); ++i) line.remove_prefix(line.find('\n') + 1);
    const auto at = c.at.empty() ? c.text.substr(c.text.find(": ") + 2) : c.at;
    const auto column = line.find(c.text) + c.text.find(at) + 1;
    CHECK(joined(lines_of(got.error())) ==
          fmt::format("{}:{}: {}\n", line_of(c.section), column, c.want));
  }
}

TEST_SUITE("controller") {
  TEST_CASE("config bounds: qianfan") {
    const Case cases[] = {
        {"timeout min", Section::Qianfan, "timeout: 1s", ""},
        {"timeout below", Section::Qianfan, "timeout: 0s",
         "qianfan.timeout: 0s is out of range, must be in [1s, 5m]"},
        {"timeout max", Section::Qianfan, "timeout: 5m", ""},
        {"timeout above", Section::Qianfan, "timeout: 301s",
         "qianfan.timeout: 301s is out of range, must be in [1s, 5m]"},
        {"timeout bare number", Section::Qianfan, "timeout: 10",
         "qianfan.timeout: 10 has no unit, must be a duration such as 90s, 5m or 1h30m"},
        {"maxRetryAfter min", Section::Qianfan, "maxRetryAfter: 0s", ""},
        {"maxRetryAfter max", Section::Qianfan, "maxRetryAfter: 5m", ""},
        {"maxRetryAfter above", Section::Qianfan, "maxRetryAfter: 301s",
         "qianfan.maxRetryAfter: 301s is out of range, must be in [0s, 5m]"},
        {"maxRetryAfter negative", Section::Qianfan, "maxRetryAfter: -1s",
         "qianfan.maxRetryAfter: -1s is negative, must be a duration such as 90s, 5m or 1h30m"},
        {"maxAttempts min", Section::Qianfan, "maxAttempts: 1", ""},
        {"maxAttempts below", Section::Qianfan, "maxAttempts: 0",
         "qianfan.maxAttempts: 0 is out of range, must be in [1, 10]"},
        {"maxAttempts max", Section::Qianfan, "maxAttempts: 10", ""},
        {"maxAttempts above", Section::Qianfan, "maxAttempts: 11",
         "qianfan.maxAttempts: 11 is out of range, must be in [1, 10]"},
        {"maxAttempts fraction", Section::Qianfan, "maxAttempts: 2.5",
         "qianfan.maxAttempts: 2.5 is not an integer"},
        {"concurrency min", Section::Qianfan, "concurrency: 1", ""},
        {"concurrency below", Section::Qianfan, "concurrency: 0",
         "qianfan.concurrency: 0 is out of range, must be in [1, 256]"},
        {"concurrency max", Section::Qianfan, "concurrency: 256", ""},
        {"concurrency above", Section::Qianfan, "concurrency: 257",
         "qianfan.concurrency: 257 is out of range, must be in [1, 256]"},
        {"baseUrl https", Section::Qianfan, "baseUrl: https://qianfan.baidubce.com", ""},
        {"baseUrl loopback http", Section::Qianfan, "baseUrl: http://127.0.0.1:8765", ""},
        {"baseUrl ftp", Section::Qianfan, "baseUrl: ftp://x",
         "qianfan.baseUrl: base URL \"ftp://x\" is not an http or https URL; expected "
         "https://host[:port][/prefix]"},
        {"baseUrl empty", Section::Qianfan, "baseUrl: ''",
         "qianfan.baseUrl: is empty, must be an http(s) URL such as https://qianfan.baidubce.com"},
        {"credentialsFile empty", Section::Qianfan, "credentialsFile: ''",
         "qianfan.credentialsFile: is empty, must be a file path (or leave the key out)"},
    };
    check_cases(cases);
  }

  TEST_CASE("config bounds: metric sources") {
    const Case cases[] = {
        {"qianfan window min", Section::Metrics, "qianfan: {window: 1s}", ""},
        {"qianfan window below", Section::Metrics, "qianfan: {window: 0s}",
         "metrics.qianfan.window: 0s is out of range, must be in [1s, 1h]", "0s"},
        {"qianfan window max", Section::Metrics, "qianfan: {window: 1h}", ""},
        {"qianfan window above", Section::Metrics, "qianfan: {window: 3601s}",
         "metrics.qianfan.window: 3601s is out of range, must be in [1s, 1h]", "3601s"},
        {"prometheus timeout below", Section::Metrics,
         "prometheus: {url: http://p:1, query: q, timeout: 0s}",
         "metrics.prometheus.timeout: 0s is out of range, must be in [1s, 5m]", "0s"},
        {"prometheus staleness max", Section::Metrics,
         "prometheus: {url: http://p:1, query: q, staleness: 24h}", ""},
        {"prometheus staleness above", Section::Metrics,
         "prometheus: {url: http://p:1, query: q, staleness: 86401s}",
         "metrics.prometheus.staleness: 86401s is out of range, must be in [1s, 24h]", "86401s"},
        {"prometheus span min", Section::Metrics,
         "prometheus: {url: http://p:1, query: q, span: 1s}", ""},
        {"prometheus span below", Section::Metrics,
         "prometheus: {url: http://p:1, query: q, span: 0s}",
         "metrics.prometheus.span: 0s is out of range, must be in [1s, 24h]", "0s"},
        {"prometheus span max", Section::Metrics,
         "prometheus: {url: http://p:1, query: q, span: 24h}", ""},
        {"prometheus span above", Section::Metrics,
         "prometheus: {url: http://p:1, query: q, span: 86401s}",
         "metrics.prometheus.span: 86401s is out of range, must be in [1s, 24h]", "86401s"},
        {"prometheus url required", Section::Metrics, "prometheus: {query: q}",
         "metrics.prometheus.url: is required, must be the Prometheus HTTP API base URL such as "
         "http://127.0.0.1:9090",
         "{query"},
        {"trace speedup just above 0", Section::Metrics, "trace: {file: t.csv, speedup: 0.001}",
         ""},
        {"trace speedup 0", Section::Metrics, "trace: {file: t.csv, speedup: 0}",
         "metrics.trace.speedup: 0 is out of range, must be in (0, 100000]", "0}"},
        {"trace speedup max", Section::Metrics, "trace: {file: t.csv, speedup: 100000}", ""},
        {"trace speedup above", Section::Metrics, "trace: {file: t.csv, speedup: 100001}",
         "metrics.trace.speedup: 100001 is out of range, must be in (0, 100000]", "100001"},
        {"trace window 0", Section::Metrics, "trace: {file: t.csv, window: 0s}", ""},
        {"trace window above", Section::Metrics, "trace: {file: t.csv, window: 3601s}",
         "metrics.trace.window: 3601s is out of range, must be in [0s, 1h]", "3601s"},
        {"synthetic seed 2^64-1", Section::Metrics, "synthetic: {seed: 18446744073709551615}", ""},
        {"synthetic seed 2^64", Section::Metrics, "synthetic: {seed: 18446744073709551616}",
         "metrics.synthetic.seed: 18446744073709551616 is not an integer in [0, 2^64)",
         "18446744073709551616"},
        {"synthetic noise max", Section::Metrics, "synthetic: {noise: 2}", ""},
        {"synthetic noise above", Section::Metrics, "synthetic: {noise: 2.01}",
         "metrics.synthetic.noise: 2.01 is out of range [0, 2]", "2.01"},
    };
    check_cases(cases);
  }

  TEST_CASE("config bounds: instances and services") {
    const Case cases[] = {
        {"capacity min", Section::Instance, "capacity: 1", ""},
        {"capacity below", Section::Instance, "capacity: 0",
         "instances[1].capacity: 0 is out of range, must be in [1, 100000]"},
        {"capacity max", Section::Instance, "capacity: 100000", ""},
        {"capacity above", Section::Instance, "capacity: 100001",
         "instances[1].capacity: 100001 is out of range, must be in [1, 100000]"},
        {"priority min", Section::Service, "priority: -1000", ""},
        {"priority below", Section::Service, "priority: -1001",
         "services[0].priority: -1001 is out of range, must be in [-1000, 1000]"},
        {"priority max", Section::Service, "priority: 1000", ""},
        {"priority above", Section::Service, "priority: 1001",
         "services[0].priority: 1001 is out of range, must be in [-1000, 1000]"},
        {"weight min", Section::Service, "weight: 1", ""},
        {"weight below", Section::Service, "weight: 0",
         "services[0].weight: 0 is out of range, must be in [1, 1000]"},
        {"weight max", Section::Service, "weight: 1000", ""},
        {"weight above", Section::Service, "weight: 1001",
         "services[0].weight: 1001 is out of range, must be in [1, 1000]"},
        {"unitsPerReplica min", Section::Service, "unitsPerReplica: 1", ""},
        {"unitsPerReplica below", Section::Service, "unitsPerReplica: 0",
         "services[0].unitsPerReplica: 0 is out of range, must be in [1, 1000]"},
        {"unitsPerReplica max", Section::Service, "unitsPerReplica: 1000", ""},
        {"unitsPerReplica above", Section::Service, "unitsPerReplica: 1001",
         "services[0].unitsPerReplica: 1001 is out of range, must be in [1, 1000]"},
        {"empty policy", Section::Service, "policy: ''",
         "services[0].policy: is empty, must be a shipped policy name such as balanced or a "
         "policy file"},
    };
    check_cases(cases);
  }

  TEST_CASE("config bounds: loop") {
    const Case cases[] = {
        {"interval min", Section::Loop, "interval: 1s", ""},
        {"interval below", Section::Loop, "interval: 0s",
         "loop.interval: 0s is out of range, must be in [1s, 1h]"},
        {"interval max", Section::Loop, "interval: 60m", ""},
        {"interval above", Section::Loop, "interval: 1h0m1s",
         "loop.interval: 1h0m1s is out of range, must be in [1s, 1h]"},
        {"dryRun yes", Section::Loop, "dryRun: yes",
         "loop.dryRun: yes is not a boolean, must be true or false"},
        {"listen port 0", Section::Loop, "listen: 127.0.0.1:0", ""},
        {"listen port max", Section::Loop, "listen: 0.0.0.0:65535", ""},
        {"listen port above", Section::Loop, "listen: 127.0.0.1:65536",
         "loop.listen: 127.0.0.1:65536 has a bad port, must be host:port with a port in [0, "
         "65535]"},
        {"listen no port", Section::Loop, "listen: 127.0.0.1",
         "loop.listen: 127.0.0.1 has no port, must be host:port such as 127.0.0.1:9464"},
        {"listen empty port", Section::Loop, "listen: 'localhost:'",
         "loop.listen: \"localhost:\" has a bad port, must be host:port with a port in [0, "
         "65535]"},
        {"listen ipv6", Section::Loop, "listen: '[::1]:9464'", ""},
        {"listen localhost", Section::Loop, "listen: localhost:9464", ""},
        {"listen host name", Section::Loop, "listen: example.com:80",
         "loop.listen: example.com:80 has a bad host, must be an IP address (IPv6 in brackets, "
         "[::1]) or localhost"},
        {"listen octet above 255", Section::Loop, "listen: 10.0.0.256:80",
         "loop.listen: 10.0.0.256:80 has a bad host, must be an IP address (IPv6 in brackets, "
         "[::1]) or localhost"},
        {"auditLogMaxBytes 1Ki", Section::Loop, "auditLogMaxBytes: 1Ki", ""},
        {"auditLogMaxBytes 1024", Section::Loop, "auditLogMaxBytes: 1024", ""},
        {"auditLogMaxBytes below", Section::Loop, "auditLogMaxBytes: 1023",
         "loop.auditLogMaxBytes: 1023 is out of range, must be in [1Ki, 1024Gi]"},
        {"auditLogMaxBytes max", Section::Loop, "auditLogMaxBytes: 1024Gi", ""},
        {"auditLogMaxBytes above", Section::Loop, "auditLogMaxBytes: 1025Gi",
         "loop.auditLogMaxBytes: 1025Gi is out of range, must be in [1Ki, 1024Gi]"},
        // 2^64 / 2^30 would wrap to a small number if shifted before the range check.
        {"auditLogMaxBytes wrapping", Section::Loop, "auditLogMaxBytes: 17179869184Gi",
         "loop.auditLogMaxBytes: 17179869184Gi is out of range, must be in [1Ki, 1024Gi]"},
        {"auditLogMaxBytes MB", Section::Loop, "auditLogMaxBytes: 64MB",
         "loop.auditLogMaxBytes: 64MB is not a size, must be a number of bytes, optionally with "
         "a suffix Ki, Mi or Gi (64Mi), in [1Ki, 1024Gi]"},
        {"auditLogKeep min", Section::Loop, "auditLogKeep: 1", ""},
        {"auditLogKeep below", Section::Loop, "auditLogKeep: 0",
         "loop.auditLogKeep: 0 is out of range, must be in [1, 100]"},
        {"auditLogKeep max", Section::Loop, "auditLogKeep: 100", ""},
        {"auditLogKeep above", Section::Loop, "auditLogKeep: 101",
         "loop.auditLogKeep: 101 is out of range, must be in [1, 100]"},
        {"stateFile empty", Section::Loop, "stateFile: ''",
         "loop.stateFile: is empty, must be a file path (or leave the key out)"},
    };
    check_cases(cases);
  }

  TEST_CASE("config bounds: ids and instance lists") {
    struct IdCase {
      std::string_view name;
      std::string text;
      std::vector<std::string> want;
    };
    const std::string head =
        "apiVersion: qfscale/v1\nkind: ControllerConfig\nmetrics: {qianfan: {}}\n"
        "instances: [{id: cu-a}, {id: cu-b}]\nservices:\n";  // services from line 6
    const IdCase cases[] = {
        {"duplicate service id",
         head + "  - {id: s, instances: [cu-a]}\n  - {id: s, instances: [cu-b]}\n",
         {"7:10: services[1].id: 's' is listed twice (first as services[0]), service ids must be "
          "unique"}},
        {"empty service id",
         head + "  - {id: '', instances: [cu-a]}\n",
         {"6:10: services[0].id: is empty, must be a Qianfan service id such as "
          "svco-ktth9mkb5cqn"}},
        {"missing service id",
         head + "  - {instances: [cu-a]}\n",
         {"6:5: services[0].id: is required, must be a Qianfan service id such as "
          "svco-ktth9mkb5cqn"}},
        {"unknown instance",
         head + "  - {id: s, instances: [cu-a, cu-c]}\n",
         {"6:31: services[0].instances[1]: 'cu-c' is not listed under instances (did you mean "
          "cu-a?), must be one of cu-a, cu-b"}},
        {"instance twice",
         head + "  - {id: s, instances: [cu-b, cu-a, cu-b]}\n",
         {"6:37: services[0].instances[2]: 'cu-b' is listed twice, each instance may appear "
          "once"}},
        {"no instances",
         head + "  - {id: s, instances: []}\n",
         {"6:24: services[0].instances: is empty, must list at least one instance from "
          "instances"}},
        {"instances missing",
         head + "  - {id: s}\n",
         {"6:5: services[0].instances: is required, must be a list of instance ids, most "
          "preferred first"}},
        {"duplicate instance id",
         "apiVersion: qfscale/v1\nkind: ControllerConfig\nmetrics: {qianfan: {}}\n"
         "instances: [{id: cu-a}, {id: cu-a}]\nservices: [{id: s, instances: [cu-a]}]\n",
         {"4:30: instances[1].id: 'cu-a' is listed twice (first as instances[0]), instance ids "
          "must be unique"}},
        {"empty instance id",
         "apiVersion: qfscale/v1\nkind: ControllerConfig\nmetrics: {qianfan: {}}\n"
         "instances: [{id: ''}]\nservices: [{id: s, instances: [x]}]\n",
         {"4:18: instances[0].id: is empty, must be a compute-unit instance id such as "
          "unit-gdqb1Fot",
          "5:32: services[0].instances[0]: 'x' is not listed under instances, must be declared "
          "there first"}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = parse(c.text);
      REQUIRE_FALSE(got.has_value());
      CHECK(joined(lines_of(got.error())) == joined(c.want));
    }
  }
}

}  // namespace
}  // namespace qfscale::controller::test
