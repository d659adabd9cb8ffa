#include "qfscale/controller/api_attempts.h"

#include <optional>
#include <string_view>

#include "controller/controller_detail.h"

namespace qfscale::controller {
namespace {

std::optional<telemetry::ApiAction> api_action(std::string_view action) {
  for (const auto known : telemetry::kAllApiActions) {
    if (telemetry::to_string(known) == action) return known;
  }
  return std::nullopt;
}

}  // namespace

qianfan::AttemptObserver count_api_attempts(telemetry::Exporter& exporter) {
  return [&exporter](const qianfan::Attempt& attempt) {
    const auto action = api_action(attempt.action);
    if (!action) return;
    exporter.on_api_attempt(*action, attempt.error == nullptr ? telemetry::ApiCode::Ok
                                                              : detail::api_code(*attempt.error));
  };
}

}  // namespace qfscale::controller
