#include "qfscale/telemetry/exporter.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "support/golden.h"
#include "unit/telemetry/fixtures.h"

namespace qfscale::telemetry {
namespace {

using model::ActuationOutcome;
using model::InstanceId;
using model::Replicas;
using model::ServiceId;
using test::value_of;

std::unique_ptr<Exporter> make_exporter(const util::Clock& clock) {
  auto e = Exporter::create({.version = "test"}, clock);
  REQUIRE_MESSAGE(e.has_value(), (e ? "" : e.error().to_string()));
  return std::move(*e);
}

/// Occurrences of `needle` in `text`.
std::size_t count(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size()) {
    ++n;
  }
  return n;
}

std::string svc(std::string_view family, std::string_view service) {
  return std::string(family) + "{service=\"" + std::string(service) + "\"}";
}

TEST_SUITE("telemetry") {
  TEST_CASE("exporter: create builds every documented family up front") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    // The metric-name contract (docs/DESIGN.md "Metrics"); grafana/METRICS.md documents each one.
    const std::vector<std::string> want = {
        "qfscale_api_attempts_total",
        "qfscale_api_request_duration_seconds",
        "qfscale_api_requests_total",
        "qfscale_build_info",
        "qfscale_config_last_reload_successful",
        "qfscale_config_reloads_total",
        "qfscale_coordination_disagreeing_members",
        "qfscale_decisions_limited_total",
        "qfscale_engine_stage_changes_total",
        "qfscale_instance_allocated_compute_units",
        "qfscale_instance_capacity_compute_units",
        "qfscale_instance_free_compute_units",
        "qfscale_last_successful_reconcile_timestamp_seconds",
        "qfscale_leader",
        "qfscale_leader_fencing_token",
        "qfscale_leader_lease_remaining_seconds",
        "qfscale_metric_source_errors_total",
        "qfscale_reconcile_duration_seconds",
        "qfscale_reconcile_runs_total",
        "qfscale_replica_count_mismatch_total",
        "qfscale_scale_operations_total",
        "qfscale_service_applied_replicas",
        "qfscale_service_current_replicas",
        "qfscale_service_desired_replicas",
        "qfscale_service_observed_qps",
        "qfscale_service_panic_mode_active",
        "qfscale_service_recommended_replicas",
        "qfscale_service_replica_capacity_qps",
        "qfscale_service_unmet_demand_replicas",
        "qfscale_service_utilization_ratio",
        "qfscale_shard_members",
        "qfscale_shard_owned_services",
        "qfscale_shard_owned_shards",
        "qfscale_shard_txn_failures_total",
        "qfscale_tick_errors_total",
    };
    CHECK(e->family_names() == want);
    CHECK(value_of(e->render_metrics(), "qfscale_build_info{version=\"test\"}") == 1.0);
    // prometheus-cpp leaves out families with no series; after the golden tick every family has
    // at least one, so each one is in the exposition with its TYPE line.
    e->on_tick(test::golden_tick());
    // Attempts come from the Qianfan client, not from the tick report.
    e->on_api_attempt(telemetry::ApiAction::ScaleService, telemetry::ApiCode::RequestLimitExceeded);
    const std::string text = e->render_metrics();
    for (const auto& name : want) {
      CAPTURE(name);
      CHECK(text.find("# TYPE " + name + " ") != std::string::npos);
    }
  }

  TEST_CASE("exporter: build_info defaults to this build's version") {
    util::ManualClock clock;
    auto e = Exporter::create({}, clock);
    REQUIRE(e.has_value());
    CHECK(value_of((*e)->render_metrics(),
                   std::string("qfscale_build_info{version=\"") + QFS_VERSION + "\"}") == 1.0);
  }

