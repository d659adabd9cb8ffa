// Scenario files for `qfscale fake-qianfan` (YAML, or JSON, which yaml-cpp also reads).
//
// Format (every key optional unless marked; unknown keys are errors):
//
//   credentials: {accessKey: AK, secretKey: SK}   # else QIANFAN_ACCESS_KEY/SECRET_KEY or generated
//   startupDelay: 30s          # new replicas become ready this long after ScaleService
//   modelUpdateDuration: 60s   # ModifyService keeps isModelUpdating this long
//   allowedClockSkew: 300s     # how far x-bce-date may run ahead of the fake's clock
//   seed: 1                    # fault decisions and request ids
//   instances:                 # compute-unit instances (算力单元)
//     - id: unit-gpua0001      # required: "unit-" + 8 letters/digits
//       capacity: 16           # required: compute units, >= 1
//       foreignUsage: 2        # units taken outside the fake's services (default 0)
//       region: bj             # default bj
//       type: gpu-1            # default gpu-1
//       status: Running        # default Running
//   services:
//     - id: svco-chatsmall001  # required: "svco-" + 12 lower-case letters/digits
//       name: chat-small       # required: 2..20 characters
//       type: GPU-I-2          # required: units per replica = number after the last dash
//       qps: 5                 # required: > 0, requests/s one replica serves
//       serviceType: chat      # default chat
//       baseModel: ERNIE-Speed-8K
//       modelSetId: am-…       # must start with am-
//       modelId: amv-…         # must start with amv-
//       region: bj
//       url: http://…          # reported url; default http://qianfan.fake/traffic/<id>
//       runStatus: Failed      # pins runStatus (New, Deploying, Serving, Failed, Stopped, Done)
//       deployments:           # replicas at start, ready at once; must fit the instances
//         - {instanceId: unit-gpua0001, replicas: 2}
//   faults:                    # also the body of POST /admin/faults
//     "*":                     # every action without its own entry
//       latency: 50ms
//     ScaleService:
//       errors: {InternalError: 0.1, RequestLimitExceeded: 0.05}   # probabilities, sum <= 1
//       dropRate: 0.02         # close the connection without answering
//       throttleQps: 2         # more requests than this per wall-clock second get 429
//                              # RequestLimitExceeded with Retry-After: 1 (so do injected ones)
//
// Durations use qfscale's one grammar (util/duration.h) with milliseconds: 500ms, 30s, 1m30s.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/util/duration.h"
#include "qfscale/util/file.h"
#include "qfscale/util/redact.h"

#include "fake/detail.h"

namespace qfscale::fake {
namespace {

using util::Diagnostic;
using util::Diagnostics;

/// yaml-cpp's messages may quote input (an undefined anchor's name): bounded like a value,
/// with room for the message itself.
constexpr std::size_t kMessageChars = 120;

struct Position {
  int line = 0;
  int column = 0;
};

std::string join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string index(std::string_view path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return fmt::format("'{}'", util::excerpt(node.Scalar()));
}

/// Reads YAML nodes into values, collecting one diagnostic per problem and remembering where
/// each field path was, so that semantic checks (`validate`) can be located too.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[nodiscard]] static Position position(const YAML::Node& node) {
    if (!node.IsDefined()) return {};
    const auto mark = node.Mark();
    if (mark.is_null()) return {};
    return {mark.line + 1, mark.column + 1};
  }

  void error(const YAML::Node& node, std::string path, std::string message) {
    error_at(position(node), std::move(path), std::move(message));
  }
  void error_at(Position pos, std::string path, std::string message) {
    diagnostics_.push_back(Diagnostic{.file = file_,
                                      .line = pos.line,
                                      .column = pos.column,
                                      .path = std::move(path),
                                      .message = std::move(message)});
  }

  void remember(const std::string& path, const YAML::Node& node) {
    marks_.emplace(path, position(node));
  }

  /// Position of `path` or of its nearest remembered parent.
  [[nodiscard]] Position locate(std::string path) const {
    while (true) {
      if (auto it = marks_.find(path); it != marks_.end()) return it->second;
      const auto cut = path.find_last_of(".[");
      if (cut == std::string::npos || cut == 0) break;
      path.resize(cut);
    }
    if (auto it = marks_.find(""); it != marks_.end()) return it->second;
    return {};
  }

