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
// Read with the YAML reader shared with policies and the controller config
// (src/util/yaml_reader.h). Durations use qfscale's one grammar (util/duration.h), with
// milliseconds (500ms, 30s, 1m30s) except allowedClockSkew, which is whole seconds.

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/util/duration.h"
#include "qfscale/util/file.h"
#include "qfscale/util/redact.h"

#include "fake/detail.h"
#include "util/yaml_reader.h"

namespace qfscale::fake {
namespace {

using util::Diagnostic;
using util::Diagnostics;
using util::yaml::child;
using util::yaml::Fields;
using util::yaml::show;

/// yaml-cpp's messages may quote input (an undefined anchor's name): bounded like a value,
/// with room for the message itself.
constexpr std::size_t kMessageChars = 120;

std::string join(std::string_view path, std::string_view key) {
  return child(std::string(path), key);
}

std::string index(std::string_view path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

const std::vector<std::pair<std::string_view, model::RunStatus>>& run_statuses() {
  static const std::vector<std::pair<std::string_view, model::RunStatus>> kStatuses = [] {
    std::vector<std::pair<std::string_view, model::RunStatus>> out;
    for (const std::string_view name :
         {"New", "Deploying", "Serving", "Failed", "Stopped", "Done"}) {
      out.emplace_back(name, model::parse_run_status(name));
    }
    return out;
  }();
  return kStatuses;
}

/// Reads a scenario (or the faults of POST /admin/faults) with the shared YAML reader, so that
/// its messages, positions and duration grammar are those of policies and the controller config.
class ScenarioReader : public util::yaml::YamlReader {
 public:
  using YamlReader::YamlReader;

  /// Each list item is read by `read_item(node, path)`; a non-list is reported.
  template <class ReadItem>
  void read_list(const YAML::Node& node, const std::string& path, std::string_view what,
                 ReadItem read_item) {
    if (!is_list(node, path, what)) return;
    for (std::size_t i = 0; i < node.size(); ++i) read_item(node[i], index(path, i));
  }

  void read_faults(const YAML::Node& node, const std::string& path, Faults& out) {
    if (node.IsNull()) return;
    const auto actions = entries(node, path, "action names");
    if (!actions) return;
    for (const auto& [action, value] : *actions) {
      const std::string apath = join(path, util::excerpt(action));
      const auto f = mapping(value, apath, {"latency", "errors", "dropRate", "throttleQps"});
      if (!f) continue;
      ActionFaults faults;
      optional_field(*f, apath, "latency", faults.latency);
      if (const auto* n = get(*f, "errors")) {
        const std::string epath = join(apath, "errors");
        if (const auto codes = entries(*n, epath, "error codes")) {
          for (const auto& [code, rate] : *codes) {
            double r = 0;
            const auto failures = failure_count();
            read(rate, join(epath, util::excerpt(code)), r);
            if (failure_count() == failures) faults.error_rates.emplace_back(code, r);
          }
        }
      }
      optional_field(*f, apath, "dropRate", faults.drop_rate);
      if (const auto* n = get(*f, "throttleQps")) {
        int qps = 0;
        const auto failures = failure_count();
        read(*n, join(apath, "throttleQps"), qps);
        if (failure_count() == failures) faults.throttle_qps = qps;
      }
      out.actions.emplace_back(action, std::move(faults));
    }
  }

  void read_instance(const YAML::Node& node, const std::string& path, InstanceSpec& out) {
    const auto f =
        mapping(node, path, {"id", "capacity", "foreignUsage", "region", "type", "status"});
    if (!f) return;
    require(*f, node, path, "id", "an instance id such as unit-gpua0001");
    require(*f, node, path, "capacity", "a number of compute units");
    optional_field(*f, path, "id", out.id.value);
    optional_field(*f, path, "capacity", out.capacity);
    optional_field(*f, path, "foreignUsage", out.foreign_usage);
    optional_field(*f, path, "region", out.region);
    optional_field(*f, path, "type", out.type);
    optional_field(*f, path, "status", out.status);
  }

  void read_deployment(const YAML::Node& node, const std::string& path, Deployment& out) {
    const auto f = mapping(node, path, {"instanceId", "replicas"});
    if (!f) return;
    require(*f, node, path, "instanceId", "an instance id declared under instances");
    require(*f, node, path, "replicas", "a number of replicas");
    optional_field(*f, path, "instanceId", out.instance.value);
    optional_field(*f, path, "replicas", out.replicas);
  }

  void read_service(const YAML::Node& node, const std::string& path, ServiceSpec& out) {
    const auto f = mapping(node, path,
                           {"id", "name", "type", "qps", "serviceType", "baseModel", "modelSetId",
                            "modelId", "region", "url", "runStatus", "deployments"});
    if (!f) return;
    require(*f, node, path, "id", "a service id such as svco-chatsmall001");
    require(*f, node, path, "name", "the service's name");
    require(*f, node, path, "type", "a service type such as GPU-I-2");
    require(*f, node, path, "qps", "the requests per second one replica serves");
    optional_field(*f, path, "id", out.id.value);
    optional_field(*f, path, "name", out.name);
    optional_field(*f, path, "type", out.type);
    optional_field(*f, path, "qps", out.qps);
    optional_field(*f, path, "serviceType", out.service_type);
    optional_field(*f, path, "baseModel", out.base_model);
    optional_field(*f, path, "modelSetId", out.model_set_id);
    optional_field(*f, path, "modelId", out.model_id);
    optional_field(*f, path, "region", out.region);
    optional_field(*f, path, "url", out.url);
    if (const auto* n = get(*f, "runStatus")) {
      auto status = model::RunStatus::Unknown;
      read_enum(*n, join(path, "runStatus"), run_statuses(), status);
      if (status != model::RunStatus::Unknown) out.run_status = status;
    }
    if (const auto* n = get(*f, "deployments")) {
      read_list(*n, join(path, "deployments"), "{instanceId, replicas}",
                [&](const YAML::Node& item, const std::string& ipath) {
                  read_deployment(item, ipath, out.deployments.emplace_back());
                });
    }
  }

  void read_scenario(const YAML::Node& root, Scenario& out) {
    const auto f = mapping(root, "",
                           {"credentials", "startupDelay", "modelUpdateDuration",
                            "allowedClockSkew", "seed", "instances", "services", "faults"});
    if (!f) return;
    if (const auto* n = get(*f, "credentials")) {
      if (const auto c = mapping(*n, "credentials", {"accessKey", "secretKey"})) {
        require(*c, *n, "credentials", "accessKey", "the access key");
        require(*c, *n, "credentials", "secretKey", "the secret key");
        bce::Credentials credentials;
        // A bad secret is shown as its kind (a list, a mapping), never as its value.
        optional_field(*c, "credentials", "accessKey", credentials.access_key);
        optional_field(*c, "credentials", "secretKey", credentials.secret_key);
        out.credentials = std::move(credentials);
      }
    }
    optional_field(*f, "", "startupDelay", out.startup_delay);
    optional_field(*f, "", "modelUpdateDuration", out.model_update_duration);
    optional_field(*f, "", "allowedClockSkew", out.allowed_clock_skew);
    if (const auto* n = get(*f, "seed")) {
      int seed = 0;
      const auto failures = failure_count();
      read(*n, "seed", seed);
      if (failure_count() == failures) out.seed = static_cast<std::uint64_t>(seed);
    }
    if (const auto* n = get(*f, "instances")) {
      read_list(*n, "instances", "{id, capacity}",
                [&](const YAML::Node& item, const std::string& path) {
                  read_instance(item, path, out.instances.emplace_back());
                });
    }
    if (const auto* n = get(*f, "services")) {
      read_list(*n, "services", "{id, name, type, qps}",
                [&](const YAML::Node& item, const std::string& path) {
                  read_service(item, path, out.services.emplace_back());
                });
    }
    if (const auto* n = get(*f, "faults")) read_faults(*n, "faults", out.faults);
  }

  /// Reports `semantic` diagnostics (from `validate`) at their paths' positions.
  void report_all(const Diagnostics& semantic) {
    for (const auto& d : semantic) report(d.path, d.message);
  }

  /// yaml-cpp throws while reading a node (a bad anchor, say): reported, never thrown on.
  void report_exception(const YAML::Exception& e, std::string_view what) {
    util::yaml::Pos p;
    if (!e.mark.is_null() && e.mark.line >= 0) p = {e.mark.line + 1, e.mark.column + 1};
    add(p, "", fmt::format("cannot read the {}: {}", what, util::excerpt(e.msg, kMessageChars)));
  }
};

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
    if (action != "*" && !model::parse_qianfan_action(action)) {
      std::string list = "*";
      for (const auto a : model::kAllQianfanActions)
        list += fmt::format(", {}", model::to_string(a));
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
  ScenarioReader reader{std::string(file_name)};
  Scenario scenario;
  if (const auto root =
          reader.parse(text, "a mapping with instances and services", "one scenario")) {
    try {
      reader.read_scenario(*root, scenario);
    } catch (const YAML::Exception& e) {
      reader.report_exception(e, "scenario");
    }
  }
  // Semantic checks only make sense once the structure read cleanly.
  if (!reader.has_diagnostics()) reader.report_all(validate(scenario));
  if (reader.has_diagnostics()) return tl::unexpected(reader.take_sorted());
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
  ScenarioReader reader{std::string(source)};
  Faults faults;
  if (const auto root = reader.parse(text, "a JSON object of action -> faults, e.g. {\"*\": {}}",
                                     "one faults object")) {
    try {
      reader.read_faults(*root, "", faults);
    } catch (const YAML::Exception& e) {
      reader.report_exception(e, "faults");
    }
  }
  if (!reader.has_diagnostics()) {
    Diagnostics semantic;
    validate_faults(faults, "", semantic);
    reader.report_all(semantic);
  }
  if (reader.has_diagnostics()) return tl::unexpected(reader.take_sorted());
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
