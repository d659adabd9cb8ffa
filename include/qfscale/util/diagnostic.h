#pragma once

/// A located problem in a user's file (config, policy, scenario, trace). Loaders return every
/// diagnostic at once, worded as key, value and what is allowed.

#include <string>
#include <vector>

#include <fmt/format.h>

namespace qfscale::util {

struct Diagnostic {
  std::string file;
  int line = 0;      ///< 1-based; 0 when unknown
  int column = 0;    ///< 1-based; 0 when unknown
  std::string path;  ///< field path, e.g. "spec.scaleUp.policies[1].value"
  std::string message;

  /// "file:line:col: path: message", the form editors and CI annotate.
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

using Diagnostics = std::vector<Diagnostic>;

/// Joins diagnostics one per line.
[[nodiscard]] std::string to_string(const Diagnostics& diagnostics);

}  // namespace qfscale::util

template <>
struct fmt::formatter<qfscale::util::Diagnostic> : fmt::formatter<std::string_view> {
  auto format(const qfscale::util::Diagnostic& d, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(d.to_string(), ctx);
  }
};