  /// True when `node` is a mapping; reports unknown, duplicate and non-string keys.
  bool expect_map(const YAML::Node& node, const std::string& path,
                  std::initializer_list<std::string_view> allowed) {
    remember(path, node);
    if (!node.IsMap()) {
      error(node, path, fmt::format("must be a mapping, got {}", describe(node)));
      return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        error(kv.first, path, "keys must be plain strings");
        continue;
      }
      const std::string& key = kv.first.Scalar();
      if (!seen.insert(key).second) {
        error(kv.first, join(path, util::excerpt(key)), "duplicate key");
      } else if (allowed.size() != 0 &&
                 std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto name : allowed) {
          if (!list.empty()) list += ", ";
          list += name;
        }
        const auto shown = util::excerpt(key);
        error(kv.first, join(path, shown),
              fmt::format("unknown key '{}'; allowed: {}", shown, list));
      }
    }
    return true;
  }

  /// The value under `key`, reporting a missing required key at the map.
  YAML::Node field(const YAML::Node& map, std::string_view key, const std::string& path,
                   bool required) {
    const YAML::Node& cmap = map;
    YAML::Node child = cmap[std::string(key)];
    if (!child.IsDefined() && required) {
      error(map, join(path, key), fmt::format("missing required key '{}'", key));
    }
    return child;
  }

  std::optional<std::string> string(const YAML::Node& node, const std::string& path) {
    remember(path, node);
    if (!node.IsScalar()) {
      error(node, path, fmt::format("must be a string, got {}", describe(node)));
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& path) {
    remember(path, node);
    // A quoted scalar ("5") has the tag "!": a string, not a number.
    if (!node.IsScalar() || node.Tag() == "!") {
      error(node, path, fmt::format("must be an integer, got {}", describe(node)));
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec == std::errc{} && ptr == end) {
      if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
        error(node, path, fmt::format("{} is out of range", util::excerpt(text)));
        return std::nullopt;
      }
      return value;
    }
    error(node, path, fmt::format("must be a whole number, got '{}'", util::excerpt(text)));
    return std::nullopt;
  }

  std::optional<double> number(const YAML::Node& node, const std::string& path) {
    remember(path, node);
    if (!node.IsScalar() || node.Tag() == "!") {
      error(node, path, fmt::format("must be a number, got {}", describe(node)));
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    double value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || !std::isfinite(value)) {
      error(node, path, fmt::format("must be a number, got '{}'", util::excerpt(text)));
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node,
                                                    const std::string& path) {
    remember(path, node);
    if (!node.IsScalar()) {
      error(node, path,
            fmt::format("must be a duration such as 30s or 500ms, got {}", describe(node)));
      return std::nullopt;
    }
    auto parsed = util::parse_duration(node.Scalar(), util::DurationPrecision::Milliseconds);
    if (!parsed) {
      error(node, path, fmt::format("'{}' {}", util::excerpt(node.Scalar()), parsed.error()));
      return std::nullopt;
    }
    return *parsed;
  }

  void read_faults(const YAML::Node& node, const std::string& path, Faults& out) {
    if (node.IsNull()) {
      remember(path, node);
      return;
    }
    if (!expect_map(node, path, {})) return;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) continue;
      const std::string action = kv.first.Scalar();
      const std::string apath = join(path, action);
      remember(apath, kv.first);
      ActionFaults faults;
      const YAML::Node& value = kv.second;
      if (!expect_map(value, apath, {"latency", "errors", "dropRate", "throttleQps"})) continue;
      if (auto n = field(value, "latency", apath, false); n.IsDefined()) {
        if (auto d = duration(n, join(apath, "latency"))) faults.latency = *d;
      }
      if (auto n = field(value, "errors", apath, false); n.IsDefined()) {
        const std::string epath = join(apath, "errors");
        if (expect_map(n, epath, {})) {
          for (const auto& code : n) {
            if (!code.first.IsScalar()) continue;
            const std::string cpath = join(epath, code.first.Scalar());
            if (auto rate = number(code.second, cpath)) {
              faults.error_rates.emplace_back(code.first.Scalar(), *rate);
            }
          }
        }
      }
      if (auto n = field(value, "dropRate", apath, false); n.IsDefined()) {
        if (auto rate = number(n, join(apath, "dropRate"))) faults.drop_rate = *rate;
      }
      if (auto n = field(value, "throttleQps", apath, false); n.IsDefined()) {
        if (auto qps = integer(n, join(apath, "throttleQps"))) {
          faults.throttle_qps = static_cast<int>(*qps);
        }
      }
      out.actions.emplace_back(action, std::move(faults));
    }
  }

  void read_instance(const YAML::Node& node, const std::string& path, InstanceSpec& out) {
    if (!expect_map(node, path, {"id", "capacity", "foreignUsage", "region", "type", "status"})) {
      return;
    }
    if (auto n = field(node, "id", path, true); n.IsDefined()) {
      if (auto v = string(n, join(path, "id"))) out.id = model::InstanceId{*v};
    }
    if (auto n = field(node, "capacity", path, true); n.IsDefined()) {
      if (auto v = integer(n, join(path, "capacity"))) {
        out.capacity = model::ComputeUnits{static_cast<int>(*v)};
      }
    }
    if (auto n = field(node, "foreignUsage", path, false); n.IsDefined()) {
      if (auto v = integer(n, join(path, "foreignUsage"))) {
        out.foreign_usage = model::ComputeUnits{static_cast<int>(*v)};
      }
    }
    read_string_into(node, "region", path, out.region);
    read_string_into(node, "type", path, out.type);
    read_string_into(node, "status", path, out.status);
  }

  void read_service(const YAML::Node& node, const std::string& path, ServiceSpec& out) {
    if (!expect_map(node, path,
                    {"id", "name", "type", "qps", "serviceType", "baseModel", "modelSetId",
                     "modelId", "region", "url", "runStatus", "deployments"})) {
      return;
    }
    if (auto n = field(node, "id", path, true); n.IsDefined()) {
      if (auto v = string(n, join(path, "id"))) out.id = model::ServiceId{*v};
    }
    if (auto n = field(node, "name", path, true); n.IsDefined()) {
      if (auto v = string(n, join(path, "name"))) out.name = *v;
    }
    if (auto n = field(node, "type", path, true); n.IsDefined()) {
      if (auto v = string(n, join(path, "type"))) out.type = *v;
    }
    if (auto n = field(node, "qps", path, true); n.IsDefined()) {
      if (auto v = number(n, join(path, "qps"))) out.qps = *v;
    }
    read_string_into(node, "serviceType", path, out.service_type);
    read_string_into(node, "baseModel", path, out.base_model);
    read_string_into(node, "modelSetId", path, out.model_set_id);
    read_string_into(node, "modelId", path, out.model_id);
    read_string_into(node, "region", path, out.region);
    read_string_into(node, "url", path, out.url);
    if (auto n = field(node, "runStatus", path, false); n.IsDefined()) {
      const std::string rpath = join(path, "runStatus");
      if (auto v = string(n, rpath)) {
        const auto status = model::parse_run_status(*v);
        if (status == model::RunStatus::Unknown) {
          error(n, rpath,
                fmt::format("unknown runStatus '{}'; allowed: New, Deploying, Serving, Failed, "
                            "Stopped, Done",
                            util::excerpt(*v)));
        } else {
          out.run_status = status;
        }
      }
    }
    if (auto n = field(node, "deployments", path, false); n.IsDefined()) {
      const std::string dpath = join(path, "deployments");
      remember(dpath, n);
      if (!n.IsSequence()) {
        error(n, dpath, fmt::format("must be a list, got {}", describe(n)));
        return;
      }
      for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string ipath = index(dpath, i);
        const YAML::Node item = n[i];
        if (!expect_map(item, ipath, {"instanceId", "replicas"})) continue;
        Deployment d;
        if (auto f = field(item, "instanceId", ipath, true); f.IsDefined()) {
          if (auto v = string(f, join(ipath, "instanceId"))) d.instance = model::InstanceId{*v};
        }
        if (auto f = field(item, "replicas", ipath, true); f.IsDefined()) {
          if (auto v = integer(f, join(ipath, "replicas"))) {
            d.replicas = model::Replicas{static_cast<int>(*v)};
          }
        }
        out.deployments.push_back(std::move(d));
      }
    }
  }

  void read_scenario(const YAML::Node& root, Scenario& out) {
    if (!root.IsDefined() || root.IsNull()) {
      error_at({1, 1}, "", "the scenario is empty; expected a mapping with instances and services");
      return;
    }
    if (!expect_map(root, "",
                    {"credentials", "startupDelay", "modelUpdateDuration", "allowedClockSkew",
                     "seed", "instances", "services", "faults"})) {
      return;
    }
    if (auto n = field(root, "credentials", "", false); n.IsDefined()) {
      if (expect_map(n, "credentials", {"accessKey", "secretKey"})) {
        bce::Credentials credentials;
        if (auto f = field(n, "accessKey", "credentials", true); f.IsDefined()) {
          if (auto v = string(f, "credentials.accessKey")) credentials.access_key = *v;
        }
        if (auto f = field(n, "secretKey", "credentials", true); f.IsDefined()) {
          // Only the position is reported for a bad secret, never the value.
          remember("credentials.secretKey", f);
          if (f.IsScalar()) {
            credentials.secret_key = f.Scalar();
          } else {
            error(f, "credentials.secretKey", "must be a string");
          }
        }
        out.credentials = std::move(credentials);
      }
    }
    if (auto n = field(root, "startupDelay", "", false); n.IsDefined()) {
      if (auto d = duration(n, "startupDelay")) out.startup_delay = *d;
    }
    if (auto n = field(root, "modelUpdateDuration", "", false); n.IsDefined()) {
      if (auto d = duration(n, "modelUpdateDuration")) out.model_update_duration = *d;
    }
    if (auto n = field(root, "allowedClockSkew", "", false); n.IsDefined()) {
      if (auto d = duration(n, "allowedClockSkew")) {
        out.allowed_clock_skew = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    }
    if (auto n = field(root, "seed", "", false); n.IsDefined()) {
      if (auto v = integer(n, "seed")) out.seed = static_cast<std::uint64_t>(*v);
    }
    if (auto n = field(root, "instances", "", false); n.IsDefined()) {
      remember("instances", n);
      if (!n.IsSequence()) {
        error(n, "instances", fmt::format("must be a list, got {}", describe(n)));
      } else {
        for (std::size_t i = 0; i < n.size(); ++i) {
          InstanceSpec instance;
          read_instance(n[i], index("instances", i), instance);
          out.instances.push_back(std::move(instance));
        }
      }
    }
    if (auto n = field(root, "services", "", false); n.IsDefined()) {
      remember("services", n);
      if (!n.IsSequence()) {
        error(n, "services", fmt::format("must be a list, got {}", describe(n)));
      } else {
        for (std::size_t i = 0; i < n.size(); ++i) {
          ServiceSpec service;
          read_service(n[i], index("services", i), service);
          out.services.push_back(std::move(service));
        }
      }
    }
    if (auto n = field(root, "faults", "", false); n.IsDefined()) {
      read_faults(n, "faults", out.faults);
    }
  }

  /// Adds `semantic` diagnostics (from `validate`), located by their paths.
  void add_located(const Diagnostics& semantic) {
    for (const auto& d : semantic) {
      error_at(locate(d.path), d.path, d.message);
    }
  }

  [[nodiscard]] const Diagnostics& diagnostics() const { return diagnostics_; }
  /// The diagnostics in file order (unlocated ones last), for reading top to bottom.
  [[nodiscard]] Diagnostics sorted() const {
    Diagnostics out = diagnostics_;
    std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
      const auto key = [](const Diagnostic& d) {
        return std::pair{d.line == 0 ? std::numeric_limits<int>::max() : d.line, d.column};
      };
      return key(a) < key(b);
    });
    return out;
  }
  [[nodiscard]] const std::string& file() const { return file_; }

 private:
  void read_string_into(const YAML::Node& map, std::string_view key, const std::string& path,
                        std::string& out) {
    if (auto n = field(map, key, path, false); n.IsDefined()) {
      if (auto v = string(n, join(path, key))) out = *v;
    }
  }

  std::string file_;
  Diagnostics diagnostics_;
  std::map<std::string, Position> marks_;
};

