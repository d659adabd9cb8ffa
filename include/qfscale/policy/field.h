#pragma once

/// One numeric field of a policy, named by its YAML path, set to a value: what `qfscale simulate
/// --sweep` and `qfscale tune` vary. The value is written into the policy's YAML and the
/// document is loaded again by `load_policy`, so every rule a policy file obeys applies to the
/// swept value too (a utilization of 1.05 is refused exactly as in a file).
///
/// ## Paths
///
/// The path under `spec`, as the file spells it, with or without the `spec.` prefix:
/// `target.utilization`, `replicas.max`, `scaleUp.policies[1].value`, `schedules[0].minReplicas`.
/// Numeric fields are numbers (`target.utilization`, `panic.threshold`, …), whole numbers
/// (`replicas.min`, `onMetricsFailure.after`, …) and durations in seconds (`metricWindow`,
/// `scaleDown.stabilizationWindow`, …: the value 300 is written `300s`) and percentages
/// (`target.slo.attainment`: the value 99.5 is written `99.5%`). A field the policy
/// leaves unset (`scaleUp.tolerance`) is added; a list item it does not have
/// (`schedules[2]` of a policy with one schedule) is an error.
///
/// ## Worked example
///
/// `with_field(balanced.spec(), "target.utilization", 0.55, zones)` writes `utilization: 0.55`
/// into balanced's effective YAML (`to_yaml`) and loads it: a Policy equal to balanced but for
/// target.utilization. With 1.05 it returns the loader's diagnostic
/// `spec.target.utilization: 1.05 is out of range, must be in (0, 1]`; with 2.5 for
/// `replicas.min`, "2.5 is not a whole number" (the loader's wording).

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "qfscale/policy/loader.h"
#include "qfscale/policy/policy.h"
#include "qfscale/util/diagnostic.h"

namespace qfscale::policy {

/// How a value is written: 0.55, 300s (seconds), 99% (a percentage, given as 99).
enum class FieldKind { Number, Duration, Percent };

/// A numeric field path, checked against the schema: `path` without the `spec.` prefix
/// ("scaleUp.policies[1].value"), and how its value is written.
struct NumericField {
  std::string path;
  FieldKind kind = FieldKind::Number;
  friend bool operator==(const NumericField&, const NumericField&) = default;
};

/// Every numeric field's path pattern, list items as `[i]` ("scaleUp.policies[i].value"), in
/// file order: for help texts and "did you mean".
[[nodiscard]] const std::vector<std::string_view>& numeric_field_patterns();

/// Checks the spelling of `path` against the schema. The error is a sentence fragment:
/// "'target.utilisation' is not a numeric policy field; did you mean target.utilization?", or
/// for a known non-numeric field "'panic.enabled' is not a numeric policy field (numeric
/// fields: target.utilization, …)".
[[nodiscard]] tl::expected<NumericField, std::string> numeric_field(std::string_view path);

/// `spec` with `field` set to `value`, loaded again from YAML (see the header). The diagnostics
/// are the loader's, labelled with the policy's name; a missing list item is one diagnostic
/// with that path. Thread-safety: reentrant; `zones` is called from the calling thread only.
[[nodiscard]] tl::expected<Policy, util::Diagnostics> with_field(const PolicySpec& spec,
                                                                 const NumericField& field,
                                                                 double value,
                                                                 const util::ZoneSource& zones);

/// How `value` is written in YAML for `field`: "0.55", "3", "300s" (shortest round-trip form).
[[nodiscard]] std::string field_value_text(const NumericField& field, double value);

}  // namespace qfscale::policy
