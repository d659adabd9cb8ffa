#include "qfscale/policy/loader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "qfscale/policy/cron.h"
#include "qfscale/policy/duration.h"
#include "qfscale/policy/zone.h"
#include "qfscale/util/json_string.h"
#include "qfscale/util/redact.h"

#include "util/yaml_reader.h"

namespace qfscale::policy {

namespace yaml = util::yaml;

namespace {

constexpr std::string_view kApiVersion = "qfscale/v1";

constexpr std::string_view kKind = "ScalingPolicy";

using yaml::child;
using yaml::Fields;
using yaml::show;

// Names from the Kubernetes HPA (spec and `behavior`) that people paste into a policy, with the
// qfscale name to use instead (policies/README.md has the full table).
const yaml::ForeignNames kHpaSpecNames = {
    {"behavior",
     "did you mean 'scaleUp' and 'scaleDown'? (the HPA's behavior block; here they "
     "sit directly under spec)"},
    {"minReplicas", "did you mean 'replicas'? (the HPA's minReplicas is replicas.min here)"},
    {"maxReplicas", "did you mean 'replicas'? (the HPA's maxReplicas is replicas.max here)"},
};
const yaml::ForeignNames kHpaTargetNames = {
    {"averageUtilization",
     "did you mean 'utilization'? (the HPA's averageUtilization; here a "
     "fraction: 80 is 0.8)"},
};
const yaml::ForeignNames kHpaRulesNames = {
    {"stabilizationWindowSeconds",
     "did you mean 'stabilizationWindow'? (the HPA's "
     "stabilizationWindowSeconds; here a duration such as 300s)"},
    {"selectPolicy", "did you mean 'select'? (the HPA's selectPolicy)"},
};
const yaml::ForeignNames kHpaPolicyNames = {
    {"periodSeconds",
     "did you mean 'period'? (the HPA's periodSeconds; here a duration such as 15s)"},
};
const yaml::ForeignNames kHpaPolicyTypes = {
    {"Pods", "did you mean Replicas? Pods is the HPA's name for it"},
};

class Loader : public yaml::YamlReader {
 public:
  Loader(std::string_view file, const util::ZoneSource& zones)
      : YamlReader(std::string(file)), zones_(zones) {}

  tl::expected<Policy, util::Diagnostics> load(std::string_view text) {
    const auto root = parse(text, "a ScalingPolicy document", "one policy");
    if (!root) return tl::unexpected(take_sorted());
    PolicySpec spec;  // defaults first
    try {
      read_root(*root, spec);  // then the file's overrides
    } catch (const std::exception& e) {
      // yaml-cpp should not throw on the accessors used here; never let it escape the module.
      add(yaml::pos_of(*root), "",
          fmt::format("internal error reading the policy: {}", util::excerpt(e.what(), 120)));
    }
    // Then validation, with each path mapped back to the line of its node.
    for (auto& d : validate(spec)) {
      if (suppressed(d.path)) continue;
      const auto p = position_of(d.path);
      add(p, std::move(d.path), std::move(d.message));
    }
    if (has_diagnostics()) return tl::unexpected(take_sorted());
    auto policy = Policy::create(std::move(spec));
    if (!policy) {
      add({}, "", policy.error().message);
      return tl::unexpected(take_sorted());
    }
    return std::move(*policy);
  }

 private:
  // ---- the schema --------------------------------------------------------------------------

  void read_root(const YAML::Node& root, PolicySpec& spec) {
    const auto fields = mapping(root, "", {"apiVersion", "kind", "metadata", "spec"});
    if (!fields) return;
    require(*fields, root, "", "apiVersion", kApiVersion);
    require(*fields, root, "", "kind", kKind);
    require(*fields, root, "", "metadata", "a mapping with a name");
    require(*fields, root, "", "spec", "a mapping");
    if (const auto* n = get(*fields, "apiVersion")) {
      if (!n->IsScalar() || n->Scalar() != kApiVersion) {
        error(*n, "apiVersion",
              fmt::format("{} is not supported, must be {}", show(*n), kApiVersion));
      }
    }
    if (const auto* n = get(*fields, "kind")) {
      if (!n->IsScalar() || n->Scalar() != kKind) {
        error(*n, "kind", fmt::format("{} is not supported, must be {}", show(*n), kKind));
      }
    }
    if (const auto* n = get(*fields, "metadata")) {
      if (auto meta = mapping(*n, "metadata", {"name"})) {
        require(*meta, *n, "metadata", "name", "the policy's name");
        optional_field(*meta, "metadata", "name", spec.name);
      }
    }
    if (const auto* n = get(*fields, "spec")) read_spec(*n, spec);
  }

