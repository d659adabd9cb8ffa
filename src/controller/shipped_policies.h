#pragma once

// Private: the shipped policies (policies/*.yaml), compiled into the binary. The table is
// generated at build time by cmake/embed_policies.cmake into the build directory.

#include <span>
#include <string_view>

namespace qfscale::controller::detail {

struct ShippedPolicy {
  std::string_view name;  ///< the file name without .yaml, e.g. "balanced"
  std::string_view text;  ///< the file's content
};

/// Sorted by name. Defined in the generated shipped_policies.cc.
[[nodiscard]] std::span<const ShippedPolicy> shipped_policy_table();

}  // namespace qfscale::controller::detail
