#pragma once

// Private helpers shared by the fake's sources: the routes of the actions, the error-code table and
// a small JSON text writer (the fake writes its replies by hand; simdjson only parses).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/fake/cloud.h"
#include "qfscale/model/qianfan_action.h"
#include "qfscale/util/json_string.h"
#include "qfscale/util/json_writer.h"

namespace qfscale::fake::detail {

inline constexpr std::string_view kServiceRoute = "/v2/service";
inline constexpr std::string_view kComputeUnitRoute = "/v2/computeunit";

using Action = model::QianfanAction;
using model::kAllQianfanActions;
using model::to_string;
/// The route family an action is served on ("/v2/service" or "/v2/computeunit").
[[nodiscard]] std::string_view route_of(Action action);

/// One BCE error code with its HTTP status and default message.
struct ErrorKind {
  std::string_view code;
  int status;
  std::string_view message;
};

/// Every code the fake can return (protocol checks, resource checks, injected faults).
[[nodiscard]] const ErrorKind* find_error_kind(std::string_view code);
using fake::kind_mismatch;
using fake::resource_kind;
/// "InternalError, RequestLimitExceeded, ..." for messages.
[[nodiscard]] std::string known_error_codes();

using util::append_json_string;
[[nodiscard]] std::string json_string(std::string_view text);
/// Shortest round-tripping text; null for NaN and infinities (util/json_writer.h).
using util::json_number;

/// "200ms", "30s", "1500ms": the form the scenario accepts back.
[[nodiscard]] std::string format_duration_ms(std::int64_t milliseconds);

}  // namespace qfscale::fake::detail
