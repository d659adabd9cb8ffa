#include "qfscale/policy/loader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "qfscale/policy/cron.h"
#include "qfscale/policy/duration.h"
#include "qfscale/policy/zone.h"

namespace qfscale::policy {

namespace {

constexpr std::string_view kApiVersion = "qfscale/v1";
constexpr std::string_view kKind = "ScalingPolicy";

struct Pos {
  int line = 0;    ///< 1-based
  int column = 0;  ///< 1-based
};

Pos pos_of(const YAML::Node& node) {
  const auto m = node.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};  // yaml-cpp marks are 0-based
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The closest allowed word, if close enough to be a likely typo.
std::optional<std::string_view> suggest(std::string_view word,
                                        const std::vector<std::string_view>& allowed) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 0;
  const auto w = lower(word);
  for (auto candidate : allowed) {
    const auto d = edit_distance(w, lower(candidate));
    if (!best || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  if (best && best_distance <= std::max<std::size_t>(1, std::min(word.size(), best->size()) / 3)) {
    return best;
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

bool is_quoted(const YAML::Node& node) { return node.Tag() == "!"; }

/// How a node looks in a message: the scalar as written (quoted if it was), or its kind.
std::string show(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return is_quoted(node) ? fmt::format("\"{}\"", node.Scalar()) : node.Scalar();
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

using Fields = std::map<std::string, YAML::Node, std::less<>>;

class Loader {
 public:
  Loader(std::string_view file, const ZoneSource& zones) : file_(file), zones_(zones) {}

  tl::expected<Policy, util::Diagnostics> load(std::string_view text) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
      Pos p;
      if (!e.mark.is_null() && e.mark.line >= 0) p = {e.mark.line + 1, e.mark.column + 1};
      add(p, "", fmt::format("YAML syntax error: {}", e.msg));
      return tl::unexpected(std::move(diagnostics_));
    }
    if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
      add({}, "", "is empty, must be a ScalingPolicy document");
      return tl::unexpected(std::move(diagnostics_));
    }
    if (docs.size() > 1) {
      add(pos_of(docs[1]), "",
          fmt::format("holds {} YAML documents, must hold exactly one policy", docs.size()));
    }
    PolicySpec spec;  // defaults first
    try {
      read_root(docs[0], spec);  // then the file's overrides
    } catch (const std::exception& e) {
      // yaml-cpp should not throw on the accessors used here; never let it escape the module.
      add(pos_of(docs[0]), "", fmt::format("internal error reading the policy: {}", e.what()));
    }
    // Then validation, with each path mapped back to the line of its node.
    for (auto& d : validate(spec)) {
      if (suppressed(d.path)) continue;
      const auto p = position_of(d.path);
      add(p, std::move(d.path), std::move(d.message));
    }
    if (!diagnostics_.empty()) {
      std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const auto& a, const auto& b) {
        return std::pair(a.line, a.column) < std::pair(b.line, b.column);
      });
      return tl::unexpected(std::move(diagnostics_));
    }
    auto policy = Policy::create(std::move(spec));
    if (!policy) {
      add({}, "", policy.error().message);
      return tl::unexpected(std::move(diagnostics_));
    }
    return std::move(*policy);
  }

 private:
  // ---- diagnostics -------------------------------------------------------------------------

  void add(Pos p, std::string path, std::string message) {
    diagnostics_.push_back(util::Diagnostic{.file = file_,
                                            .line = p.line,
                                            .column = p.column,
                                            .path = std::move(path),
                                            .message = std::move(message)});
  }

  /// A problem with the value at `path`; validate() findings for that path are then dropped, so
  /// a value that failed to parse is not also reported as its default.
  void error(const YAML::Node& at, const std::string& path, std::string message) {
    failed_.insert(path);
    auto p = pos_of(at);
    if (at.IsNull()) {
      // yaml-cpp marks an empty value at the next token; its key's position is clearer.
      if (auto it = positions_.find(path); it != positions_.end()) p = it->second;
    }
    add(p, path, std::move(message));
  }