  void read_spec(const YAML::Node& node, PolicySpec& spec) {
    const std::string path = "spec";
    const auto f = mapping(node, path,
                           {"target", "replicas", "metricWindow", "panic", "forecast", "scaleUp",
                            "scaleDown", "scaleToZero", "schedules", "onMetricsFailure"},
                           kHpaSpecNames);
    if (!f) return;
    if (const auto* n = get(*f, "target")) {
      if (auto t =
              mapping(*n, "spec.target", {"utilization", "slo", "tolerance"}, kHpaTargetNames)) {
        optional_field(*t, "spec.target", "utilization", spec.target.utilization);
        optional_field(*t, "spec.target", "tolerance", spec.target.tolerance);
        if (const auto* slo = get(*t, "slo")) {
          if (get(*t, "utilization") != nullptr) {
            error(*slo, "spec.target.slo",
                  "is set together with spec.target.utilization, must be one or the other (slo "
                  "sizes replicas for a queueing wait; utilization for a share of their qps)");
          }
          read_slo(*slo, spec.target.slo.emplace());
        }
      }
    }
    if (const auto* n = get(*f, "replicas")) {
      if (auto r = mapping(*n, "spec.replicas", {"min", "max"})) {
        optional_field(*r, "spec.replicas", "min", spec.replicas.min);
        optional_field(*r, "spec.replicas", "max", spec.replicas.max);
      }
    }
    optional_field(*f, path, "metricWindow", spec.metric_window);
    if (const auto* n = get(*f, "panic")) {
      if (auto p = mapping(*n, "spec.panic", {"enabled", "window", "threshold"})) {
        optional_field(*p, "spec.panic", "enabled", spec.panic.enabled);
        optional_field(*p, "spec.panic", "window", spec.panic.window);
        optional_field(*p, "spec.panic", "threshold", spec.panic.threshold);
      }
    }
    if (const auto* n = get(*f, "forecast")) {
      if (auto p = mapping(*n, "spec.forecast", {"enabled", "horizon", "window"})) {
        optional_field(*p, "spec.forecast", "enabled", spec.forecast.enabled);
        optional_field(*p, "spec.forecast", "horizon", spec.forecast.horizon);
        optional_field(*p, "spec.forecast", "window", spec.forecast.window);
      }
    }
    if (const auto* n = get(*f, "scaleUp")) read_rules(*n, "spec.scaleUp", spec.scale_up);
    if (const auto* n = get(*f, "scaleDown")) read_rules(*n, "spec.scaleDown", spec.scale_down);
    if (const auto* n = get(*f, "scaleToZero")) {
      if (auto z = mapping(*n, "spec.scaleToZero", {"enabled", "idleFor", "activationQps"})) {
        optional_field(*z, "spec.scaleToZero", "enabled", spec.scale_to_zero.enabled);
        optional_field(*z, "spec.scaleToZero", "idleFor", spec.scale_to_zero.idle_for);
        optional_field(*z, "spec.scaleToZero", "activationQps", spec.scale_to_zero.activation_qps);
      }
    }
    if (const auto* n = get(*f, "schedules")) read_schedules(*n, spec.schedules);
    if (const auto* n = get(*f, "onMetricsFailure")) read_on_failure(*n, spec.on_metrics_failure);
  }