/// Parses YAML text; on a syntax error returns the located diagnostic.
tl::expected<YAML::Node, Diagnostics> load_yaml(std::string_view text, const std::string& file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return tl::unexpected(Diagnostics{Diagnostic{
        .file = file,
        .line = e.mark.is_null() ? 0 : e.mark.line + 1,
        .column = e.mark.is_null() ? 0 : e.mark.column + 1,
        .path = "",
        .message = fmt::format("not valid YAML or JSON: {}", util::excerpt(e.msg, kMessageChars)),
    }});
  }
}

bool all_of_chars(std::string_view text, bool upper_allowed) {
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (upper_allowed && c >= 'A' && c <= 'Z');
  });
}

bool valid_service_id(std::string_view id) {
  return id.size() == 17 && id.substr(0, 5) == "svco-" && all_of_chars(id.substr(5), false);
}

bool valid_instance_id(std::string_view id) {
  return id.size() == 13 && id.substr(0, 5) == "unit-" && all_of_chars(id.substr(5), true);
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

void validate_faults(const Faults& faults, std::string_view prefix, Diagnostics& out) {
  const auto add = [&](std::string path, std::string message) {
    out.push_back(Diagnostic{.path = std::move(path), .message = std::move(message)});
  };
  std::set<std::string> seen;
  for (const auto& [action, f] : faults.actions) {
    const std::string path = join(prefix, util::excerpt(action));
    if (action != "*" && !detail::parse_action(action)) {
      std::string list = "*";
      for (const auto a : detail::kAllActions) list += fmt::format(", {}", detail::to_string(a));
      add(path, fmt::format("unknown action '{}'; allowed: {}", util::excerpt(action), list));
    }
    if (!seen.insert(action).second) add(path, "duplicate action");
    if (f.latency.count() < 0 || f.latency > std::chrono::minutes{10}) {
      add(join(path, "latency"), fmt::format("must be between 0 and 10m, got {}",
                                             detail::format_duration_ms(f.latency.count())));
    }
    double sum = 0;
    for (const auto& [code, rate] : f.error_rates) {
      const std::string cpath = join(join(path, "errors"), util::excerpt(code));
      if (detail::find_error_kind(code) == nullptr) {
        add(cpath, fmt::format("unknown error code '{}'; known: {}", util::excerpt(code),
                               detail::known_error_codes()));
      }
      if (!(rate >= 0 && rate <= 1)) {
        add(cpath, fmt::format("error rate must be between 0 and 1, got {}", rate));
      } else {
        sum += rate;
      }
    }
    if (sum > 1 + 1e-9) {
      add(join(path, "errors"), fmt::format("error rates add up to {}; at most 1 is allowed", sum));
    }
    if (!(f.drop_rate >= 0 && f.drop_rate <= 1)) {
      add(join(path, "dropRate"), fmt::format("must be between 0 and 1, got {}", f.drop_rate));
    }
    if (f.throttle_qps && *f.throttle_qps < 0) {
      add(join(path, "throttleQps"),
          fmt::format("must be 0 or more requests per second, got {}", *f.throttle_qps));
    }
  }
}

}  // namespace

