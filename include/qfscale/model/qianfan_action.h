#pragma once

/// The Qianfan console actions qfscale knows, one enum for the client's telemetry, the fake and
/// the tests (`to_string` gives the spelling of `?Action=`).

#include <array>
#include <optional>
#include <string_view>

namespace qfscale::model {

enum class QianfanAction {
  DescribeService,
  DescribeServices,
  ScaleService,
  ModifyService,
  DescribeServiceMetric,
  DescribeComputeUnit,
};

inline constexpr std::array kAllQianfanActions = {
    QianfanAction::DescribeService,       QianfanAction::DescribeServices,
    QianfanAction::ScaleService,          QianfanAction::ModifyService,
    QianfanAction::DescribeServiceMetric, QianfanAction::DescribeComputeUnit,
};

/// The action name exactly as in `?Action=`, e.g. "DescribeService".
[[nodiscard]] std::string_view to_string(QianfanAction action);
/// The action `?Action=` names (case-sensitive, as the console is); empty for any other text.
[[nodiscard]] std::optional<QianfanAction> parse_qianfan_action(std::string_view text);

}  // namespace qfscale::model