  void read_slo(const YAML::Node& node, SloTarget& out) {
    const std::string path = "spec.target.slo";
    const auto f = mapping(node, path, {"wait", "attainment", "followLevelShifts"});
    if (!f) return;
    require(*f, node, path, "wait", "a duration such as 5s");
    require(*f, node, path, "attainment", "a percentage such as 99%");
    optional_field(*f, path, "wait", out.wait);
    optional_field(*f, path, "followLevelShifts", out.follow_level_shifts);
    if (const auto* n = get(*f, "attainment"))
      read_percent(*n, child(path, "attainment"), out.attainment);
  }

  /// A percentage written as digits with an optional fraction and a % sign ("99%", "99.9%"),
  /// stored as a fraction (0.99). A bare number is refused: 0.99 and 99 would both look right.
  void read_percent(const YAML::Node& node, const std::string& path, double& out) {
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    const auto digits = std::string_view(text).substr(0, text.empty() ? 0 : text.size() - 1);
    const bool shaped =
        text.size() >= 2 && text.back() == '%' &&
        std::isdigit(static_cast<unsigned char>(digits.front())) != 0 &&
        std::isdigit(static_cast<unsigned char>(digits.back())) != 0 &&
        std::all_of(
            digits.begin(), digits.end(),
            [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.'; }) &&
        std::count(digits.begin(), digits.end(), '.') <= 1;
    double value = 0;
    if (shaped) {
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec == std::errc() && end == digits.data() + digits.size()) {
        out = value / 100;
        return;
      }
    }
    error(node, path, fmt::format("{} is not a percentage, must be like 99% or 99.9%", show(node)));
  }

  void read_rules(const YAML::Node& node, const std::string& path, ScalingRules& rules) {
    const auto f = mapping(node, path, {"stabilizationWindow", "select", "policies", "tolerance"},
                           kHpaRulesNames);
    if (!f) return;
    optional_field(*f, path, "stabilizationWindow", rules.stabilization_window);
    if (const auto* n = get(*f, "tolerance")) {
      double tolerance = 0;
      const auto before = failure_count();
      read(*n, child(path, "tolerance"), tolerance);
      if (failure_count() == before) rules.tolerance = tolerance;
    }
    if (const auto* n = get(*f, "select")) {
      read_enum<Select>(
          *n, child(path, "select"),
          {{"Max", Select::Max}, {"Min", Select::Min}, {"Disabled", Select::Disabled}},
          rules.select);
    }
    const auto* list = get(*f, "policies");
    if (list == nullptr) return;
    const auto list_path = child(path, "policies");
    if (!is_list(*list, list_path, "policies")) return;
    rules.policies.clear();  // a given list replaces the default one
    for (std::size_t i = 0; i < list->size(); ++i) {
      const YAML::Node item = (*list)[i];
      const auto item_path = fmt::format("{}[{}]", list_path, i);
      RateLimit limit;
      if (auto p = mapping(item, item_path, {"type", "value", "period"}, kHpaPolicyNames)) {
        require(*p, item, item_path, "type", "Percent or Replicas");
        require(*p, item, item_path, "value", "a positive integer");
        require(*p, item, item_path, "period", "a duration such as 15s");
        if (const auto* t = get(*p, "type")) {
          read_enum<RateLimitType>(
              *t, child(item_path, "type"),
              {{"Percent", RateLimitType::Percent}, {"Replicas", RateLimitType::Replicas}},
              limit.type, kHpaPolicyTypes);
        }
        optional_field(*p, item_path, "value", limit.value);
        optional_field(*p, item_path, "period", limit.period);
      }
      rules.policies.push_back(limit);
    }
  }

  void read_schedules(const YAML::Node& node, std::vector<Schedule>& out) {
    const std::string path = "spec.schedules";
    if (!is_list(node, path, "schedules")) return;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const auto item_path = fmt::format("{}[{}]", path, i);
      Schedule s;
      s.zone = utc_zone();
      // An unparsed cron matches nothing; only reported by validate() if the field parsed.
      if (auto f = mapping(item, item_path,
                           {"cron", "duration", "timezone", "minReplicas", "maxReplicas"})) {
        require(*f, item, item_path, "cron", "a 5-field cron expression such as \"0 9 * * 1-5\"");
        if (const auto* c = get(*f, "cron")) read_cron(*c, child(item_path, "cron"), s.cron);
        optional_field(*f, item_path, "duration", s.duration);
        if (const auto* z = get(*f, "timezone"))
          read_zone(*z, child(item_path, "timezone"), s.zone);
        if (const auto* n = get(*f, "minReplicas")) {
          model::Replicas r;
          const auto before = failed_.size();
          read(*n, child(item_path, "minReplicas"), r);
          if (failed_.size() == before) s.min_replicas = r;
        }
        if (const auto* n = get(*f, "maxReplicas")) {
          model::Replicas r;
          const auto before = failed_.size();
          read(*n, child(item_path, "maxReplicas"), r);
          if (failed_.size() == before) s.max_replicas = r;
        }
        if (!s.min_replicas && !s.max_replicas &&
            (get(*f, "minReplicas") != nullptr || get(*f, "maxReplicas") != nullptr)) {
          failed_.insert(item_path);  // already reported; don't add "sets neither"
        }
      } else {
        failed_.insert(item_path);
      }
      out.push_back(std::move(s));
    }
  }

