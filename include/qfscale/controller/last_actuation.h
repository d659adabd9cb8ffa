#pragma once

/// The last ScaleService a controller sent for a service: what (instance and replicas), when,
/// and under which fencing token. Kept in etcd beside the engine state (etcd_state_store.h,
/// key `<prefix>/actuation/<id>`), so that an operator or a new owner can see what the previous
/// owner last did, and so that a handover can be audited (the token says which term sent it).
///
/// The value is one JSON object: `{"instanceId": "unit-1", "replicas": 5, "at": <Unix ms>,
/// "fencingToken": 42}`, every key always present, nothing else.

#include <cstdint>
#include <string>
#include <string_view>

#include "qfscale/model/ids.h"
#include "qfscale/util/clock.h"
#include "qfscale/util/result.h"

namespace qfscale::controller {

struct LastActuation {
  model::InstanceId instance;
  int replicas = 0;
  util::SystemTime at;  ///< floored to milliseconds
  std::int64_t fencing_token = 0;
  friend bool operator==(const LastActuation&, const LastActuation&) = default;
};

[[nodiscard]] std::string encode_actuation(const LastActuation& actuation);
/// InvalidInput naming the key at fault for anything `encode_actuation` could not have written.
[[nodiscard]] Result<LastActuation> decode_actuation(std::string_view text);

}  // namespace qfscale::controller