  TEST_CASE("exporter: a configured service has its alerted counter series at 0, no others") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    // Nothing configured, nothing seen: no per-service counter series at all.
    CHECK(e->render_metrics().find("qfscale_decisions_limited_total{") == std::string::npos);
    e->on_config({.success = true, .services = {ServiceId{"svc-a"}}, .instances = {}});
    const std::string text = e->render_metrics();
    // capped_max is read by QfscaleServiceAtMaxReplicas with increase(): it exists from 0. The
    // other reasons and every stage are created on first use.
    for (const auto reason : model::kAllReasons) {
      const std::string series = "qfscale_decisions_limited_total{reason=\"" +
                                 std::string(to_string(reason)) + "\",service=\"svc-a\"}";
      CAPTURE(series);
      if (reason == model::Reason::CappedMax) {
        CHECK(value_of(text, series) == 0.0);
      } else {
        CHECK_FALSE(value_of(text, series).has_value());
      }
    }
    CHECK(text.find("qfscale_engine_stage_changes_total{") == std::string::npos);
    for (const auto dir : {"up", "down"}) {
      for (const auto result : {"applied", "dry_run", "failed", "refused"}) {
        CHECK(value_of(text, std::string("qfscale_scale_operations_total{direction=\"") + dir +
                                 "\",result=\"" + result + "\",service=\"svc-a\"}") == 0.0);
      }
    }
    CHECK(value_of(text, svc("qfscale_replica_count_mismatch_total", "svc-a")) == 0.0);
    // The two outcomes that are not operations have no series.
    CHECK(text.find("result=\"not_needed\"") == std::string::npos);
    CHECK(text.find("result=\"skipped\"") == std::string::npos);
    // 8 operation series (2 directions x 4 results) + capped_max + replica count mismatch = 10
    // per service (38 when every reason and stage was created at 0).
    CHECK(count(text, "service=\"svc-a\"") == 10);
  }

  TEST_CASE("exporter: reason and stage series appear on first use and go with the service") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    e->on_config({.success = true,
                  .services = {ServiceId{"svc-a"}, ServiceId{"svc-c"}},
                  .instances = {InstanceId{"unit-1"}}});
    TickReport r{.finished_at = test::kT0, .services = {test::service_a()}};
    e->on_tick(r);
    std::string t = e->render_metrics();
    // svc-a's decision: scale_up and rate_limited, stages raw_desired and rate_limit changed.
    CHECK(value_of(t, R"(qfscale_decisions_limited_total{reason="scale_up",service="svc-a"})") ==
          1.0);
    CHECK(
        value_of(t, R"(qfscale_decisions_limited_total{reason="rate_limited",service="svc-a"})") ==
        1.0);
    CHECK(
        value_of(t, R"(qfscale_engine_stage_changes_total{service="svc-a",stage="raw_desired"})") ==
        1.0);
    CHECK(
        value_of(t, R"(qfscale_engine_stage_changes_total{service="svc-a",stage="rate_limit"})") ==
        1.0);
    // Reasons and stages it did not use have no series; svc-c, not decided yet, has only its 10.
    CHECK_FALSE(
        value_of(t, R"(qfscale_decisions_limited_total{reason="stabilized",service="svc-a"})")
            .has_value());
    CHECK_FALSE(value_of(t, R"(qfscale_engine_stage_changes_total{service="svc-a",stage="clamp"})")
                    .has_value());
    CHECK(count(t, "service=\"svc-c\"") == 10);
    // 10 pre-created counters + 2 reasons + 2 stages + 9 gauges (utilization included).
    CHECK(count(t, "service=\"svc-a\"") == 10 + 2 + 2 + 9);

    // A second decision with the same reasons counts on the series the first one created.
    e->on_tick(r);
    t = e->render_metrics();
    CHECK(value_of(t, R"(qfscale_decisions_limited_total{reason="scale_up",service="svc-a"})") ==
          2.0);

    // svc-a leaves the config: every series naming it goes, those created on first use too.
    e->on_config(
        {.success = true, .services = {ServiceId{"svc-c"}}, .instances = {InstanceId{"unit-1"}}});
    t = e->render_metrics();
    CHECK(count(t, "service=\"svc-a\"") == 0);
    CHECK(count(t, "service=\"svc-c\"") == 10);
    // Back in the config: it starts again from its 10 pre-created series, the old counts gone.
    e->on_config({.success = true,
                  .services = {ServiceId{"svc-a"}, ServiceId{"svc-c"}},
                  .instances = {InstanceId{"unit-1"}}});
    t = e->render_metrics();
    CHECK(count(t, "service=\"svc-a\"") == 10);
    CHECK_FALSE(value_of(t, R"(qfscale_decisions_limited_total{reason="scale_up",service="svc-a"})")
                    .has_value());
  }

  TEST_CASE("exporter: one tick sets per-service gauges from the decisions") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    e->on_tick(test::golden_tick());
    const std::string t = e->render_metrics();

    CHECK(value_of(t, svc("qfscale_service_observed_qps", "svc-a")) == 30.0);
    CHECK(value_of(t, svc("qfscale_service_replica_capacity_qps", "svc-a")) == 10.0);
    CHECK(value_of(t, svc("qfscale_service_current_replicas", "svc-a")) == 2.0);
    CHECK(value_of(t, svc("qfscale_service_recommended_replicas", "svc-a")) == 4.0);
    CHECK(value_of(t, svc("qfscale_service_desired_replicas", "svc-a")) == 4.0);
    // Applied call 2 -> 4: current 2 + 2 = 4.
    CHECK(value_of(t, svc("qfscale_service_applied_replicas", "svc-a")) == 4.0);
    // 30 qps / (2 replicas x 10 qps) = 1.5.
    CHECK(value_of(t, svc("qfscale_service_utilization_ratio", "svc-a")) == 1.5);
    CHECK(value_of(t, svc("qfscale_service_unmet_demand_replicas", "svc-a")) == 0.0);
    CHECK(value_of(t, svc("qfscale_service_panic_mode_active", "svc-a")) == 0.0);

    // svc-b has no QPS: observed and utilization series are absent, not 0.
    CHECK_FALSE(value_of(t, svc("qfscale_service_observed_qps", "svc-b")).has_value());
    CHECK_FALSE(value_of(t, svc("qfscale_service_utilization_ratio", "svc-b")).has_value());
    CHECK(value_of(t, svc("qfscale_service_current_replicas", "svc-b")) == 3.0);
    CHECK(value_of(t, svc("qfscale_service_applied_replicas", "svc-b")) == 3.0);

    // svc-c: a dry run changes nothing, so applied stays at current 4; 12 wanted, 8 granted.
    CHECK(value_of(t, svc("qfscale_service_applied_replicas", "svc-c")) == 4.0);
    CHECK(value_of(t, svc("qfscale_service_desired_replicas", "svc-c")) == 8.0);
    CHECK(value_of(t, svc("qfscale_service_unmet_demand_replicas", "svc-c")) == 4.0);
    CHECK(value_of(t, svc("qfscale_service_panic_mode_active", "svc-c")) == 1.0);
    // 100 / (4 x 10) = 2.5.
    CHECK(value_of(t, svc("qfscale_service_utilization_ratio", "svc-c")) == 2.5);

    // `compute_unit`, not `instance`: Prometheus owns `instance` (the scrape target).
    CHECK(t.find("instance=") == std::string::npos);
    CHECK(value_of(t, "qfscale_instance_capacity_compute_units{compute_unit=\"unit-2\"}") == 16.0);
    CHECK(value_of(t, "qfscale_instance_allocated_compute_units{compute_unit=\"unit-2\"}") == 16.0);
    CHECK(value_of(t, "qfscale_instance_free_compute_units{compute_unit=\"unit-2\"}") == 0.0);
    CHECK(value_of(t, "qfscale_instance_free_compute_units{compute_unit=\"unit-1\"}") == 8.0);
  }

  TEST_CASE("exporter: counters accumulate over a sequence of ticks") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    const auto tick = test::golden_tick();
    e->on_tick(tick);
    e->on_tick(tick);
    const std::string t = e->render_metrics();

    // Per tick: svc-a up/applied, svc-c up/dry_run; two ticks, so 2 each.
    const auto ops = [&](const char* service, const char* dir, const char* result) {
      return value_of(
          t, fmt::format(
                 R"(qfscale_scale_operations_total{{direction="{}",result="{}",service="{}"}})",
                 dir, result, service));
    };
    CHECK(ops("svc-a", "up", "applied") == 2.0);
    CHECK(ops("svc-a", "up", "dry_run") == 0.0);
    CHECK(ops("svc-c", "up", "dry_run") == 2.0);
    CHECK(ops("svc-c", "up", "applied") == 0.0);
    CHECK(ops("svc-a", "down", "applied") == 0.0);
    CHECK(ops("svc-b", "up", "applied") == 0.0);  // seen, so its series exist at 0
    // Per tick: scale_up in svc-a and svc-c (once per decision each), rate_limited (a),
    // metrics_missing (b, step and deciding reason count once), panic_entered and
    // capped_capacity (c).
    const auto limited = [&](const char* reason, const char* service) {
      return value_of(
          t, fmt::format(R"(qfscale_decisions_limited_total{{reason="{}",service="{}"}})", reason,
                         service));
    };
    CHECK(limited("scale_up", "svc-a") == 2.0);
    CHECK_FALSE(limited("scale_up", "svc-b").has_value());  // never used: no series
    CHECK(limited("scale_up", "svc-c") == 2.0);
    CHECK(limited("rate_limited", "svc-a") == 2.0);
    CHECK_FALSE(limited("rate_limited", "svc-c").has_value());
    CHECK(limited("metrics_missing", "svc-b") == 2.0);
    CHECK(limited("panic_entered", "svc-c") == 2.0);
    CHECK(limited("capped_capacity", "svc-c") == 2.0);
    CHECK_FALSE(limited("capped_capacity", "svc-a").has_value());
    CHECK_FALSE(limited("stabilized", "svc-a").has_value());
    CHECK(limited("capped_max", "svc-a") == 0.0);  // alerted: exists from 0
    // Steps with changed=true: raw_desired in a and c, rate_limit in a, panic in c.
    const auto stage = [&](const char* service, const char* name) {
      return value_of(
          t, fmt::format(R"(qfscale_engine_stage_changes_total{{service="{}",stage="{}"}})",
                         service, name));
    };
    CHECK(stage("svc-a", "raw_desired") == 2.0);
    CHECK(stage("svc-c", "raw_desired") == 2.0);
    CHECK_FALSE(stage("svc-b", "raw_desired").has_value());
    CHECK(stage("svc-a", "rate_limit") == 2.0);
    CHECK(stage("svc-c", "panic") == 2.0);
    CHECK_FALSE(stage("svc-a", "panic").has_value());
    CHECK_FALSE(stage("svc-a", "clamp").has_value());

    CHECK(value_of(t, R"(qfscale_api_requests_total{action="DescribeService",code="ok"})") == 4.0);
    CHECK(
        value_of(
            t,
            R"(qfscale_api_requests_total{action="DescribeService",code="RequestLimitExceeded"})") ==
        2.0);
    CHECK(value_of(t, R"(qfscale_api_requests_total{action="ScaleService",code="ok"})") == 2.0);
    // DescribeService latencies 0.02, 0.02, 0.3 twice: 6 observations, sum 0.68; four are <= 0.025.
    CHECK(value_of(t, R"(qfscale_api_request_duration_seconds_count{action="DescribeService"})") ==
          6.0);
    CHECK(value_of(t, R"(qfscale_api_request_duration_seconds_sum{action="DescribeService"})") ==
          doctest::Approx(0.68));
    CHECK(
        value_of(
            t,
            R"(qfscale_api_request_duration_seconds_bucket{action="DescribeService",le="0.025"})") ==
        4.0);
    CHECK(
        value_of(
            t,
            R"(qfscale_api_request_duration_seconds_bucket{action="DescribeService",le="0.25"})") ==
        4.0);
    CHECK(
        value_of(
            t,
            R"(qfscale_api_request_duration_seconds_bucket{action="DescribeService",le="0.5"})") ==
        6.0);
    CHECK(value_of(t, R"(qfscale_metric_source_errors_total{kind="missing"})") == 2.0);
    CHECK(value_of(t, R"(qfscale_metric_source_errors_total{kind="stale"})") == 0.0);
    CHECK(value_of(t, "qfscale_reconcile_duration_seconds_count") == 2.0);
    CHECK(value_of(t, "qfscale_reconcile_duration_seconds_sum") == doctest::Approx(0.084));
    CHECK(value_of(t, R"(qfscale_reconcile_runs_total{result="success"})") == 2.0);
    CHECK(value_of(t, R"(qfscale_reconcile_runs_total{result="failure"})") == 0.0);
    CHECK(value_of(t, "qfscale_last_successful_reconcile_timestamp_seconds") == 1'700'000'000.0);
  }

  TEST_CASE("exporter: later decisions replace gauges; a failed tick keeps the last success time") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    e->on_tick(test::golden_tick());

    TickReport next;
    next.finished_at = test::kT0 + std::chrono::seconds{15};
    next.success = false;
    auto a = test::service_a(next.finished_at);
    a.decision.qps.reset();  // metrics went missing: the observed series disappears
    a.decision.current = Replicas{4};
    a.decision.recommended = Replicas{3};
    a.decision.granted = Replicas{3};
    a.decision.calls = {{.instance = InstanceId{"unit-1"},
                         .from = Replicas{4},
                         .to = Replicas{3},
                         .outcome = ActuationOutcome::Failed,
                         .error = "boom"}};
    next.services = {a};
    e->on_tick(next);
    const std::string t = e->render_metrics();
    CHECK_FALSE(value_of(t, svc("qfscale_service_observed_qps", "svc-a")).has_value());
    CHECK_FALSE(value_of(t, svc("qfscale_service_utilization_ratio", "svc-a")).has_value());
    CHECK(value_of(t, svc("qfscale_service_current_replicas", "svc-a")) == 4.0);
    // The scale-down failed: applied stays at current.
    CHECK(value_of(t, svc("qfscale_service_applied_replicas", "svc-a")) == 4.0);
    CHECK(
        value_of(
            t,
            R"(qfscale_scale_operations_total{direction="down",result="failed",service="svc-a"})") ==
        1.0);
    CHECK(value_of(t, R"(qfscale_reconcile_runs_total{result="failure"})") == 1.0);
    CHECK(value_of(t, "qfscale_last_successful_reconcile_timestamp_seconds") == 1'700'000'000.0);
    // Services not in this tick keep their last values.
    CHECK(value_of(t, svc("qfscale_service_current_replicas", "svc-c")) == 4.0);
  }

  TEST_CASE("exporter: tick errors are counted by stage and code, every pair from 0") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    const std::string before = e->render_metrics();
    for (const auto& [stage, code] : all_tick_error_kinds()) {
      const auto series = fmt::format(R"(qfscale_tick_errors_total{{code="{}",stage="{}"}})",
                                      to_string(code), to_string(stage));
      CAPTURE(series);
      CHECK(value_of(before, series) == 0.0);
    }
    CHECK(all_tick_error_kinds().size() == 28);
    TickReport r;
    r.finished_at = test::kT0;
    r.errors = {{.stage = TickStage::Observe, .code = TickErrorCode::SignatureDoesNotMatch},
                {.stage = TickStage::Observe, .code = TickErrorCode::SignatureDoesNotMatch},
                {.stage = TickStage::Save, .code = TickErrorCode::Io}};
    e->on_tick(r);
    const std::string t = e->render_metrics();
    CHECK(
        value_of(t, R"(qfscale_tick_errors_total{code="SignatureDoesNotMatch",stage="observe"})") ==
        2.0);
    CHECK(value_of(t, R"(qfscale_tick_errors_total{code="io",stage="save"})") == 1.0);
    CHECK(value_of(t, R"(qfscale_tick_errors_total{code="io",stage="audit"})") == 0.0);
  }

  TEST_CASE("exporter: a service that could not be observed has no replica series, not 0") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    e->on_tick(test::golden_tick());
    REQUIRE(value_of(e->render_metrics(), svc("qfscale_service_current_replicas", "svc-a")) == 2.0);
    TickReport next;
    next.finished_at = test::kT0 + std::chrono::seconds{15};
    auto a = test::service_a(next.finished_at);
    a.observed = false;  // its DescribeService failed
    a.decision.current = Replicas{0};
    a.decision.replica_qps = 0;
    next.services = {a};
    e->on_tick(next);
    const std::string t = e->render_metrics();
    for (const auto* family :
         {"qfscale_service_replica_capacity_qps", "qfscale_service_current_replicas",
          "qfscale_service_recommended_replicas", "qfscale_service_desired_replicas",
          "qfscale_service_applied_replicas", "qfscale_service_utilization_ratio",
          "qfscale_service_unmet_demand_replicas", "qfscale_service_panic_mode_active"}) {
      CAPTURE(family);
      CHECK_FALSE(value_of(t, svc(family, "svc-a")).has_value());
      CHECK(value_of(t, svc(family, "svc-c")).has_value());  // others untouched
    }
    // Its QPS comes from the metric source, which did answer.
    CHECK(value_of(t, svc("qfscale_service_observed_qps", "svc-a")) == a.decision.qps);
    // Observed again: the series come back.
    e->on_tick(test::golden_tick());
    CHECK(value_of(e->render_metrics(), svc("qfscale_service_current_replicas", "svc-a")) == 2.0);
  }

  TEST_CASE("exporter: a service removed from config loses its series and its decision") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    e->on_config({.success = true,
                  .services = {ServiceId{"svc-a"}, ServiceId{"svc-b"}, ServiceId{"svc-c"}},
                  .instances = {InstanceId{"unit-1"}, InstanceId{"unit-2"}}});
    e->on_tick(test::golden_tick());
    REQUIRE(value_of(e->render_metrics(), svc("qfscale_service_current_replicas", "svc-c")));

    // A failed reload changes nothing.
    e->on_config({.success = false, .services = {ServiceId{"svc-a"}}, .instances = {}});
    CHECK(value_of(e->render_metrics(), svc("qfscale_service_current_replicas", "svc-c")) == 4.0);

    e->on_config(
        {.success = true, .services = {ServiceId{"svc-a"}}, .instances = {InstanceId{"unit-1"}}});
    const std::string t = e->render_metrics();
    for (const auto* gone : {"svc-b", "svc-c"}) {
      CAPTURE(gone);
      CHECK(t.find(std::string("service=\"") + gone + "\"") == std::string::npos);
      CHECK_FALSE(e->last_decision(ServiceId{gone}).has_value());
    }
    CHECK(t.find("compute_unit=\"unit-2\"") == std::string::npos);
    CHECK(value_of(t, svc("qfscale_service_current_replicas", "svc-a")) == 2.0);
    // The kept service keeps its counters; the removed ones' counters went with their gauges
    // (checked above: no series names svc-b or svc-c).
    CHECK(value_of(t, R"(qfscale_decisions_limited_total{reason="scale_up",service="svc-a"})") ==
          1.0);
    CHECK(value_of(t, "qfscale_instance_capacity_compute_units{compute_unit=\"unit-1\"}") == 16.0);
    CHECK(value_of(t, R"(qfscale_config_reloads_total{result="success"})") == 2.0);
    CHECK(value_of(t, R"(qfscale_config_reloads_total{result="failure"})") == 1.0);
    CHECK(value_of(t, "qfscale_config_last_reload_successful") == 1.0);

    // A tick that still carries the removed service (it started before the reload) does not
    // bring its series back.
    e->on_tick(test::golden_tick());
    const std::string after = e->render_metrics();
    CHECK(after.find("service=\"svc-c\"") == std::string::npos);
    CHECK(after.find("compute_unit=\"unit-2\"") == std::string::npos);
    REQUIRE(e->last_decisions().size() == 1);
    CHECK(e->last_decisions()[0].service == ServiceId{"svc-a"});
  }

  TEST_CASE("exporter: a shard handed over drops its services' series, not counted as a load") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    e->on_config({.success = true,
                  .services = {ServiceId{"svc-a"}, ServiceId{"svc-c"}},
                  .instances = {InstanceId{"unit-1"}, InstanceId{"unit-2"}}});
    e->on_tick(test::golden_tick());
    e->on_config({.success = true,
                  .load = false,
                  .services = {ServiceId{"svc-a"}},
                  .instances = {InstanceId{"unit-1"}}});
    const std::string t = e->render_metrics();
    CHECK(t.find("service=\"svc-c\"") == std::string::npos);
    CHECK(value_of(t, R"(qfscale_config_reloads_total{result="success"})") == 1.0);
  }

  TEST_CASE("exporter: a failed first config load reports 0 for last reload success") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    CHECK(value_of(e->render_metrics(), "qfscale_config_last_reload_successful") == 0.0);
    e->on_config({.success = false});
    CHECK(value_of(e->render_metrics(), "qfscale_config_last_reload_successful") == 0.0);
    CHECK(value_of(e->render_metrics(), R"(qfscale_config_reloads_total{result="failure"})") ==
          1.0);
  }

  TEST_CASE("exporter: label values are escaped in the exposition") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    auto a = test::service_a();
    a.decision.service = ServiceId{"odd\"svc\\\n"};
    e->on_tick({.finished_at = test::kT0, .services = {a}});
    CHECK(value_of(e->render_metrics(),
                   R"(qfscale_service_current_replicas{service="odd\"svc\\\n"})") == 2.0);
  }

  TEST_CASE("exporter: shard txn failures count what each report adds to the gate's totals") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    const std::string claim = R"(qfscale_shard_txn_failures_total{operation="claim"})";
    const std::string release = R"(qfscale_shard_txn_failures_total{operation="release"})";
    // At 0 from the start, so that increase() sees the first failure.
    CHECK(value_of(e->render_metrics(), claim) == 0);
    CHECK(value_of(e->render_metrics(), release) == 0);
    Leadership l{.coordinated = true, .member = "ctl-a", .shards = 32, .members = 2};
    l.claim_failures = 2;
    l.release_failures = 1;
    e->on_leadership(l);
    l.claim_failures = 3;  // one more; the release total unchanged
    e->on_leadership(l);
    e->on_leadership(l);  // the same totals again add nothing
    CHECK(value_of(e->render_metrics(), claim) == 3);
    CHECK(value_of(e->render_metrics(), release) == 1);
    // A gate built again (coordination restarted) counts from 0: what it adds still counts.
    l.claim_failures = 0;
    e->on_leadership(l);
    l.claim_failures = 2;
    e->on_leadership(l);
    CHECK(value_of(e->render_metrics(), claim) == 5);
  }

  TEST_CASE("exporter: /metrics output matches the golden file") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    e->on_config({.success = true,
                  .services = {ServiceId{"svc-a"}, ServiceId{"svc-b"}, ServiceId{"svc-c"}},
                  .instances = {InstanceId{"unit-1"}, InstanceId{"unit-2"}}});
    e->on_tick(test::golden_tick());
    const auto result = qfscale::test::check_golden("metrics.txt", e->render_metrics());
    CHECK_MESSAGE(result.ok, result.message);
  }

  TEST_CASE("exporter: concurrent ticks and scrapes lose no increments") {
    util::ManualClock clock;
    const auto e = make_exporter(clock);
    constexpr int kTicks = 200;
    std::thread writer([&] {
      for (int i = 0; i < kTicks; ++i) e->on_tick(test::golden_tick());
    });
    int scrapes = 0;
    for (int i = 0; i < kTicks; ++i) {
      scrapes += e->render_metrics().empty() ? 0 : 1;
      (void)e->last_decisions();
      (void)e->readiness();
    }
    writer.join();
    CHECK(scrapes == kTicks);
    CHECK(value_of(e->render_metrics(), R"(qfscale_reconcile_runs_total{result="success"})") ==
          kTicks);
  }

  TEST_CASE("sink: remote codes map to a closed set of label values") {
    CHECK(api_code_from_remote("") == ApiCode::Ok);
    CHECK(api_code_from_remote("AccessDenied") == ApiCode::AccessDenied);
    CHECK(api_code_from_remote("RequestLimitExceeded") == ApiCode::RequestLimitExceeded);
    CHECK(api_code_from_remote("SomethingNew") == ApiCode::Other);
    CHECK(api_code_from_remote("accessdenied") == ApiCode::Other);  // exact spelling only
    // Our own label values are not remote codes.
    CHECK(api_code_from_remote("ok") == ApiCode::Other);
    CHECK(api_code_from_remote("transport") == ApiCode::Other);
    for (const auto code : kAllApiCodes) {
      CAPTURE(to_string(code));
      CHECK(std::count_if(kAllApiCodes.begin(), kAllApiCodes.end(),
                          [&](ApiCode c) { return to_string(c) == to_string(code); }) == 1);
    }
  }
}

}  // namespace
}  // namespace qfscale::telemetry