const ActionFaults* Faults::find(std::string_view action) const {
  const ActionFaults* wildcard = nullptr;
  for (const auto& [name, faults] : actions) {
    if (name == action) return &faults;
    if (name == "*") wildcard = &faults;
  }
  return wildcard;
}

util::Diagnostics validate(const Scenario& scenario) {
  Diagnostics out;
  const auto add = [&](std::string path, std::string message) {
    out.push_back(Diagnostic{.path = std::move(path), .message = std::move(message)});
  };
  if (scenario.credentials) {
    if (scenario.credentials->access_key.empty()) add("credentials.accessKey", "must not be empty");
    if (scenario.credentials->secret_key.empty()) add("credentials.secretKey", "must not be empty");
  }
  if (scenario.startup_delay.count() < 0) {
    add("startupDelay", fmt::format("must not be negative, got {}",
                                    detail::format_duration_ms(scenario.startup_delay.count())));
  }
  if (scenario.model_update_duration.count() < 0) {
    add("modelUpdateDuration",
        fmt::format("must not be negative, got {}",
                    detail::format_duration_ms(scenario.model_update_duration.count())));
  }
  if (scenario.allowed_clock_skew.count() < 0) {
    add("allowedClockSkew",
        fmt::format("must not be negative, got {}s", scenario.allowed_clock_skew.count()));
  }

  // instance id -> units still free for the services' deployments
  std::map<std::string, int> free_units;
  std::map<std::string, std::string> instance_types;
  for (std::size_t i = 0; i < scenario.instances.size(); ++i) {
    const auto& instance = scenario.instances[i];
    const std::string path = index("instances", i);
    if (!valid_instance_id(instance.id.value)) {
      add(join(path, "id"),
          fmt::format("'{}' is not an instance id: expected 'unit-' and 8 letters or digits, "
                      "e.g. unit-gdqb1Fot",
                      util::excerpt(instance.id.value)));
    } else if (free_units.count(instance.id.value) != 0) {
      add(join(path, "id"), fmt::format("duplicate instance id '{}'", instance.id.value));
      continue;
    }
    if (instance.capacity.value < 1) {
      add(join(path, "capacity"),
          fmt::format("must be at least 1 compute unit, got {}", instance.capacity.value));
    }
    if (instance.foreign_usage.value < 0 ||
        instance.foreign_usage.value > std::max(instance.capacity.value, 0)) {
      add(join(path, "foreignUsage"),
          fmt::format("must be between 0 and the capacity {}, got {}", instance.capacity.value,
                      instance.foreign_usage.value));
    }
    free_units[instance.id.value] = instance.capacity.value - instance.foreign_usage.value;
    instance_types[instance.id.value] = instance.type;
  }

  std::set<std::string> service_ids;
  for (std::size_t i = 0; i < scenario.services.size(); ++i) {
    const auto& service = scenario.services[i];
    const std::string path = index("services", i);
    if (!valid_service_id(service.id.value)) {
      add(join(path, "id"),
          fmt::format("'{}' is not a service id: expected 'svco-' and 12 lower-case letters or "
                      "digits, e.g. svco-ktth9mkb5cqn",
                      util::excerpt(service.id.value)));
    } else if (!service_ids.insert(service.id.value).second) {
      add(join(path, "id"), fmt::format("duplicate service id '{}'", service.id.value));
    }
    const auto name_length = code_points(service.name);
    if (name_length < 2 || name_length > 20) {
      add(join(path, "name"), fmt::format("must be 2 to 20 characters long, got {} ('{}')",
                                          name_length, util::excerpt(service.name)));
    }
    const auto per_replica = model::units_per_replica(service.type);
    if (!per_replica) {
      add(join(path, "type"),
          fmt::format("'{}' does not name compute units per replica: expected a type ending in a "
                      "positive number, e.g. GPU-I-2",
                      util::excerpt(service.type)));
    }
    if (!(service.qps > 0) || !std::isfinite(service.qps)) {
      add(join(path, "qps"),
          fmt::format("must be a positive number of requests per second, got {}", service.qps));
    }
    if (service.service_type.empty()) add(join(path, "serviceType"), "must not be empty");
    if (service.model_set_id.rfind("am-", 0) != 0) {
      add(join(path, "modelSetId"),
          fmt::format("'{}' must start with 'am-'", util::excerpt(service.model_set_id)));
    }
    if (service.model_id.rfind("amv-", 0) != 0) {
      add(join(path, "modelId"),
          fmt::format("'{}' must start with 'amv-'", util::excerpt(service.model_id)));
    }
    if (service.run_status == model::RunStatus::Unknown) {
      add(join(path, "runStatus"), "must be a documented runStatus");
    }
    std::set<std::string> used_instances;
    for (std::size_t j = 0; j < service.deployments.size(); ++j) {
      const auto& deployment = service.deployments[j];
      const std::string dpath = index(join(path, "deployments"), j);
      auto it = free_units.find(deployment.instance.value);
      if (it == free_units.end()) {
        add(join(dpath, "instanceId"),
            fmt::format("unknown instance '{}'; declare it under instances",
                        util::excerpt(deployment.instance.value)));
        continue;
      }
      if (!used_instances.insert(deployment.instance.value).second) {
        add(join(dpath, "instanceId"), fmt::format("instance '{}' is listed twice for this service",
                                                   deployment.instance.value));
        continue;
      }
      if (auto mismatch = detail::kind_mismatch(service.type, instance_types[it->first])) {
        add(join(dpath, "instanceId"),
            fmt::format("instance {} cannot run this service: {}", it->first, *mismatch));
        continue;
      }
      if (deployment.replicas.value < 0) {
        add(join(dpath, "replicas"),
            fmt::format("must be 0 or more, got {}", deployment.replicas.value));
        continue;
      }
      if (!per_replica) continue;
      const std::int64_t need =
          std::int64_t{deployment.replicas.value} * std::int64_t{per_replica->value};
      if (need > it->second) {
        add(join(dpath, "replicas"),
            fmt::format("{} replicas of {} need {} compute units but instance {} has only {} "
                        "left (capacity minus foreign usage and earlier deployments)",
                        deployment.replicas.value, service.type, need, it->first,
                        std::max(it->second, 0)));
        continue;
      }
      it->second -= static_cast<int>(need);
    }
  }
  validate_faults(scenario.faults, "faults", out);
  return out;
}

