#pragma once

// Private helpers shared by the fake's sources: the action catalogue, the error-code table and a
// small JSON text writer (the fake writes its replies by hand; simdjson only parses).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/util/json_string.h"
#include "qfscale/util/json_writer.h"

namespace qfscale::fake::detail {

inline constexpr std::string_view kServiceRoute = "/v2/service";
inline constexpr std::string_view kComputeUnitRoute = "/v2/computeunit";

enum class Action {
  DescribeService,
  DescribeServices,
  ScaleService,
  ModifyService,
  DescribeServiceMetric,
  DescribeComputeUnit,
};

inline constexpr std::array kAllActions = {
    Action::DescribeService, Action::DescribeServices,      Action::ScaleService,
    Action::ModifyService,   Action::DescribeServiceMetric, Action::DescribeComputeUnit,
};

[[nodiscard]] std::string_view to_string(Action action);
/// The route family an action is served on ("/v2/service" or "/v2/computeunit").
[[nodiscard]] std::string_view route_of(Action action);
[[nodiscard]] std::optional<Action> parse_action(std::string_view text);

/// One BCE error code with its HTTP status and default message.
struct ErrorKind {
  std::string_view code;
  int status;
  std::string_view message;
};

/// Every code the fake can return (protocol checks, resource checks, injected faults).
[[nodiscard]] const ErrorKind* find_error_kind(std::string_view code);
/// The resource kind a type names: "GPU" for a type starting with gpu, "CPU" for one starting
/// with cpu, in any case (service types GPU-I-2, CPU-I-2; instance types gpu-1, cpu-1); empty for
/// any other type, which is not checked. A service runs only on an instance of its own kind.
[[nodiscard]] std::optional<std::string_view> resource_kind(std::string_view type);
/// Why a service of `service_type` may not run on an instance of `instance_type`; empty when it
/// may ("GPU-I-2 is a GPU type but instance type cpu-1 is CPU").
[[nodiscard]] std::optional<std::string> kind_mismatch(std::string_view service_type,
                                                       std::string_view instance_type);
/// "InternalError, RequestLimitExceeded, ..." for messages.
[[nodiscard]] std::string known_error_codes();

using util::append_json_string;
[[nodiscard]] std::string json_string(std::string_view text);
/// Shortest round-tripping text; null for NaN and infinities (util/json_writer.h).
using util::json_number;

/// "200ms", "30s", "1500ms": the form the scenario accepts back.
[[nodiscard]] std::string format_duration_ms(std::int64_t milliseconds);

}  // namespace qfscale::fake::detail
