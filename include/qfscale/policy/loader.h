#pragma once

/// Loading of policy files (`policies/*.yaml`, schema in docs/DESIGN.md "Configuration files"):
/// YAML text in, an immutable validated `Policy` or every problem at once out. The order is
/// defaults (`PolicySpec`), then the file's overrides, then `validate()`. Each diagnostic names
/// file:line:column (1-based), the field path, the bad value and what is allowed.
/// The loader does no I/O: the caller reads the file and supplies time zones.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "qfscale/policy/policy.h"
#include "qfscale/util/diagnostic.h"
#include "qfscale/util/zone_source.h"

namespace qfscale::policy {

/// Parses and validates one policy document. `file_name` only labels diagnostics.
/// Thread-safety: reentrant; `zones` is called from the calling thread only.
[[nodiscard]] tl::expected<Policy, util::Diagnostics> load_policy(std::string_view yaml_text,
                                                                  std::string_view file_name,
                                                                  const util::ZoneSource& zones);

/// The effective policy as a complete YAML document (every field, defaults filled in), in the
/// file schema: `load_policy(to_yaml(p.spec()))` gives back an equal spec.
[[nodiscard]] std::string to_yaml(const PolicySpec& spec);

}  // namespace qfscale::policy