tl::expected<Scenario, util::Diagnostics> parse_scenario(std::string_view text,
                                                         std::string_view file_name) {
  Reader reader{std::string(file_name)};
  auto root = load_yaml(text, reader.file());
  if (!root) return tl::unexpected(std::move(root.error()));
  Scenario scenario;
  try {
    reader.read_scenario(*root, scenario);
  } catch (const YAML::Exception& e) {
    reader.error_at(
        {e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1}, "",
        fmt::format("cannot read the scenario: {}", util::excerpt(e.msg, kMessageChars)));
  }
  // Semantic checks only make sense once the structure read cleanly.
  if (reader.diagnostics().empty()) reader.add_located(validate(scenario));
  if (!reader.diagnostics().empty()) return tl::unexpected(reader.sorted());
  return scenario;
}

tl::expected<Scenario, util::Diagnostics> load_scenario(const std::string& path) {
  auto text = util::read_file(path);
  if (!text) {
    return tl::unexpected(Diagnostics{Diagnostic{.file = path, .message = text.error().message}});
  }
  return parse_scenario(*text, path);
}

tl::expected<Faults, util::Diagnostics> parse_faults(std::string_view text,
                                                     std::string_view source) {
  Reader reader{std::string(source)};
  auto root = load_yaml(text, reader.file());
  if (!root) return tl::unexpected(std::move(root.error()));
  Faults faults;
  try {
    if (!root->IsDefined() || root->IsNull()) {
      reader.error_at({1, 1}, "", "expected a JSON object of action -> faults, e.g. {\"*\": {}}");
    } else {
      reader.read_faults(*root, "", faults);
    }
  } catch (const YAML::Exception& e) {
    reader.error_at(
        {e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1}, "",
        fmt::format("cannot read the faults: {}", util::excerpt(e.msg, kMessageChars)));
  }
  if (reader.diagnostics().empty()) {
    Diagnostics semantic;
    validate_faults(faults, "", semantic);
    reader.add_located(semantic);
  }
  if (!reader.diagnostics().empty()) return tl::unexpected(reader.sorted());
  return faults;
}

