#pragma once

/// What the controller knows about one service at one tick, decoded from DescribeService.

#include <string>
#include <string_view>

#include "qfscale/model/ids.h"
#include "qfscale/model/units.h"

namespace qfscale::model {

/// `runStatus` of DescribeService. `Unknown` keeps values the documents do not list.
enum class RunStatus { New, Deploying, Serving, Failed, Stopped, Done, Unknown };

[[nodiscard]] std::string_view to_string(RunStatus status);
/// Exact, case-sensitive match of the documented spellings; anything else is Unknown.
[[nodiscard]] RunStatus parse_run_status(std::string_view text);

struct ServiceSnapshot {
  ServiceId id;
  std::string name;
  RunStatus run_status = RunStatus::Unknown;
  bool model_updating = false;
  std::string resource_type;  ///< resourceConfig.type, e.g. "GPU-I-2"
  Replicas replicas;          ///< resourceConfig.replicasCount
  double replica_qps = 0;     ///< resourceConfig.qps: QPS one replica is sized for

  friend bool operator==(const ServiceSnapshot&, const ServiceSnapshot&) = default;
};

}  // namespace qfscale::model