  void read_cron(const YAML::Node& node, const std::string& path, CronSpec& out) {
    if (!node.IsScalar()) {
      error(node, path, fmt::format("{} is not a cron expression", show(node)));
      return;
    }
    auto cron = parse_cron(node.Scalar());
    if (!cron) {
      for (auto& message : cron.error()) {
        error(node, path, fmt::format("\"{}\": {}", util::excerpt(node.Scalar()), message));
      }
      return;
    }
    out = std::move(*cron);
  }

  void read_zone(const YAML::Node& node, const std::string& path, ZoneRules& out) {
    std::string name;
    const auto before = failed_.size();
    read(node, path, name);
    if (failed_.size() != before) return;
    if (name == "UTC") {
      out = utc_zone();
      return;
    }
    if (auto it = zone_cache_.find(name); it != zone_cache_.end()) {
      out = it->second;
      return;
    }
    std::optional<std::string> bytes;
    if (name.empty() || !zones_) {
      bytes = std::nullopt;
    } else {
      bytes = zones_(name);
    }
    if (!bytes) {
      error(node, path,
            fmt::format("'{}' is not a known time zone, must be a tz database name such as "
                        "Asia/Shanghai or UTC",
                        name));
      return;
    }
    auto rules = parse_tzif(name, *bytes);
    if (!rules) {
      error(node, path, rules.error().message);
      return;
    }
    zone_cache_.emplace(name, *rules);
    out = std::move(*rules);
  }

  void read_on_failure(const YAML::Node& node, OnMetricsFailure& out) {
    const std::string path = "spec.onMetricsFailure";
    const auto f = mapping(node, path, {"after", "action", "fallbackReplicas"});
    if (!f) return;
    optional_field(*f, path, "after", out.after);
    const auto before = failed_.size();
    if (const auto* n = get(*f, "action")) {
      read_enum<MetricsFailureAction>(
          *n, child(path, "action"),
          {{"Hold", MetricsFailureAction::Hold}, {"Fallback", MetricsFailureAction::Fallback}},
          out.action);
    }
    const bool action_ok = failed_.size() == before;
    optional_field(*f, path, "fallbackReplicas", out.fallback_replicas);
    if (const auto* n = get(*f, "fallbackReplicas");
        n != nullptr && action_ok && out.action == MetricsFailureAction::Hold) {
      error(*n, child(path, "fallbackReplicas"),
            "is only used with action: Fallback, must be removed or action set to Fallback");
    }
  }

