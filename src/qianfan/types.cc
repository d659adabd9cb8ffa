#include "qfscale/qianfan/types.h"

namespace qfscale::qianfan {

model::ComputeUnits ComputeUnitInfo::used() const {
  model::ComputeUnits total;
  for (const auto& u : usage) total += u.compute_unit_count;
  return total;
}

model::ComputeUnits ComputeUnitInfo::free() const { return instance.compute_unit_count - used(); }

std::int64_t ServiceMetric::call_total() const {
  std::int64_t total = 0;
  for (const auto& app : apps) total += app.metric.call_total;
  return total;
}

}  // namespace qfscale::qianfan