std::string to_json(const Faults& faults) {
  std::string out = "{";
  bool first = true;
  for (const auto& [action, f] : faults.actions) {
    if (!first) out += ',';
    first = false;
    detail::append_json_string(out, action);
    out += fmt::format(":{{\"latency\":\"{}\",\"errors\":{{",
                       detail::format_duration_ms(f.latency.count()));
    bool first_error = true;
    for (const auto& [code, rate] : f.error_rates) {
      if (!first_error) out += ',';
      first_error = false;
      detail::append_json_string(out, code);
      out += ':';
      out += detail::json_number(rate);
    }
    out += fmt::format("}},\"dropRate\":{}", detail::json_number(f.drop_rate));
    if (f.throttle_qps) out += fmt::format(",\"throttleQps\":{}", *f.throttle_qps);
    out += '}';
  }
  out += '}';
  return out;
}

std::optional<int> fault_error_status(std::string_view code) {
  if (const auto* kind = detail::find_error_kind(code)) return kind->status;
  return std::nullopt;
}

bce::Credentials generate_credentials() {
  std::random_device device;
  const auto hex = [&](std::size_t bytes) {
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
      out += fmt::format("{:02x}", device() & 0xFFU);
    }
    return out;
  };
  bce::Credentials credentials;
  credentials.access_key = "fakeak" + hex(13);
  credentials.secret_key = hex(32);
  return credentials;
}