  [[nodiscard]] bool suppressed(const std::string& path) const {
    for (const auto& f : failed_) {
      if (path == f || (path.size() > f.size() && path.compare(0, f.size(), f) == 0 &&
                        (path[f.size()] == '.' || path[f.size()] == '['))) {
        return true;
      }
    }
    return false;
  }

  /// The node recorded for `path`, else its nearest recorded ancestor ("a.b[2].c" -> "a.b[2]"
  /// -> "a.b" -> "a" -> the document).
  [[nodiscard]] Pos position_of(std::string path) const {
    while (true) {
      if (auto it = positions_.find(path); it != positions_.end()) return it->second;
      if (path.empty()) return {};
      const auto cut = path.find_last_of(".[");
      path.resize(cut == std::string::npos ? 0 : cut);
    }
  }

  // ---- structure ---------------------------------------------------------------------------

  /// Checks that `node` is a mapping with only `allowed` keys, each once; records positions.
  std::optional<Fields> mapping(const YAML::Node& node, const std::string& path,
                                const std::vector<std::string_view>& allowed) {
    if (!node.IsMap()) {
      error(node, path,
            fmt::format("{} is not a mapping, must be a mapping with keys {}", show(node),
                        join(allowed)));
      return std::nullopt;
    }
    positions_[path] = pos_of(node);
    Fields fields;
    for (const auto& kv : node) {
      const YAML::Node& key = kv.first;
      if (!key.IsScalar()) {
        error(key, path, fmt::format("has {} as a key, keys must be field names", show(key)));
        continue;
      }
      const std::string& name = key.Scalar();
      const auto field_path = child(path, name);
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string message = "unknown field";
        if (auto s = suggest(name, allowed)) message += fmt::format(", did you mean '{}'?", *s);
        message += fmt::format(" (allowed: {})", join(allowed));
        error(key, field_path, std::move(message));
        continue;
      }
      if (fields.count(name) != 0) {
        error(key, field_path,
              fmt::format("is set twice (first on line {})", positions_[field_path].line));
        continue;
      }
      const auto value_pos = pos_of(kv.second);
      positions_[field_path] = value_pos.line > 0 && !kv.second.IsNull() ? value_pos : pos_of(key);
      fields.emplace(name, kv.second);
    }
    return fields;
  }

  static const YAML::Node* get(const Fields& fields, std::string_view key) {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  }

  void require(const Fields& fields, const YAML::Node& parent, const std::string& path,
               std::string_view key, std::string_view what) {
    if (get(fields, key) == nullptr) {
      error(parent, child(path, key), fmt::format("is required, must be {}", what));
    }
  }

  // ---- scalars -----------------------------------------------------------------------------

  /// A plain (unquoted) scalar that YAML would read as a number; quoted "0.7" is a string.
  std::optional<std::string> numeric_text(const YAML::Node& node, const std::string& path,
                                          std::string_view what) {
    if (!node.IsScalar() || is_quoted(node)) {
      error(node, path, fmt::format("{} is not {}", show(node), what));
      return std::nullopt;
    }
    std::string text = node.Scalar();
    if (!text.empty() && text.front() == '+') text.erase(0, 1);
    return text;
  }

