#pragma once

/// A service's run status as DescribeService reports it (the reply itself is
/// `qianfan::ServiceInfo`; the controller reads it directly).

#include <string_view>

namespace qfscale::model {

/// `runStatus` of DescribeService. `Unknown` keeps values the documents do not list.
enum class RunStatus { New, Deploying, Serving, Failed, Stopped, Done, Unknown };

[[nodiscard]] std::string_view to_string(RunStatus status);
/// Exact, case-sensitive match of the documented spellings; anything else is Unknown.
[[nodiscard]] RunStatus parse_run_status(std::string_view text);

}  // namespace qfscale::model
