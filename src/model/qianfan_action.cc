#include "qfscale/model/qianfan_action.h"

namespace qfscale::model {

std::string_view to_string(QianfanAction action) {
  switch (action) {
    case QianfanAction::DescribeService:
      return "DescribeService";
    case QianfanAction::DescribeServices:
      return "DescribeServices";
    case QianfanAction::ScaleService:
      return "ScaleService";
    case QianfanAction::ModifyService:
      return "ModifyService";
    case QianfanAction::DescribeServiceMetric:
      return "DescribeServiceMetric";
    case QianfanAction::DescribeComputeUnit:
      return "DescribeComputeUnit";
  }
  return "Unknown";
}

std::optional<QianfanAction> parse_qianfan_action(std::string_view text) {
  for (const auto action : kAllQianfanActions) {
    if (to_string(action) == text) return action;
  }
  return std::nullopt;
}

}  // namespace qfscale::model
