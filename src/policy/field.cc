#include "qfscale/policy/field.h"

#include <charconv>
#include <exception>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "qfscale/util/suggest.h"

namespace qfscale::policy {
namespace {

struct Pattern {
  std::string_view path;
  FieldKind kind;
};

// The numeric leaves of the schema (loader.cc, read_spec), in file order.
constexpr Pattern kPatterns[] = {
    {"target.utilization", FieldKind::Number},
    {"target.tolerance", FieldKind::Number},
    {"target.slo.wait", FieldKind::Duration},
    {"target.slo.attainment", FieldKind::Percent},
    {"replicas.min", FieldKind::Number},
    {"replicas.max", FieldKind::Number},
    {"metricWindow", FieldKind::Duration},
    {"panic.window", FieldKind::Duration},
    {"panic.threshold", FieldKind::Number},
    {"forecast.horizon", FieldKind::Duration},
    {"forecast.window", FieldKind::Duration},
    {"scaleUp.stabilizationWindow", FieldKind::Duration},
    {"scaleUp.tolerance", FieldKind::Number},
    {"scaleUp.policies[i].value", FieldKind::Number},
    {"scaleUp.policies[i].period", FieldKind::Duration},
    {"scaleDown.stabilizationWindow", FieldKind::Duration},
    {"scaleDown.tolerance", FieldKind::Number},
    {"scaleDown.policies[i].value", FieldKind::Number},
    {"scaleDown.policies[i].period", FieldKind::Duration},
    {"scaleToZero.idleFor", FieldKind::Duration},
    {"scaleToZero.activationQps", FieldKind::Number},
    {"schedules[i].duration", FieldKind::Duration},
    {"schedules[i].minReplicas", FieldKind::Number},
    {"schedules[i].maxReplicas", FieldKind::Number},
    {"onMetricsFailure.after", FieldKind::Number},
    {"onMetricsFailure.fallbackReplicas", FieldKind::Number},
};

/// One step of a path: a mapping key, or a list index.
struct Step {
  std::string key;
  std::optional<std::size_t> index;
};

/// "scaleUp.policies[1].value" -> scaleUp, policies, [1], value; nullopt when malformed.
std::optional<std::vector<Step>> split(std::string_view path) {
  if (path.empty()) return std::nullopt;
  std::vector<Step> steps;
  std::size_t i = 0;
  while (i < path.size()) {
    const auto end = path.find_first_of(".[", i);
    const auto key = path.substr(i, end == std::string_view::npos ? path.npos : end - i);
    if (key.empty()) return std::nullopt;
    steps.push_back({std::string(key), std::nullopt});
    if (end == std::string_view::npos) return steps;
    i = end;
    while (i < path.size() && path[i] == '[') {
      const auto close = path.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      std::size_t index = 0;
      const auto digits = path.substr(i + 1, close - i - 1);
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size()) {
        return std::nullopt;
      }
      steps.push_back({"", index});
      i = close + 1;
    }
    if (i == path.size()) return steps;
    if (path[i] != '.') return std::nullopt;
    ++i;
    if (i == path.size()) return std::nullopt;
  }
  return steps;
}

/// The path with every list index written `[i]`: the form kPatterns uses.
std::string pattern_of(const std::vector<Step>& steps) {
  std::string out;
  for (const auto& s : steps) {
    if (s.index) {
      out += "[i]";
      continue;
    }
    if (!out.empty()) out += '.';
    out += s.key;
  }
  return out;
}

std::string_view strip_spec(std::string_view path) {
  return path.starts_with("spec.") ? path.substr(5) : path;
}

util::Diagnostics one(std::string label, std::string path, std::string message) {
  return {util::Diagnostic{
      .file = std::move(label), .path = std::move(path), .message = std::move(message)}};
}

}  // namespace

const std::vector<std::string_view>& numeric_field_patterns() {
  static const std::vector<std::string_view> patterns = [] {
    std::vector<std::string_view> out;
    for (const auto& p : kPatterns) out.push_back(p.path);
    return out;
  }();
  return patterns;
}

tl::expected<NumericField, std::string> numeric_field(std::string_view path) {
  const auto bare = strip_spec(path);
  const auto steps = split(bare);
  if (!steps) {
    return tl::unexpected(
        fmt::format("'{}' is not a field path, must be like target.utilization or "
                    "scaleUp.policies[0].value",
                    path));
  }
  const auto pattern = pattern_of(*steps);
  for (const auto& p : kPatterns) {
    if (p.path == pattern) return NumericField{.path = std::string(bare), .kind = p.kind};
  }
  auto message = fmt::format("'{}' is not a numeric policy field", path);
  if (auto guess = util::closest_match(pattern, numeric_field_patterns())) {
    message += fmt::format("; did you mean {}?", *guess);
  } else {
    message += fmt::format(" (numeric fields: {})", fmt::join(numeric_field_patterns(), ", "));
  }
  return tl::unexpected(std::move(message));
}

std::string field_value_text(const NumericField& field, double value) {
  switch (field.kind) {
    case FieldKind::Duration:
      return fmt::format("{}s", value);
    case FieldKind::Percent:
      return fmt::format("{}%", value);
    case FieldKind::Number:
      break;
  }
  return fmt::format("{}", value);
}

tl::expected<Policy, util::Diagnostics> with_field(const PolicySpec& spec,
                                                   const NumericField& field, double value,
                                                   const util::ZoneSource& zones) {
  const auto label =
      fmt::format("{} with {}={}", spec.name, field.path, field_value_text(field, value));
  const auto full_path = "spec." + field.path;
  const auto steps = split(field.path);
  if (!steps) return tl::unexpected(one(label, full_path, "is not a field path"));
  std::string text;
  try {
    YAML::Node root = YAML::Load(to_yaml(spec));
    // Nodes are handles: reassigning `node` rebinds it and leaves the tree alone.
    YAML::Node node = root["spec"];
    std::string walked = "spec";
    for (std::size_t i = 0; i + 1 < steps->size(); ++i) {
      const auto& s = (*steps)[i];
      if (s.index) {
        if (!node.IsSequence() || *s.index >= node.size()) {
          return tl::unexpected(one(label, fmt::format("{}[{}]", walked, *s.index),
                                    fmt::format("the policy has no such item (the list has {})",
                                                node.IsSequence() ? node.size() : 0)));
        }
        node.reset(node[*s.index]);
        walked += fmt::format("[{}]", *s.index);
      } else {
        node.reset(node[s.key]);
        walked += "." + s.key;
      }
    }
    node[steps->back().key] = field_value_text(field, value);
    text = YAML::Dump(root);
  } catch (const std::exception& e) {
    return tl::unexpected(one(label, full_path, fmt::format("cannot be set: {}", e.what())));
  }
  return load_policy(text, label, zones);
}

}  // namespace qfscale::policy