  const util::ZoneSource& zones_;
  std::map<std::string, ZoneRules, std::less<>> zone_cache_;
};

/// Doubles in the shortest form that reads back exactly.
std::string number(double v) { return fmt::format("{}", v); }

/// A fraction as the shortest percentage that the loader reads back to exactly it: 0.995 is
/// "99.5%", although 0.995 x 100 is 99.49999999999999 in doubles.
std::string percent(double fraction) {
  // Fixed notation, fewest decimals that read back the same: 90%, 99.9% (never 9e+01%).
  for (int decimals = 0; decimals < 17; ++decimals) {
    auto text = fmt::format("{:.{}f}", fraction * 100, decimals);
    if (std::stod(text) / 100 == fraction) return text + "%";
  }
  return fmt::format("{}%", fraction * 100);
}

std::string rules_yaml(std::string_view key, const ScalingRules& r) {
  std::string out = fmt::format("  {}:\n    stabilizationWindow: {}\n    select: {}\n", key,
                                format_duration(r.stabilization_window), to_string(r.select));
  if (r.tolerance) out += fmt::format("    tolerance: {}\n", number(*r.tolerance));
  if (r.policies.empty()) {
    out += "    policies: []\n";
    return out;
  }
  out += "    policies:\n";
  for (const auto& p : r.policies) {
    out += fmt::format("      - {{type: {}, value: {}, period: {}}}\n", to_string(p.type), p.value,
                       format_duration(p.period));
  }
  return out;
}

}  // namespace

tl::expected<Policy, util::Diagnostics> load_policy(std::string_view yaml_text,
                                                    std::string_view file_name,
                                                    const util::ZoneSource& zones) {
  return Loader(file_name, zones).load(yaml_text);
}

std::string to_yaml(const PolicySpec& spec) {
  std::string out = fmt::format("apiVersion: {}\nkind: {}\nmetadata:\n  name: {}\nspec:\n",
                                kApiVersion, kKind, util::json_string(spec.name));
  if (const auto& slo = spec.target.slo) {
    out += fmt::format(
        "  target:\n    slo:\n      wait: {}\n      attainment: {}\n      followLevelShifts: {}\n",
        format_duration(slo->wait), percent(slo->attainment), slo->follow_level_shifts);
  } else {
    out += fmt::format("  target:\n    utilization: {}\n", number(spec.target.utilization));
  }
  out += fmt::format("    tolerance: {}\n", number(spec.target.tolerance));
  out +=
      fmt::format("  replicas:\n    min: {}\n    max: {}\n", spec.replicas.min, spec.replicas.max);
  out += fmt::format("  metricWindow: {}\n", format_duration(spec.metric_window));
  out += fmt::format("  panic:\n    enabled: {}\n    window: {}\n    threshold: {}\n",
                     spec.panic.enabled, format_duration(spec.panic.window),
                     number(spec.panic.threshold));
  out += fmt::format("  forecast:\n    enabled: {}\n    horizon: {}\n    window: {}\n",
                     spec.forecast.enabled, format_duration(spec.forecast.horizon),
                     format_duration(spec.forecast.window));
  out += rules_yaml("scaleUp", spec.scale_up);
  out += rules_yaml("scaleDown", spec.scale_down);
  out += fmt::format("  scaleToZero:\n    enabled: {}\n    idleFor: {}\n    activationQps: {}\n",
                     spec.scale_to_zero.enabled, format_duration(spec.scale_to_zero.idle_for),
                     number(spec.scale_to_zero.activation_qps));
  if (spec.schedules.empty()) {
    out += "  schedules: []\n";
  } else {
    out += "  schedules:\n";
    for (const auto& s : spec.schedules) {
      out += fmt::format("    - cron: {}\n      duration: {}\n      timezone: {}\n",
                         util::json_string(s.cron.text), format_duration(s.duration),
                         util::json_string(s.zone.name));
      if (s.min_replicas) out += fmt::format("      minReplicas: {}\n", *s.min_replicas);
      if (s.max_replicas) out += fmt::format("      maxReplicas: {}\n", *s.max_replicas);
    }
  }
  const auto& f = spec.on_metrics_failure;
  out += fmt::format("  onMetricsFailure:\n    after: {}\n    action: {}\n", f.after,
                     f.action == MetricsFailureAction::Hold ? "Hold" : "Fallback");
  if (f.action == MetricsFailureAction::Fallback) {
    out += fmt::format("    fallbackReplicas: {}\n", f.fallback_replicas);
  }
  return out;
}

}  // namespace qfscale::policy
