#pragma once

// Private pieces of the controller: the concurrent observe step, the actuator and the small
// helpers they share. Used by the controller's tick stages only (and its tests through it).

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "qfscale/capacity/plan.h"
#include "qfscale/controller/config.h"
#include "qfscale/model/decision.h"
#include "qfscale/model/ids.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/telemetry/sink.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::controller::detail {

/// The `code` label of a call that failed with `error`: the BCE code when the server sent one,
/// `transport` for a Transient failure without one (no reply, or a 5xx with no error body),
/// `bad_reply` for a reply that could not be decoded (Remote without a code), else `other`.
[[nodiscard]] telemetry::ApiCode api_code(const Error& error);

/// What the Describe* calls of one tick returned, in the order they were asked for.
struct Observation {
  std::vector<Result<qianfan::ServiceInfo>> services;       ///< one per requested service
  std::vector<Result<qianfan::ComputeUnitInfo>> instances;  ///< one per requested instance
  std::vector<telemetry::ApiCall> calls;                    ///< services first, then instances
};

/// DescribeService for every service and DescribeComputeUnit for every instance, with at most
/// `concurrency` calls in flight (for_each_concurrently).
/// `meanwhile` runs on the calling thread while the workers call the API (the metric read), so
/// a slow metric source and a slow API overlap instead of adding up.
[[nodiscard]] Observation observe(qianfan::QianfanApi& api, const util::Clock& clock,
                                  std::span<const model::ServiceId> services,
                                  std::span<const model::InstanceId> instances, int concurrency,
                                  const std::function<void()>& meanwhile);

/// What acting on a plan did: `calls[i]` is the outcome of `plan.steps[i]`.
struct Actuation {
  std::vector<model::ScaleCall> calls;
  std::vector<telemetry::ApiCall> api_calls;  ///< one per ScaleService actually sent
  std::vector<telemetry::ApiCode> codes;      ///< codes[i]: how calls[i] ended (Ok if not sent)
};

/// Sends the plan's ScaleService calls, at most `concurrency` in flight: first every down, and
/// only when all of them have returned, the ups (they count on the units the downs free). An up
/// on an instance where a down failed or was refused this tick is not sent (`Skipped`): the
/// units it counted on may still be taken. Nothing is ever sent twice; a failed or refused call
/// is re-planned from a fresh observation next tick. In dry-run nothing is sent (`DryRun`).
/// `calls` and `api_calls` are in the plan's order whatever order the calls completed in.
[[nodiscard]] Actuation act(qianfan::QianfanApi& api, const util::Clock& clock,
                            const capacity::Plan& plan, bool dry_run, int concurrency);

/// The decision's outcome from its calls: `NotNeeded` without calls; otherwise the worst call
/// (Failed, then Refused, then Skipped, then Applied, then DryRun).
[[nodiscard]] model::ActuationOutcome summarise(std::span<const model::ScaleCall> calls);

/// Every problem of a config built in code (the loader already guarantees these for files):
/// unique ids, every service's instances configured, weight >= 1, positive unit overrides.
[[nodiscard]] Status check_config(const Config& config);

}  // namespace qfscale::controller::detail