  void read(const YAML::Node& node, const std::string& path, double& out) {
    const auto text = numeric_text(node, path, "a number");
    if (!text) return;
    double v = 0;
    const auto* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, v);
    if (text->empty() || ec != std::errc{} || ptr != end || !std::isfinite(v)) {
      error(node, path, fmt::format("{} is not a number", show(node)));
      return;
    }
    out = v;
  }

  void read(const YAML::Node& node, const std::string& path, int& out) {
    const auto text = numeric_text(node, path, "an integer");
    if (!text) return;
    long long v = 0;
    const auto* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, v);
    if (text->empty() || ec == std::errc::invalid_argument || ptr != end) {
      error(node, path, fmt::format("{} is not an integer", show(node)));
      return;
    }
    if (ec == std::errc::result_out_of_range || v < std::numeric_limits<int>::min() ||
        v > std::numeric_limits<int>::max()) {
      error(node, path, fmt::format("{} is out of range, much too large", show(node)));
      return;
    }
    out = static_cast<int>(v);
  }

  void read(const YAML::Node& node, const std::string& path, model::Replicas& out) {
    read(node, path, out.value);
  }

  void read(const YAML::Node& node, const std::string& path, bool& out) {
    if (node.IsScalar() && !is_quoted(node)) {
      const auto& s = node.Scalar();
      // YAML 1.2 core schema booleans only; "yes"/"on" are YAML 1.1 surprises.
      if (s == "true" || s == "True" || s == "TRUE") {
        out = true;
        return;
      }
      if (s == "false" || s == "False" || s == "FALSE") {
        out = false;
        return;
      }
    }
    error(node, path, fmt::format("{} is not a boolean, must be true or false", show(node)));
  }

  void read(const YAML::Node& node, const std::string& path, std::string& out) {
    if (!node.IsScalar()) {
      error(node, path, fmt::format("{} is not a string", show(node)));
      return;
    }
    out = node.Scalar();
  }

  void read(const YAML::Node& node, const std::string& path, Seconds& out) {
    if (!node.IsScalar()) {
      error(node, path,
            fmt::format("{} is not a duration, must be a duration such as 90s, 5m or 1h30m",
                        show(node)));
      return;
    }
    auto d = parse_duration(node.Scalar());
    if (!d) {
      error(node, path, fmt::format("{} {}", show(node), d.error()));
      return;
    }
    out = *d;
  }

  template <class E>
  void read_enum(const YAML::Node& node, const std::string& path,
                 const std::vector<std::pair<std::string_view, E>>& values, E& out) {
    std::vector<std::string_view> names;
    for (const auto& [name, value] : values) {
      names.push_back(name);
      if (node.IsScalar() && node.Scalar() == name) {
        out = value;
        return;
      }
    }
    std::string message =
        fmt::format("{} is not allowed, must be one of {}", show(node), join(names));
    if (node.IsScalar()) {
      if (auto s = suggest(node.Scalar(), names)) message += fmt::format(" (did you mean {}?)", *s);
    }
    error(node, path, std::move(message));
  }

  /// Reads `key` into `out` when present; leaves the default otherwise.
  template <class T>
  void optional_field(const Fields& fields, const std::string& path, std::string_view key, T& out) {
    if (const auto* node = get(fields, key)) read(*node, child(path, key), out);
  }

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
                           {"target", "replicas", "metricWindow", "panic", "scaleUp", "scaleDown",
                            "scaleToZero", "schedules", "onMetricsFailure"});
    if (!f) return;
    if (const auto* n = get(*f, "target")) {
      if (auto t = mapping(*n, "spec.target", {"utilization", "tolerance"})) {
        optional_field(*t, "spec.target", "utilization", spec.target.utilization);
        optional_field(*t, "spec.target", "tolerance", spec.target.tolerance);
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

  void read_rules(const YAML::Node& node, const std::string& path, ScalingRules& rules) {
    const auto f = mapping(node, path, {"stabilizationWindow", "select", "policies"});
    if (!f) return;
    optional_field(*f, path, "stabilizationWindow", rules.stabilization_window);
    if (const auto* n = get(*f, "select")) {
      read_enum<Select>(
          *n, child(path, "select"),
          {{"Max", Select::Max}, {"Min", Select::Min}, {"Disabled", Select::Disabled}},
          rules.select);
    }
    const auto* list = get(*f, "policies");
    if (list == nullptr) return;
    const auto list_path = child(path, "policies");
    if (!list->IsSequence()) {
      error(*list, list_path,
            fmt::format("{} is not a list, must be a list of policies", show(*list)));
      return;
    }
    rules.policies.clear();  // a given list replaces the default one
    for (std::size_t i = 0; i < list->size(); ++i) {
      const YAML::Node item = (*list)[i];
      const auto item_path = fmt::format("{}[{}]", list_path, i);
      RateLimit limit;
      if (auto p = mapping(item, item_path, {"type", "value", "period"})) {
        require(*p, item, item_path, "type", "Percent or Replicas");
        require(*p, item, item_path, "value", "a positive integer");
        require(*p, item, item_path, "period", "a duration such as 15s");
        if (const auto* t = get(*p, "type")) {
          read_enum<RateLimitType>(
              *t, child(item_path, "type"),
              {{"Percent", RateLimitType::Percent}, {"Replicas", RateLimitType::Replicas}},
              limit.type);
        }
        optional_field(*p, item_path, "value", limit.value);
        optional_field(*p, item_path, "period", limit.period);
      }
      rules.policies.push_back(limit);
    }
  }

  void read_schedules(const YAML::Node& node, std::vector<Schedule>& out) {
    const std::string path = "spec.schedules";
    if (!node.IsSequence()) {
      error(node, path, fmt::format("{} is not a list, must be a list of schedules", show(node)));
      return;
    }
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
        error(node, path, fmt::format("\"{}\": {}", node.Scalar(), message));
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

  std::string file_;
  const ZoneSource& zones_;
  util::Diagnostics diagnostics_;
  std::map<std::string, Pos, std::less<>> positions_;
  std::set<std::string, std::less<>> failed_;
  std::map<std::string, ZoneRules, std::less<>> zone_cache_;
};

std::string_view name_of(Select s) {
  switch (s) {
    case Select::Max:
      return "Max";
    case Select::Min:
      return "Min";
    case Select::Disabled:
      return "Disabled";
  }
  return "Max";
}

std::string rules_yaml(std::string_view key, const ScalingRules& r) {
  std::string out = fmt::format("  {}:\n    stabilizationWindow: {}\n    select: {}\n", key,
                                format_duration(r.stabilization_window), name_of(r.select));
  if (r.policies.empty()) {
    out += "    policies: []\n";
    return out;
  }
  out += "    policies:\n";
  for (const auto& p : r.policies) {
    out += fmt::format("      - {{type: {}, value: {}, period: {}}}\n",
                       p.type == RateLimitType::Percent ? "Percent" : "Replicas", p.value,
                       format_duration(p.period));
  }
  return out;
}

/// Doubles in the shortest form that reads back exactly.
std::string number(double v) { return fmt::format("{}", v); }

/// A string in double quotes, escaped for YAML.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

tl::expected<Policy, util::Diagnostics> load_policy(std::string_view yaml_text,
                                                    std::string_view file_name,
                                                    const ZoneSource& zones) {
  return Loader(file_name, zones).load(yaml_text);
}

std::string to_yaml(const PolicySpec& spec) {
  std::string out = fmt::format("apiVersion: {}\nkind: {}\nmetadata:\n  name: {}\nspec:\n",
                                kApiVersion, kKind, quoted(spec.name));
  out += fmt::format("  target:\n    utilization: {}\n    tolerance: {}\n",
                     number(spec.target.utilization), number(spec.target.tolerance));
  out +=
      fmt::format("  replicas:\n    min: {}\n    max: {}\n", spec.replicas.min, spec.replicas.max);
  out += fmt::format("  metricWindow: {}\n", format_duration(spec.metric_window));
  out += fmt::format("  panic:\n    enabled: {}\n    window: {}\n    threshold: {}\n",
                     spec.panic.enabled, format_duration(spec.panic.window),
                     number(spec.panic.threshold));
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
                         quoted(s.cron.text), format_duration(s.duration), quoted(s.zone.name));
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
