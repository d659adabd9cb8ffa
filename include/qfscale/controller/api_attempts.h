#pragma once

/// Glue between the Qianfan client and the exporter: every HTTP attempt of a call, retries
/// included, counted in `qfscale_api_attempts_total{action, outcome}`. `outcome` is the attempt's
/// code as `qfscale_api_requests_total` labels a call's (`ok`, `RequestLimitExceeded`,
/// `transport`, ...), so attempts minus requests are the retries, and throttled attempts show
/// even when the retry then succeeds.

#include "qfscale/qianfan/api.h"
#include "qfscale/telemetry/exporter.h"

namespace qfscale::controller {

/// An observer for `qianfan::ClientConfig::on_attempt`. `exporter` must outlive the client.
/// Actions the exporter has no label for (DescribeServices, which the controller never calls)
/// are not counted.
[[nodiscard]] qianfan::AttemptObserver count_api_attempts(telemetry::Exporter& exporter);

}  // namespace qfscale::controller
