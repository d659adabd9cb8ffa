#include "qfscale/policy/loader.h"

#include <functional>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/policy/duration.h"
#include "qfscale/util/file.h"

namespace qfscale::policy {
namespace {

using std::chrono::seconds;

const util::ZoneSource& system_zones() {
  static const util::ZoneSource zones = util::system_zone_source();
  return zones;
}

const util::ZoneSource kNoZones = [](std::string_view) -> std::optional<std::string> {
  return std::nullopt;
};

constexpr std::string_view kHeader =
    "apiVersion: qfscale/v1\n"
    "kind: ScalingPolicy\n"
    "metadata: {name: test}\n"
    "spec:\n";  // the spec body starts on line 5

std::string doc(std::string_view spec_body) {
  return std::string(kHeader) + std::string(spec_body);
}

PolicySpec defaults() {
  PolicySpec s;
  s.name = "test";
  return s;
}

/// All diagnostics as "line:col: path: message" (file omitted), for readable failures.
std::vector<std::string> lines_of(const util::Diagnostics& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds)
    out.push_back(fmt::format("{}:{}: {}: {}", d.line, d.column, d.path, d.message));
  return out;
}

TEST_SUITE("policy") {
  TEST_CASE("loader: an empty spec gives every default") {
    auto p = load_policy(doc("  {}\n"), "p.yaml", kNoZones);
    REQUIRE_MESSAGE(p.has_value(), util::to_string(p.error()));
    CHECK(p->spec() == defaults());
    CHECK(p->name() == "test");
  }

  TEST_CASE("loader: every field, valid, at its bounds and just outside") {
    struct Case {
      std::string_view name;
      std::string_view body;                   ///< under "spec:"
      std::function<void(PolicySpec&)> delta;  ///< valid rows: expected = defaults + delta
      std::string_view want_path;              ///< invalid rows
      std::string_view want_message;
    };
    const Case cases[] = {
        // target.utilization in (0, 1]
        {"utilization 0.5", "  target: {utilization: 0.5}\n",
         [](PolicySpec& s) { s.target.utilization = 0.5; }},
        {"utilization at upper bound 1", "  target: {utilization: 1}\n",
         [](PolicySpec& s) { s.target.utilization = 1.0; }},
        {"utilization just above 1", "  target: {utilization: 1.01}\n", nullptr,
         "spec.target.utilization", "1.01 is out of range, must be in (0, 1]"},
        {"utilization 1.5 (Knative wording)", "  target: {utilization: 1.5}\n", nullptr,
         "spec.target.utilization", "1.5 is out of range, must be in (0, 1]"},
        {"utilization at open lower bound 0", "  target: {utilization: 0}\n", nullptr,
         "spec.target.utilization", "0 is out of range, must be in (0, 1]"},
        {"utilization just above 0", "  target: {utilization: 0.001}\n",
         [](PolicySpec& s) { s.target.utilization = 0.001; }},
        // target.slo: wait in [1s, 1h], attainment a percentage in [50%, 99.99%]; not with
        // utilization (each is a way to size the replicas)
        {"slo 5s at 99%", "  target: {slo: {wait: 5s, attainment: 99%}}\n",
         [](PolicySpec& s) { s.target.slo = SloTarget{.wait = seconds{5}, .attainment = 0.99}; }},
        {"slo with tolerance", "  target: {slo: {wait: 2s, attainment: 99.9%}, tolerance: 0}\n",
         [](PolicySpec& s) {
           s.target.slo = SloTarget{.wait = seconds{2}, .attainment = 99.9 / 100};
           s.target.tolerance = 0;
         }},
        {"slo following level shifts",
         "  target: {slo: {wait: 5s, attainment: 99%, followLevelShifts: true}}\n",
         [](PolicySpec& s) {
           s.target.slo =
               SloTarget{.wait = seconds{5}, .attainment = 0.99, .follow_level_shifts = true};
         }},
        {"slo attainment at lower bound 50%", "  target: {slo: {wait: 1s, attainment: 50%}}\n",
         [](PolicySpec& s) { s.target.slo = SloTarget{.wait = seconds{1}, .attainment = 0.5}; }},
        {"slo attainment at upper bound 99.99%",
         "  target: {slo: {wait: 1h, attainment: 99.99%}}\n",
         [](PolicySpec& s) {
           s.target.slo = SloTarget{.wait = seconds{3600}, .attainment = 99.99 / 100};
         }},
        {"slo attainment just below 50%", "  target: {slo: {wait: 5s, attainment: 49.9%}}\n",
         nullptr, "spec.target.slo.attainment", "49.9% is out of range, must be in [50%, 99.99%]"},
        {"slo attainment just above 99.99%", "  target: {slo: {wait: 5s, attainment: 99.995%}}\n",
         nullptr, "spec.target.slo.attainment",
         "99.995% is out of range, must be in [50%, 99.99%]"},
        {"slo attainment 100%", "  target: {slo: {wait: 5s, attainment: 100%}}\n", nullptr,
         "spec.target.slo.attainment", "100% is out of range, must be in [50%, 99.99%]"},
        {"slo attainment as a fraction", "  target: {slo: {wait: 5s, attainment: 0.99}}\n", nullptr,
         "spec.target.slo.attainment", "0.99 is not a percentage, must be like 99% or 99.9%"},
        {"slo attainment with a space", "  target: {slo: {wait: 5s, attainment: 99 %}}\n", nullptr,
         "spec.target.slo.attainment", "99 % is not a percentage, must be like 99% or 99.9%"},
        {"slo attainment negative", "  target: {slo: {wait: 5s, attainment: -99%}}\n", nullptr,
         "spec.target.slo.attainment", "-99% is not a percentage, must be like 99% or 99.9%"},
        {"slo wait 0s", "  target: {slo: {wait: 0s, attainment: 99%}}\n", nullptr,
         "spec.target.slo.wait", "0s is out of range, must be in [1s, 1h]"},
        {"slo wait just above 1h", "  target: {slo: {wait: 3601s, attainment: 99%}}\n", nullptr,
         "spec.target.slo.wait", "1h1s is out of range, must be in [1s, 1h]"},
        {"slo without a wait", "  target: {slo: {attainment: 99%}}\n", nullptr,
         "spec.target.slo.wait", "is required, must be a duration such as 5s"},
        {"slo without an attainment", "  target: {slo: {wait: 5s}}\n", nullptr,
         "spec.target.slo.attainment", "is required, must be a percentage such as 99%"},
        {"slo and utilization", "  target: {utilization: 0.7, slo: {wait: 5s, attainment: 99%}}\n",
         nullptr, "spec.target.slo",
         "is set together with spec.target.utilization, must be one or the other (slo sizes "
         "replicas for a queueing wait; utilization for a share of their qps)"},
        // target.tolerance in [0, 1)
        {"tolerance at lower bound 0", "  target: {tolerance: 0}\n",
         [](PolicySpec& s) { s.target.tolerance = 0; }},
        {"tolerance negative", "  target: {tolerance: -0.01}\n", nullptr, "spec.target.tolerance",
         "-0.01 is out of range, must be in [0, 1)"},
        {"tolerance just below 1", "  target: {tolerance: 0.99}\n",
         [](PolicySpec& s) { s.target.tolerance = 0.99; }},
        {"tolerance at open upper bound 1", "  target: {tolerance: 1}\n", nullptr,
         "spec.target.tolerance", "1 is out of range, must be in [0, 1)"},
        // scaleUp/scaleDown.tolerance in [0, 1), unset = target.tolerance
        {"scaleUp tolerance 0", "  scaleUp: {tolerance: 0}\n",
         [](PolicySpec& s) { s.scale_up.tolerance = 0.0; }},
        {"scaleDown tolerance just below 1", "  scaleDown: {tolerance: 0.99}\n",
         [](PolicySpec& s) { s.scale_down.tolerance = 0.99; }},
        {"scaleUp tolerance negative", "  scaleUp: {tolerance: -0.01}\n", nullptr,
         "spec.scaleUp.tolerance", "-0.01 is out of range, must be in [0, 1)"},
        {"scaleDown tolerance at open upper bound 1", "  scaleDown: {tolerance: 1}\n", nullptr,
         "spec.scaleDown.tolerance", "1 is out of range, must be in [0, 1)"},
        {"scaleDown tolerance not a number", "  scaleDown: {tolerance: low}\n", nullptr,
         "spec.scaleDown.tolerance", "low is not a number"},
        // replicas
        {"min 0 with scale to zero", "  replicas: {min: 0}\n  scaleToZero: {enabled: true}\n",
         [](PolicySpec& s) {
           s.replicas.min = model::Replicas{0};
           s.scale_to_zero.enabled = true;
         }},
        {"min -1", "  replicas: {min: -1}\n", nullptr, "spec.replicas.min",
         "-1 is out of range, must be in [0, 10000]"},
        {"max at upper bound 10000", "  replicas: {max: 10000}\n",
         [](PolicySpec& s) { s.replicas.max = model::Replicas{10000}; }},
        {"max just above 10000", "  replicas: {max: 10001}\n", nullptr, "spec.replicas.max",
         "10001 is out of range, must be in [1, 10000]"},
        {"max 0", "  replicas: {min: 0, max: 0}\n  scaleToZero: {enabled: true}\n", nullptr,
         "spec.replicas.max", "0 is out of range, must be in [1, 10000]"},
        {"min equal to max", "  replicas: {min: 7, max: 7}\n",
         [](PolicySpec& s) {
           s.replicas = {model::Replicas{7}, model::Replicas{7}};
         }},
        {"min one above max", "  replicas: {min: 8, max: 7}\n", nullptr, "spec.replicas.min",
         "8 is greater than spec.replicas.max (7), must be <= max"},
        // metricWindow in [1s, 1h]
        {"metricWindow 1h30m is too long", "  metricWindow: 1h30m\n", nullptr, "spec.metricWindow",
         "1h30m is out of range, must be in [1s, 1h]"},
        {"metricWindow at 1h", "  metricWindow: 1h\n",
         [](PolicySpec& s) { s.metric_window = seconds{3600}; }},
        {"metricWindow just above 1h", "  metricWindow: 3601s\n", nullptr, "spec.metricWindow",
         "1h1s is out of range, must be in [1s, 1h]"},
        {"metricWindow 0s", "  metricWindow: 0s\n", nullptr, "spec.metricWindow",
         "0s is out of range, must be in [1s, 1h]"},
        // forecast: horizon in [0s, 1h], window in [60s, 1h]
        {"forecast on with defaults", "  forecast: {enabled: true}\n",
         [](PolicySpec& s) { s.forecast.enabled = true; }},
        {"forecast horizon 0s and window at 60s", "  forecast: {horizon: 0s, window: 60s}\n",
         [](PolicySpec& s) {
           s.forecast.horizon = seconds{0};
           s.forecast.window = seconds{60};
         }},
        {"forecast horizon just above 1h", "  forecast: {horizon: 3601s}\n", nullptr,
         "spec.forecast.horizon", "1h1s is out of range, must be in [0s, 1h]"},
        {"forecast window just below 60s", "  forecast: {window: 59s}\n", nullptr,
         "spec.forecast.window", "59s is out of range, must be in [1m, 1h]"},
        {"forecast window at 1h", "  forecast: {window: 1h}\n",
         [](PolicySpec& s) { s.forecast.window = seconds{3600}; }},
        // panic
        {"panic window equal to metricWindow", "  metricWindow: 10s\n  panic: {window: 10s}\n",
         [](PolicySpec& s) {
           s.metric_window = seconds{10};
           s.panic.window = seconds{10};
         }},
        {"panic window 1s above metricWindow", "  metricWindow: 10s\n  panic: {window: 11s}\n",
         nullptr, "spec.panic.window",
         "11s is longer than spec.metricWindow (10s), must be in [1s, metricWindow]"},
        {"disabled panic ignores the metricWindow relation",
         "  metricWindow: 3s\n  panic: {enabled: false}\n",
         [](PolicySpec& s) {
           s.metric_window = seconds{3};
           s.panic.enabled = false;
         }},
        {"panic threshold at 1.1", "  panic: {threshold: 1.1}\n",
         [](PolicySpec& s) { s.panic.threshold = 1.1; }},
        {"panic threshold 1.09", "  panic: {threshold: 1.09}\n", nullptr, "spec.panic.threshold",
         "1.09 is out of range, must be in [1.1, 10]"},
        {"panic threshold 10.5", "  panic: {threshold: 10.5}\n", nullptr, "spec.panic.threshold",
         "10.5 is out of range, must be in [1.1, 10]"},
        // scaling rules
        {"stabilization at 1h", "  scaleDown: {stabilizationWindow: 1h}\n",
         [](PolicySpec& s) { s.scale_down.stabilization_window = seconds{3600}; }},
        {"stabilization just above 1h", "  scaleDown: {stabilizationWindow: 1h0m1s}\n", nullptr,
         "spec.scaleDown.stabilizationWindow", "1h1s is out of range, must be in [0s, 1h]"},
        {"select Min", "  scaleUp: {select: Min}\n",
         [](PolicySpec& s) { s.scale_up.select = Select::Min; }},
        {"select Disabled with no policies", "  scaleUp: {select: Disabled, policies: []}\n",
         [](PolicySpec& s) {
           s.scale_up.select = Select::Disabled;
           s.scale_up.policies.clear();
         }},
        {"no policies with select Max", "  scaleDown: {policies: []}\n", nullptr,
         "spec.scaleDown.policies",
         "is empty, must list at least one policy (or set select: Disabled to never scale down)"},
        {"policies replace the default list",
         "  scaleUp:\n    policies:\n      - {type: Replicas, value: 2, period: 30s}\n",
         [](PolicySpec& s) {
           s.scale_up.policies = {{RateLimitType::Replicas, 2, seconds{30}}};
         }},
        {"scale-up Percent at 100000",
         "  scaleUp:\n    policies: [{type: Percent, value: 100000, period: 1s}]\n",
         [](PolicySpec& s) {
           s.scale_up.policies = {{RateLimitType::Percent, 100000, seconds{1}}};
         }},
        {"scale-up Percent 100001",
         "  scaleUp:\n    policies: [{type: Percent, value: 100001, period: 1s}]\n", nullptr,
         "spec.scaleUp.policies[0].value", "100001 is out of range, must be in [1, 100000]"},
        {"scale-down Percent at 100",
         "  scaleDown:\n    policies: [{type: Percent, value: 100, period: 30m}]\n",
         [](PolicySpec& s) {
           s.scale_down.policies = {{RateLimitType::Percent, 100, seconds{1800}}};
         }},
        {"scale-down Percent 101",
         "  scaleDown:\n    policies: [{type: Percent, value: 101, period: 15s}]\n", nullptr,
         "spec.scaleDown.policies[0].value", "101 is out of range, must be in [1, 100]"},
        {"policy value 0", "  scaleUp:\n    policies: [{type: Replicas, value: 0, period: 15s}]\n",
         nullptr, "spec.scaleUp.policies[0].value", "0 is out of range, must be in [1, 10000]"},
        {"policy period just above 30m",
         "  scaleUp:\n    policies: [{type: Replicas, value: 1, period: 1801s}]\n", nullptr,
         "spec.scaleUp.policies[0].period", "30m1s is out of range, must be in [1s, 30m]"},
        {"policy without period", "  scaleUp:\n    policies: [{type: Replicas, value: 1}]\n",
         nullptr, "spec.scaleUp.policies[0].period", "is required, must be a duration such as 15s"},
        // scaleToZero
        {"scale to zero needs min 0", "  scaleToZero: {enabled: true}\n", nullptr,
         "spec.scaleToZero.enabled", "true needs spec.replicas.min = 0, got 1"},
        {"idleFor at 24h", "  scaleToZero: {idleFor: 24h}\n",
         [](PolicySpec& s) { s.scale_to_zero.idle_for = seconds{86400}; }},
        {"idleFor just above 24h", "  scaleToZero: {idleFor: 24h0m1s}\n", nullptr,
         "spec.scaleToZero.idleFor", "24h1s is out of range, must be in [0s, 24h]"},
        {"activationQps 0", "  scaleToZero: {activationQps: 0}\n",
         [](PolicySpec& s) { s.scale_to_zero.activation_qps = 0; }},
        {"activationQps negative", "  scaleToZero: {activationQps: -0.1}\n", nullptr,
         "spec.scaleToZero.activationQps", "-0.1 is out of range, must be a finite number >= 0"},
        // onMetricsFailure
        {"after at 1", "  onMetricsFailure: {after: 1}\n",
         [](PolicySpec& s) { s.on_metrics_failure.after = 1; }},
        {"after 0", "  onMetricsFailure: {after: 0}\n", nullptr, "spec.onMetricsFailure.after",
         "0 is out of range, must be in [1, 1000]"},
        {"fallback inside replicas",
         "  onMetricsFailure: {action: Fallback, fallbackReplicas: 20}\n",
         [](PolicySpec& s) {
           s.on_metrics_failure.action = MetricsFailureAction::Fallback;
           s.on_metrics_failure.fallback_replicas = model::Replicas{20};
         }},
        {"fallback one above max", "  onMetricsFailure: {action: Fallback, fallbackReplicas: 21}\n",
         nullptr, "spec.onMetricsFailure.fallbackReplicas",
         "21 is out of range, must be in [replicas.min, replicas.max] = [1, 20]"},
        {"fallback without fallbackReplicas", "  onMetricsFailure: {action: Fallback}\n", nullptr,
         "spec.onMetricsFailure.fallbackReplicas",
         "0 is out of range, must be in [replicas.min, replicas.max] = [1, 20]"},
        {"fallbackReplicas with Hold", "  onMetricsFailure: {fallbackReplicas: 3}\n", nullptr,
         "spec.onMetricsFailure.fallbackReplicas",
         "is only used with action: Fallback, must be removed or action set to Fallback"},
        // schedules
        {"schedule in UTC by default", "  schedules: [{cron: \"0 9 * * *\", maxReplicas: 5}]\n",
         [](PolicySpec& s) {
           Schedule sched;
           sched.cron.text = "0 9 * * *";
           sched.max_replicas = model::Replicas{5};
           s.schedules = {sched};
         }},
        {"schedule with neither min nor max", "  schedules: [{cron: \"0 9 * * *\"}]\n", nullptr,
         "spec.schedules[0]", "sets neither minReplicas nor maxReplicas, must set at least one"},
        {"schedule min above policy max", "  schedules: [{cron: \"0 9 * * *\", minReplicas: 21}]\n",
         nullptr, "spec.schedules[0].minReplicas",
         "min 21 is greater than max 20 while the schedule is active, must be <= max"},
        {"schedule duration 0s",
         "  schedules: [{cron: \"@daily\", duration: 0s, minReplicas: 2}]\n", nullptr,
         "spec.schedules[0].duration", "0s is out of range, must be in [1s, 744h]"},
        {"schedule on a day that does not exist",
         "  schedules: [{cron: \"0 0 30 2 *\", minReplicas: 2}]\n", nullptr,
         "spec.schedules[0].cron", "\"0 0 30 2 *\" never fires"},
        {"schedule with a bad cron", "  schedules: [{cron: \"0 24 * * *\", minReplicas: 2}]\n",
         nullptr, "spec.schedules[0].cron",
         "\"0 24 * * *\": hour: 24 is out of range, must be in 0-23"},
        {"schedule with an unknown zone",
         "  schedules: [{cron: \"0 9 * * *\", timezone: Mars/Olympus, minReplicas: 2}]\n", nullptr,
         "spec.schedules[0].timezone",
         "'Mars/Olympus' is not a known time zone, must be a tz database name such as "
         "Asia/Shanghai or UTC"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = load_policy(doc(c.body), "p.yaml", system_zones());
      if (c.delta) {
        CHECK_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
        if (!got) continue;
        auto want = defaults();
        c.delta(want);
        // Schedules carry parsed cron bits and zones; compare the parts the row sets.
        if (!want.schedules.empty()) {
          REQUIRE(got->spec().schedules.size() == want.schedules.size());
          CHECK(got->spec().schedules[0].cron.text == want.schedules[0].cron.text);
          CHECK(got->spec().schedules[0].zone.name == "UTC");
          CHECK(got->spec().schedules[0].max_replicas == want.schedules[0].max_replicas);
          want.schedules = got->spec().schedules;
        }
        CHECK(got->spec() == want);
      } else {
        CHECK_FALSE(got.has_value());
        if (got) continue;
        CHECK(got.error().size() == 1);
        CAPTURE(lines_of(got.error()));
        CHECK(got.error().front().path == c.want_path);
        CHECK(got.error().front().message == c.want_message);
        CHECK(got.error().front().file == "p.yaml");
        CHECK(got.error().front().line >= 5);  // inside the spec body
      }
    }
  }

  TEST_CASE("loader: reports every problem at once with 1-based line and column") {
    const std::string text =
        "apiVersion: qfscale/v2\n"                             // 1
        "kind: ScalingPolicy\n"                                // 2
        "metadata: {name: multi}\n"                            // 3
        "spec:\n"                                              // 4
        "  target: {utilization: 1.5, tolerence: 0.1}\n"       // 5
        "  replicas:\n"                                        // 6
        "    min: 3\n"                                         // 7
        "    max: two\n"                                       // 8
        "  metricWindow: 60\n"                                 // 9
        "  scaleDown:\n"                                       // 10
        "    select: max\n"                                    // 11
        "    policies:\n"                                      // 12
        "      - {type: Percent, value: 150, period: 15s}\n";  // 13
    auto got = load_policy(text, "multi.yaml", kNoZones);
    REQUIRE_FALSE(got.has_value());
    const std::vector<std::string> want = {
        "1:13: apiVersion: qfscale/v2 is not supported, must be qfscale/v1",
        "5:25: spec.target.utilization: 1.5 is out of range, must be in (0, 1]",
        "5:30: spec.target.tolerence: unknown field, did you mean 'tolerance'? (allowed: "
        "utilization, slo, tolerance)",
        "8:10: spec.replicas.max: two is not an integer",
        "9:17: spec.metricWindow: 60 has no unit, must be a duration such as 90s, 5m or 1h30m",
        "11:13: spec.scaleDown.select: max is not allowed, must be one of Max, Min, Disabled "
        "(did you mean Max?)",
        "13:32: spec.scaleDown.policies[0].value: 150 is out of range, must be in [1, 100]",
    };
    CHECK(lines_of(got.error()) == want);
    CHECK(got.error().front().to_string() ==
          "multi.yaml:1:13: apiVersion: qfscale/v2 is not supported, must be qfscale/v1");
  }

  TEST_CASE("loader: target.slo problems point at their own line and column") {
    struct Case {
      std::string_view name;
      std::string body;
      std::vector<std::string> want;
    };
    const Case cases[] = {
        {"a bad wait and a fraction for a percentage",
         "  target:\n    slo: {wait: 0s, attainment: 0.99}\n",
         {"6:17: spec.target.slo.wait: 0s is out of range, must be in [1s, 1h]",
          "6:33: spec.target.slo.attainment: 0.99 is not a percentage, must be like 99% or 99.9%"}},
        {"an attainment out of range, block style",
         "  target:\n    slo:\n      wait: 5s\n      attainment: 100%\n",
         {"8:19: spec.target.slo.attainment: 100% is out of range, must be in [50%, 99.99%]"}},
        {"slo next to utilization: at the slo key",
         "  target:\n    utilization: 0.5\n    slo: {wait: 5s, attainment: 99%}\n",
         {"7:10: spec.target.slo: is set together with spec.target.utilization, must be one or "
          "the other (slo sizes replicas for a queueing wait; utilization for a share of their "
          "qps)"}},
        {"an unknown key inside slo",
         "  target: {slo: {wait: 5s, attainment: 99%, percentile: 99}}\n",
         {"5:45: spec.target.slo.percentile: unknown field (allowed: wait, attainment, "
          "followLevelShifts)"}},
        {"followLevelShifts not a boolean",
         "  target:\n    slo: {wait: 5s, attainment: 99%, followLevelShifts: often}\n",
         {"6:57: spec.target.slo.followLevelShifts: often is not a boolean, must be true or "
          "false"}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = load_policy(doc(c.body), "p.yaml", kNoZones);
      REQUIRE_FALSE(got.has_value());
      CHECK(lines_of(got.error()) == c.want);
    }
  }

  TEST_CASE("loader: HPA names get the qfscale name, at the HPA key's line and column") {
    const std::string text =
        doc("  behavior: {}\n"                                       // 5
            "  minReplicas: 2\n"                                     // 6
            "  target: {averageUtilization: 80}\n"                   // 7
            "  scaleDown:\n"                                         // 8
            "    stabilizationWindowSeconds: 300\n"                  // 9
            "    selectPolicy: Min\n"                                // 10
            "    policies:\n"                                        // 11
            "      - {type: Pods, value: 4, periodSeconds: 60}\n");  // 12
    auto got = load_policy(text, "hpa.yaml", kNoZones);
    REQUIRE_FALSE(got.has_value());
    const std::vector<std::string> want = {
        "5:3: spec.behavior: unknown field, did you mean 'scaleUp' and 'scaleDown'? (the HPA's "
        "behavior block; here they sit directly under spec) (allowed: target, replicas, "
        "metricWindow, panic, forecast, scaleUp, scaleDown, scaleToZero, schedules, "
        "onMetricsFailure)",
        "6:3: spec.minReplicas: unknown field, did you mean 'replicas'? (the HPA's minReplicas is "
        "replicas.min here) (allowed: target, replicas, metricWindow, panic, forecast, scaleUp, "
        "scaleDown, scaleToZero, schedules, onMetricsFailure)",
        "7:12: spec.target.averageUtilization: unknown field, did you mean 'utilization'? (the "
        "HPA's averageUtilization; here a fraction: 80 is 0.8) (allowed: utilization, "
        "slo, tolerance)",
        "9:5: spec.scaleDown.stabilizationWindowSeconds: unknown field, did you mean "
        "'stabilizationWindow'? (the HPA's stabilizationWindowSeconds; here a duration such as "
        "300s) (allowed: stabilizationWindow, select, policies, tolerance)",
        "10:5: spec.scaleDown.selectPolicy: unknown field, did you mean 'select'? (the HPA's "
        "selectPolicy) (allowed: stabilizationWindow, select, policies, tolerance)",
        // the HPA key does not count as the qfscale one, so period is also missing
        "12:9: spec.scaleDown.policies[0].period: is required, must be a duration such as 15s",
        "12:16: spec.scaleDown.policies[0].type: Pods is not allowed, must be one of Percent, "
        "Replicas (did you mean Replicas? Pods is the HPA's name for it)",
        "12:32: spec.scaleDown.policies[0].periodSeconds: unknown field, did you mean 'period'? "
        "(the HPA's periodSeconds; here a duration such as 15s) (allowed: type, value, period)",
    };
    CHECK(lines_of(got.error()) == want);
    CHECK(got.error().front().to_string().starts_with("hpa.yaml:5:3: spec.behavior: "));
  }

  TEST_CASE("loader: a leading document marker and comments are one document") {
    auto got = load_policy("# effective policy\n---\n" + doc("  {}\n") + "...\n# end\n", "p.yaml",
                           kNoZones);
    CHECK_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
  }

  TEST_CASE("loader: a rule broken by a default points at the nearest written ancestor") {
    // metricWindow 3s with panic left at its default 6s window: spec.panic is not in the file,
    // so the diagnostic points at spec (line 4, column 3, where its mapping starts).
    auto got = load_policy(doc("  metricWindow: 3s\n"), "p.yaml", kNoZones);
    REQUIRE_FALSE(got.has_value());
    REQUIRE(got.error().size() == 1);
    CHECK(got.error()[0].path == "spec.panic.window");
    CHECK(got.error()[0].line == 5);
    CHECK(got.error()[0].column == 3);
  }

  TEST_CASE("loader: unknown keys, wrong types and structure") {
    struct Case {
      std::string_view name;
      std::string text;
      std::string_view want;  ///< "line:col: path: message" of the first diagnostic
    };
    const Case cases[] = {
        {"unknown top-level key close to a known one",
         "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: a}\nspce: {}\n",
         "1:1: spec: is required, must be a mapping"},
        {"unknown key far from any", doc("  colour: blue\n"),
         "5:3: spec.colour: unknown field (allowed: target, replicas, metricWindow, panic, "
         "forecast, scaleUp, scaleDown, scaleToZero, schedules, onMetricsFailure)"},
        {"duplicate key", doc("  metricWindow: 30s\n  metricWindow: 40s\n"),
         "6:3: spec.metricWindow: is set twice (first on line 5)"},
        {"quoted number", doc("  target: {utilization: \"0.7\"}\n"),
         "5:25: spec.target.utilization: \"0.7\" is not a number"},
        {"word for a number", doc("  target: {utilization: high}\n"),
         "5:25: spec.target.utilization: high is not a number"},
        {"list for a number", doc("  target: {utilization: [1]}\n"),
         "5:25: spec.target.utilization: a list is not a number"},
        {"fraction for an integer", doc("  replicas: {max: 2.5}\n"),
         "5:19: spec.replicas.max: 2.5 is not an integer"},
        {"huge integer", doc("  replicas: {max: 99999999999}\n"),
         "5:19: spec.replicas.max: 99999999999 is out of range, much too large"},
        {"yes for a boolean", doc("  panic: {enabled: yes}\n"),
         "5:20: spec.panic.enabled: yes is not a boolean, must be true or false"},
        // The null has no position of its own (yaml-cpp puts it at the next token), so the key's.
        {"null for a mapping", doc("  target:\n"),
         "5:3: spec.target: null is not a mapping, must be a mapping with keys utilization, slo, "
         "tolerance"},
        {"scalar for a list", doc("  schedules: daily\n"),
         "5:14: spec.schedules: daily is not a list, must be a list of schedules"},
        {"wrong kind", "apiVersion: qfscale/v1\nkind: Policy\nmetadata: {name: a}\nspec: {}\n",
         "2:7: kind: Policy is not supported, must be ScalingPolicy"},
        {"missing metadata name",
         "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {}\nspec: {}\n",
         "3:11: metadata.name: is required, must be the policy's name"},
        {"bad name",
         "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: My_Policy}\n"
         "spec: {}\n",
         "3:18: metadata.name: 'My_Policy' is not a valid name, must be 1-63 lowercase letters, "
         "digits or '-', starting and ending with a letter or digit"},
        {"not a mapping at all", "just text\n",
         "1:1: : just text is not a mapping, must be a mapping with keys apiVersion, kind, "
         "metadata, spec"},
        {"empty file", "", "0:0: : is empty, must be a ScalingPolicy document"},
        {"two documents", doc("  {}\n") + "---\n" + doc("  {}\n"),
         "6:1: : starts a second YAML document, a file must hold exactly one policy"},
        {"document end then more", doc("  {}\n") + "...\n# c\nspec: {}\n",
         "6:1: : starts a second YAML document, a file must hold exactly one policy"},
        // yaml-cpp 0.7's LoadAll loops forever on these (found by tests/fuzz/policy_fuzz).
        {"stray comma", ",\n", "0:0: : is empty, must be a ScalingPolicy document"},
        {"stray comma and control bytes", std::string(",#\x19\0\0", 5),
         "0:0: : is empty, must be a ScalingPolicy document"},
        {"syntax error", doc("  target: {utilization: 0.5\n"),
         "6:1: : YAML syntax error: end of map flow not found"},
        {"bad indentation", doc("  target:\n    utilization: 0.5\n   tolerance: 0.1\n"),
         "7:4: : YAML syntax error: end of map not found"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = load_policy(c.text, "p.yaml", kNoZones);
      CHECK_FALSE(got.has_value());
      if (got) continue;
      CHECK(lines_of(got.error()).front() == c.want);
    }
  }

  TEST_CASE("loader: durations") {
    struct Case {
      std::string_view text;
      std::optional<long> want_seconds;
      std::string_view want_error;
    };
    const Case cases[] = {
        {"90s", 90, ""},
        {"5m", 300, ""},
        {"1h30m", 5400, ""},
        {"0s", 0, ""},
        {"1h1m1s", 3661, ""},
        {"2400h", 2400L * 3600, ""},  // 100 days, the upper bound
        {"2400h1s", std::nullopt, "is too long, must be at most 2400h"},
        {"60", std::nullopt, "has no unit, must be a duration such as 90s, 5m or 1h30m"},
        {"-5s", std::nullopt, "is negative, must be a duration such as 90s, 5m or 1h30m"},
        {"5d", std::nullopt,
         "has unknown unit 'd', must be a duration such as 90s, 5m or 1h30m (units h, m, s; "
         "whole seconds)"},
        {"500ms", std::nullopt,
         "has unknown unit 'ms', must be a duration such as 90s, 5m or 1h30m (units h, m, s; "
         "whole seconds)"},
        {"1.5h", std::nullopt, "is fractional, must be a duration such as 90s, 5m or 1h30m"},
        {"1h30", std::nullopt, "ends without a unit, must be a duration such as 90s, 5m or 1h30m"},
        {"", std::nullopt, "is empty, must be a duration such as 90s, 5m or 1h30m"},
        {"s", std::nullopt,
         "has 's' where a number was expected, must be a duration such as 90s, 5m or 1h30m"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.text);
      auto got = parse_duration(c.text);
      CHECK(got.has_value() == c.want_seconds.has_value());
      if (got && c.want_seconds) CHECK(got->count() == *c.want_seconds);
      if (!got) CHECK(got.error() == c.want_error);
    }
    CHECK(format_duration(seconds{0}) == "0s");
    CHECK(format_duration(seconds{90}) == "1m30s");
    CHECK(format_duration(seconds{5400}) == "1h30m");
    CHECK(format_duration(seconds{36000}) == "10h");
    for (long s : {0L, 1L, 59L, 61L, 3599L, 3601L, 86399L}) {
      CHECK(parse_duration(format_duration(seconds{s})) == seconds{s});
    }
  }

  TEST_CASE("loader: a schedule loads its cron and time zone") {
    auto got = load_policy(doc("  schedules:\n"
                               "    - {cron: \"0 9 * * 1-5\", duration: 10h, "
                               "timezone: Asia/Shanghai, minReplicas: 4}\n"),
                           "p.yaml", system_zones());
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : util::to_string(got.error())));
    REQUIRE(got->spec().schedules.size() == 1);
    const auto& s = got->spec().schedules[0];
    CHECK(s.cron.text == "0 9 * * 1-5");
    CHECK(s.cron.hours.count() == 1);
    CHECK(s.cron.hours[9]);
    CHECK(s.duration == seconds{36000});
    CHECK(s.zone.name == "Asia/Shanghai");
    CHECK(s.zone.offset_at(SysSeconds{seconds{1'700'000'000}}) == seconds{8 * 3600});
    CHECK(s.min_replicas == model::Replicas{4});
    CHECK_FALSE(s.max_replicas.has_value());
  }

  TEST_CASE("loader: the zone source is never asked for UTC or unsafe names") {
    std::vector<std::string> asked;
    const util::ZoneSource recording =
        [&asked](std::string_view name) -> std::optional<std::string> {
      asked.emplace_back(name);
      return std::nullopt;
    };
    auto got =
        load_policy(doc("  schedules: [{cron: \"@hourly\", timezone: UTC, minReplicas: 2}]\n"),
                    "p.yaml", recording);
    CHECK(got.has_value());
    CHECK(asked.empty());
    CHECK_FALSE(util::system_zone_source()("../../etc/passwd").has_value());
    CHECK_FALSE(util::system_zone_source()("/etc/passwd").has_value());
    CHECK(util::system_zone_source()("Asia/Shanghai").has_value());
  }

  TEST_CASE("loader: to_yaml writes a document that loads back to the same spec") {
    auto first = load_policy(doc("  target: {slo: {wait: 3s, attainment: 99.5%}}\n"
                                 "  replicas: {min: 0, max: 3}\n"
                                 "  scaleToZero: {enabled: true, idleFor: 90s}\n"
                                 "  forecast: {enabled: true, horizon: 2m, window: 10m}\n"
                                 "  scaleUp: {select: Disabled, policies: [], tolerance: 0}\n"
                                 "  scaleDown: {tolerance: 0.25}\n"
                                 "  schedules: [{cron: \"*/15 8-18 * JAN-MAR mon-fri\", "
                                 "timezone: America/New_York, maxReplicas: 2}]\n"
                                 "  onMetricsFailure: {action: Fallback, fallbackReplicas: 1}\n"),
                             "p.yaml", system_zones());
    REQUIRE_MESSAGE(first.has_value(), (first ? "" : util::to_string(first.error())));
    CHECK(first->spec().scale_up.tolerance == 0.0);
    CHECK(first->spec().scale_down.tolerance == 0.25);
    const auto text = to_yaml(first->spec());
    auto second = load_policy(text, "shown.yaml", system_zones());
    REQUIRE_MESSAGE(second.has_value(), (second ? "" : util::to_string(second.error())));
    CHECK(second->spec() == first->spec());
  }

  TEST_CASE("loader: to_yaml writes an attainment as the file would, for every round value") {
    // A whole percentage once came out as "9e+01%", which the loader itself refuses.
    for (const auto* written : {"50%", "90%", "99%", "99.9%", "99.95%", "99.99%"}) {
      CAPTURE(written);
      auto p = load_policy(
          doc(fmt::format("  target: {{slo: {{wait: 5s, attainment: {}}}}}\n", written)), "p.yaml",
          system_zones());
      REQUIRE_MESSAGE(p.has_value(), (p ? "" : util::to_string(p.error())));
      const auto text = to_yaml(p->spec());
      CHECK(text.find(fmt::format("attainment: {}\n", written)) != std::string::npos);
      CHECK(load_policy(text, "shown.yaml", system_zones()));
    }
  }
}

}  // namespace
}  // namespace qfscale::policy
