#include "qfscale/controller/api_attempts.h"

#include "controller/controller_detail.h"

namespace qfscale::controller {
namespace {

/// Only the actions whose series the exporter keeps (DescribeServices is the CLI's).
bool counted(telemetry::ApiAction action) {
  for (const auto known : telemetry::kAllApiActions) {
    if (known == action) return true;
  }
  return false;
}

}  // namespace

qianfan::AttemptObserver count_api_attempts(telemetry::Exporter& exporter) {
  return [&exporter](const qianfan::Attempt& attempt) {
    if (!counted(attempt.action)) return;
    exporter.on_api_attempt(attempt.action, attempt.error == nullptr
                                                ? telemetry::ApiCode::Ok
                                                : detail::api_code(*attempt.error));
  };
}

}  // namespace qfscale::controller
