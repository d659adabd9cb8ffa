#pragma once

/// Identifiers of the Qianfan domain: services (`svco-…`), compute-unit instances (`unit-…`).

#include "qfscale/util/strong_types.h"

namespace qfscale::model {

using ServiceId = util::Id<struct ServiceIdTag>;
using InstanceId = util::Id<struct InstanceIdTag>;

}  // namespace qfscale::model