Scenario default_scenario() {
  using model::ComputeUnits;
  using model::InstanceId;
  using model::Replicas;
  using model::ServiceId;
  Scenario s;
  s.startup_delay = std::chrono::seconds{30};
  s.model_update_duration = std::chrono::seconds{60};
  // unit-gpua0001: chat-small 2x2 + chat-large 2x4 = 12 of 16 units.
  // unit-gpub0002: chat-small 1x2 + code-gen 2x2 + image-gen 1x4 + foreign 2 = 12 of 16.
  // unit-cpua0003: embed-cpu 2x2 = 4 of 8.
  s.instances = {
      InstanceSpec{.id = InstanceId{"unit-gpua0001"}, .capacity = ComputeUnits{16}},
      InstanceSpec{.id = InstanceId{"unit-gpub0002"},
                   .capacity = ComputeUnits{16},
                   .foreign_usage = ComputeUnits{2}},
      InstanceSpec{.id = InstanceId{"unit-cpua0003"}, .type = "cpu-1", .capacity = ComputeUnits{8}},
  };
  s.services = {
      ServiceSpec{.id = ServiceId{"svco-chatsmall001"},
                  .name = "chat-small",
                  .type = "GPU-I-2",
                  .qps = 5,
                  .deployments = {{InstanceId{"unit-gpua0001"}, Replicas{2}},
                                  {InstanceId{"unit-gpub0002"}, Replicas{1}}}},
      ServiceSpec{.id = ServiceId{"svco-chatlarge001"},
                  .name = "chat-large",
                  .type = "GPU-I-4",
                  .qps = 3,
                  .base_model = "ERNIE-4.0-8K",
                  .deployments = {{InstanceId{"unit-gpua0001"}, Replicas{2}}}},
      ServiceSpec{.id = ServiceId{"svco-codegen00001"},
                  .name = "code-gen",
                  .type = "GPU-I-2",
                  .qps = 4,
                  .service_type = "completions",
                  .deployments = {{InstanceId{"unit-gpub0002"}, Replicas{2}}}},
      ServiceSpec{.id = ServiceId{"svco-imagegen0001"},
                  .name = "image-gen",
                  .type = "GPU-I-4",
                  .qps = 1,
                  .service_type = "text2image",
                  .base_model = "Stable-Diffusion-XL",
                  .deployments = {{InstanceId{"unit-gpub0002"}, Replicas{1}}}},
      ServiceSpec{.id = ServiceId{"svco-embedcpu0001"},
                  .name = "embed-cpu",
                  .type = "CPU-I-2",
                  .qps = 20,
                  .service_type = "completions",
                  .base_model = "Embedding-V1",
                  .deployments = {{InstanceId{"unit-cpua0003"}, Replicas{2}}}},
  };
  return s;
}

}  // namespace qfscale::fake
