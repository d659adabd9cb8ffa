#pragma once

// Deterministic tick reports for the telemetry tests and goldens. The numbers are chosen so every
// expected value can be worked out by hand (see the comments in exporter_test.cc).

#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "qfscale/model/decision.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/clock.h"

namespace qfscale::telemetry::test {

using model::ActuationOutcome;
using model::InstanceId;
using model::Reason;
using model::Replicas;
using model::ServiceId;
using model::Stage;

/// 2023-11-14T22:13:20Z, ManualClock's default start.
inline const util::SystemTime kT0{std::chrono::seconds{1'700'000'000}};

inline model::Step step(Stage stage, int output, bool changed, Reason reason, std::string detail) {
  return {.stage = stage,
          .output = Replicas{output},
          .changed = changed,
          .reason = reason,
          .detail = std::move(detail)};
}

/// svc-a: 30 qps on 2 replicas of 10 qps; engine wants 5, rate limit allows 4; applied 2 -> 4.
inline ServiceReport service_a(util::SystemTime at = kT0) {
  model::Decision d;
  d.service = ServiceId{"svc-a"};
  d.at = at;
  d.qps = 30.0;
  d.replica_qps = 10.0;
  d.current = Replicas{2};
  d.steps = {
      step(Stage::MetricWindow, 2, false, Reason::None, "avg qps 30 over 60s"),
      step(Stage::RawDesired, 5, true, Reason::ScaleUp, "ceil(30 / (10 x 0.7)) = 5"),
      step(Stage::RateLimit, 4, true, Reason::RateLimited, "max +2 per 15s"),
      step(Stage::Clamp, 4, false, Reason::None, "within [1, 20]"),
  };
  d.recommended = Replicas{4};
  d.reason = Reason::RateLimited;
  d.granted = Replicas{4};
  d.calls = {{.instance = InstanceId{"unit-1"},
              .from = Replicas{2},
              .to = Replicas{4},
              .outcome = ActuationOutcome::Applied,
              .request_id = "req-1"}};
  d.outcome = ActuationOutcome::Applied;
  return {.decision = d, .panic_active = false};
}

/// svc-b: no QPS sample; held at 3.
inline ServiceReport service_b(util::SystemTime at = kT0) {
  model::Decision d;
  d.service = ServiceId{"svc-b"};
  d.at = at;
  d.replica_qps = 5.0;
  d.current = Replicas{3};
  d.steps = {step(Stage::MetricWindow, 3, false, Reason::MetricsMissing, "no sample: hold")};
  d.recommended = Replicas{3};
  d.reason = Reason::MetricsMissing;
  d.granted = Replicas{3};
  d.outcome = ActuationOutcome::Skipped;
  d.errors = {
      "service svc-b: no QPS from the metric source: no sample in the reply; the "
      "policy's onMetricsFailure applies"};
  return {.decision = d, .panic_active = false};
}

/// svc-c: a burst; panic wants 12 of 10 qps replicas, the instance has room for 8 (dry run).
inline ServiceReport service_c(util::SystemTime at = kT0) {
  model::Decision d;
  d.service = ServiceId{"svc-c"};
  d.at = at;
  d.qps = 100.0;
  d.replica_qps = 10.0;
  d.current = Replicas{4};
  d.steps = {
      step(Stage::RawDesired, 10, true, Reason::ScaleUp, "ceil(100 / 10) = 10"),
      step(Stage::Panic, 12, true, Reason::PanicEntered,
           "panic: 10 / 4 = 2.5 ≥ 2.0 \"burst\"\tentered"),
      step(Stage::Clamp, 12, false, Reason::None, ""),
  };
  d.recommended = Replicas{12};
  d.reason = Reason::CappedCapacity;
  d.granted = Replicas{8};
  d.unmet = Replicas{4};
  d.calls = {{.instance = InstanceId{"unit-2"},
              .from = Replicas{4},
              .to = Replicas{8},
              .outcome = ActuationOutcome::DryRun}};
  d.outcome = ActuationOutcome::DryRun;
  return {.decision = d, .panic_active = true};
}

/// The fixed tick behind tests/data/golden/metrics.txt and decisions.json.
inline TickReport golden_tick() {
  using std::chrono::duration;
  TickReport r;
  r.finished_at = kT0;
  r.duration = duration<double>{0.042};
  r.success = true;
  r.services = {service_a(), service_b(), service_c()};
  r.instances = {
      {.instance = InstanceId{"unit-1"},
       .capacity = model::ComputeUnits{16},
       .allocated = model::ComputeUnits{8},
       .free = model::ComputeUnits{8}},
      {.instance = InstanceId{"unit-2"},
       .capacity = model::ComputeUnits{16},
       .allocated = model::ComputeUnits{16},
       .free = model::ComputeUnits{0}},
  };
  r.api_calls = {
      {.action = ApiAction::DescribeService,
       .code = ApiCode::Ok,
       .latency = duration<double>{0.02}},
      {.action = ApiAction::DescribeService,
       .code = ApiCode::Ok,
       .latency = duration<double>{0.02}},
      {.action = ApiAction::DescribeService,
       .code = ApiCode::RequestLimitExceeded,
       .latency = duration<double>{0.3}},
      {.action = ApiAction::ScaleService, .code = ApiCode::Ok, .latency = duration<double>{0.15}},
  };
  r.metric_errors = {MetricSourceErrorKind::Missing};
  r.errors = {{.stage = TickStage::Metrics,
               .code = TickErrorCode::Missing,
               .message = r.services[1].decision.errors[0]}};
  return r;
}

/// The value of the sample line `series value` in a text exposition, e.g.
/// `value_of(text, "qfscale_service_current_replicas{service=\"svc-a\"}")`.
inline std::optional<double> value_of(std::string_view text, std::string_view series) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line.size() > series.size() && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      std::istringstream in{std::string(line.substr(series.size() + 1))};
      in.imbue(std::locale::classic());
      double v = 0;
      if (in >> v) return v;
      return std::nullopt;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace qfscale::telemetry::test
