#include "qfscale/controller/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qfscale/http/ca_bundle.h"
#include "qfscale/policy/duration.h"
#include "qfscale/qianfan/api.h"
#include "qfscale/util/file.h"
#include "qfscale/util/redact.h"

#include "controller/config_reader.h"

namespace qfscale::controller {
namespace detail {

namespace {

constexpr std::string_view kApiVersion = "qfscale/v1";
constexpr std::string_view kKind = "ControllerConfig";

using util::yaml::child;
using util::yaml::pos_of;
using util::yaml::show;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    const auto dot = s.find('.');
    const auto part = s.substr(0, dot);
    unsigned v = 0;
    if (!all_digits(part) || part.size() > 3) return false;
    std::from_chars(part.data(), part.data() + part.size(), v);
    if (v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool is_bracketed_ipv6(std::string_view s) {
  if (s.size() < 4 || s.front() != '[' || s.back() != ']') return false;
  const auto inner = s.substr(1, s.size() - 2);
  return inner.find(':') != std::string_view::npos &&
         std::all_of(inner.begin(), inner.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.';
         });
}

/// What is wrong with a listen address, in the forms the HTTP server accepts.
std::optional<std::string> listen_problem(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return "has no port, must be host:port such as 127.0.0.1:9464";
  }
  const auto host = listen.substr(0, colon);
  const auto port = listen.substr(colon + 1);
  unsigned v = 0;
  if (!all_digits(port) || port.size() > 5 ||
      (std::from_chars(port.data(), port.data() + port.size(), v), v > 65535)) {
    return "has a bad port, must be host:port with a port in [0, 65535]";
  }
  if (host != "localhost" && !is_ipv4(host) && !is_bracketed_ipv6(host)) {
    return "has a bad host, must be an IP address (IPv6 in brackets, [::1]) or localhost";
  }
  return std::nullopt;
}

std::string format_bytes(std::uint64_t bytes) {
  constexpr std::pair<std::string_view, unsigned> kUnits[] = {{"Gi", 30}, {"Mi", 20}, {"Ki", 10}};
  for (const auto& [suffix, shift] : kUnits) {
    if (bytes != 0 && bytes % (1ULL << shift) == 0)
      return fmt::format("{}{}", bytes >> shift, suffix);
  }
  return std::to_string(bytes);
}

}  // namespace

ConfigReader::ConfigReader(const std::string& file_name, const FileReader& read,
                           const util::ZoneSource& zones, const OutputPathCheck& check_output)
    : YamlReader(file_name),
      file_name_(file_name),
      dir_(std::filesystem::path(file_name).parent_path()),
      read_file_(read),
      zones_(zones),
      check_output_(check_output) {
  config_.file = file_name;
}

std::string ConfigReader::resolve(const std::string& p) const {
  std::filesystem::path path(p);
  if (path.is_relative()) path = dir_ / path;
  std::error_code ec;
  auto absolute = std::filesystem::absolute(path, ec);
  if (!ec) path = std::move(absolute);
  return path.lexically_normal().string();
}

tl::expected<Config, util::Diagnostics> ConfigReader::load(std::string_view text) {
  const auto root = parse(text, "a ControllerConfig document", "one config");
  if (!root) return tl::unexpected(take_sorted());
  std::vector<std::optional<policy::Policy>> policies;
  try {
    read_root(*root);  // defaults are the struct's; the file overrides; checks as we go
    check_metrics();
    policies = load_policies();
  } catch (const std::exception& e) {
    // yaml-cpp should not throw on the accessors used here; never let it escape the module.
    add(pos_of(*root), "",
        fmt::format("internal error reading the config: {}", util::excerpt(e.what(), 120)));
  }
  if (has_diagnostics() || !policy_diagnostics_.empty()) {
    auto all = take_sorted();
    all.insert(all.end(), policy_diagnostics_.begin(), policy_diagnostics_.end());
    return tl::unexpected(std::move(all));
  }
  for (std::size_t i = 0; i < services_.size(); ++i) {
    auto& s = services_[i];
    config_.services.push_back(ServiceConfig{.id = std::move(s.id),
                                             .policy_ref = std::move(s.policy_ref),
                                             .policy_file = std::move(s.policy_file),
                                             .policy = *policies.at(i),
                                             .instances = std::move(s.instances),
                                             .priority = s.priority,
                                             .weight = s.weight,
                                             .units_per_replica = s.units_per_replica});
  }
  return std::move(config_);
}

void ConfigReader::read_root(const YAML::Node& root) {
  const auto f = mapping(root, "",
                         {"apiVersion", "kind", "qianfan", "metrics", "instances", "services",
                          "loop", "coordination"});
  if (!f) return;
  require(*f, root, "", "apiVersion", kApiVersion);
  require(*f, root, "", "kind", kKind);
  require(*f, root, "", "metrics", "a mapping with one metric source");
  require(*f, root, "", "instances", "a list of compute-unit instances");
  require(*f, root, "", "services", "a list of services");
  if (const auto* n = get(*f, "apiVersion"); n && (!n->IsScalar() || n->Scalar() != kApiVersion)) {
    error(*n, "apiVersion", fmt::format("{} is not supported, must be {}", show(*n), kApiVersion));
  }
  if (const auto* n = get(*f, "kind"); n && (!n->IsScalar() || n->Scalar() != kKind)) {
    error(*n, "kind", fmt::format("{} is not supported, must be {}", show(*n), kKind));
  }
  // Metrics before services: a service's `query`/`trace` is checked against the source kind.
  if (const auto* n = get(*f, "qianfan")) read_qianfan(*n);
  if (const auto* n = get(*f, "metrics")) read_metrics(*n);
  if (const auto* n = get(*f, "instances")) read_instances(*n);
  if (const auto* n = get(*f, "services")) read_services(*n);
  if (const auto* n = get(*f, "loop")) read_loop(*n);
  if (const auto* n = get(*f, "coordination")) read_coordination(*n);
}

void ConfigReader::read_qianfan(const YAML::Node& node) {
  const std::string path = "qianfan";
  const auto f = mapping(node, path,
                         {"baseUrl", "credentialsFile", "timeout", "maxAttempts", "maxRetryAfter",
                          "concurrency", "caFile"});
  if (!f) return;
  auto& q = config_.qianfan;
  if (const auto* n = get(*f, "baseUrl")) {
    const auto p = child(path, "baseUrl");
    std::string url;
    const auto before = failure_count();
    read(*n, p, url);
    if (failure_count() == before) {
      if (url.empty()) {
        error(*n, p, "is empty, must be an http(s) URL such as https://qianfan.baidubce.com");
      } else if (auto resolved = qianfan::resolve_base_url(url); !resolved) {
        error(*n, p, resolved.error().message);
      } else {
        q.base_url = *resolved;
      }
    }
  }
  if (const auto* n = get(*f, "credentialsFile")) {
    read_path(*n, child(path, "credentialsFile"), q.credentials_file);
  }
  auto timeout = std::chrono::duration_cast<std::chrono::seconds>(q.timeout);
  read_seconds(*f, path, "timeout", kMinQianfanTimeout, kMaxQianfanTimeout, timeout);
  q.timeout = timeout;
  read_int(*f, path, "maxAttempts", 1, kMaxAttempts, q.max_attempts);
  auto max_retry_after = std::chrono::duration_cast<std::chrono::seconds>(q.max_retry_after);
  read_seconds(*f, path, "maxRetryAfter", std::chrono::seconds{0}, kMaxRetryAfter, max_retry_after);
  q.max_retry_after = max_retry_after;
  read_int(*f, path, "concurrency", 1, kMaxConcurrency, q.concurrency);
  if (const auto* n = get(*f, "caFile")) read_ca_file(*n, child(path, "caFile"), q.ca_file);
}

void ConfigReader::read_instances(const YAML::Node& node) {
  const std::string path = "instances";
  if (!is_list(node, path, "{id, capacity}")) return;
  if (node.size() == 0) {
    error(node, path, "is empty, must list at least one compute-unit instance");
    return;
  }
  std::map<std::string, std::string> seen;  // id -> where first listed
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const auto item_path = fmt::format("{}[{}]", path, i);
    const auto f = mapping(item, item_path, {"id", "capacity"});
    if (!f) continue;
    require(*f, item, item_path, "id", "a compute-unit instance id such as unit-gdqb1Fot");
    InstanceConfig instance;
    if (get(*f, "capacity") != nullptr) {
      int capacity = 0;
      read_int(*f, item_path, "capacity", 1, kMaxInstanceCapacity, capacity);
      if (!suppressed(child(item_path, "capacity"))) {
        instance.capacity = model::ComputeUnits{capacity};
      }
    }
    const auto* n = get(*f, "id");
    if (n == nullptr) continue;
    const auto id_path = child(item_path, "id");
    const auto before = failure_count();
    read(*n, id_path, instance.id.value);
    if (failure_count() != before) continue;
    if (instance.id.empty()) {
      error(*n, id_path, "is empty, must be a compute-unit instance id such as unit-gdqb1Fot");
      continue;
    }
    if (auto [it, inserted] = seen.emplace(instance.id.value, item_path); !inserted) {
      error(*n, id_path,
            fmt::format("'{}' is listed twice (first as {}), instance ids must be unique",
                        instance.id, it->second));
      continue;
    }
    config_.instances.push_back(std::move(instance));
  }
}

void ConfigReader::read_services(const YAML::Node& node) {
  const std::string path = "services";
  if (!is_list(node, path, "services")) return;
  if (node.size() == 0) {
    error(node, path, "is empty, must list at least one service");
    return;
  }
  std::map<std::string, std::string> seen;  // id -> where first listed
  for (std::size_t i = 0; i < node.size(); ++i) {
    ServiceDraft s;
    s.path = fmt::format("{}[{}]", path, i);
    const YAML::Node item = node[i];
    if (!read_service(item, s)) continue;
    if (auto [it, inserted] = seen.emplace(s.id.value, s.path); !inserted) {
      error(item["id"], child(s.path, "id"),
            fmt::format("'{}' is listed twice (first as {}), service ids must be unique", s.id,
                        it->second));
      continue;
    }
    services_.push_back(std::move(s));
  }
}

bool ConfigReader::read_service(const YAML::Node& node, ServiceDraft& s) {
  const auto f = mapping(
      node, s.path,
      {"id", "policy", "instances", "priority", "weight", "unitsPerReplica", "query", "trace"});
  if (!f) return false;
  require(*f, node, s.path, "id", "a Qianfan service id such as svco-ktth9mkb5cqn");
  require(*f, node, s.path, "instances", "a list of instance ids, most preferred first");
  bool ok = true;
  if (const auto* n = get(*f, "id")) {
    const auto p = child(s.path, "id");
    const auto before = failure_count();
    read(*n, p, s.id.value);
    if (failure_count() == before && s.id.empty()) {
      error(*n, p, "is empty, must be a Qianfan service id such as svco-ktth9mkb5cqn");
    }
    ok = failure_count() == before;
  } else {
    ok = false;
  }
  if (const auto* n = get(*f, "policy")) {
    const auto p = child(s.path, "policy");
    const auto before = failure_count();
    read(*n, p, s.policy_ref);
    if (failure_count() == before && s.policy_ref.empty()) {
      error(*n, p, "is empty, must be a shipped policy name such as balanced or a policy file");
    }
  }
  if (const auto* n = get(*f, "instances")) read_service_instances(*n, s);
  read_int(*f, s.path, "priority", -kMaxPriority, kMaxPriority, s.priority);
  read_int(*f, s.path, "weight", 1, kMaxWeight, s.weight);
  if (get(*f, "unitsPerReplica") != nullptr) {
    int units = 0;
    read_int(*f, s.path, "unitsPerReplica", 1, kMaxUnitsPerReplica, units);
    if (!suppressed(child(s.path, "unitsPerReplica")))
      s.units_per_replica = model::ComputeUnits{units};
  }
  if (const auto* n = get(*f, "query")) {
    const auto p = child(s.path, "query");
    std::string query;
    const auto before = failure_count();
    read(*n, p, query);
    if (failure_count() != before) {
      // reported
    } else if (kind_ && *kind_ != MetricSourceKind::Prometheus) {
      error(*n, p,
            "is only used with the prometheus metric source, must be removed (or use "
            "metrics.prometheus)");
    } else if (query.empty()) {
      error(*n, p, "is empty, must be a PromQL query returning one series (or leave it out)");
    } else {
      s.query = std::move(query);
    }
  }
  if (const auto* n = get(*f, "trace")) {
    const auto p = child(s.path, "trace");
    std::string trace;
    if (read_path(*n, p, trace)) {
      if (kind_ && *kind_ != MetricSourceKind::Trace) {
        error(*n, p,
              "is only used with the trace metric source, must be removed (or use metrics.trace)");
      } else {
        s.trace = std::move(trace);
      }
    }
  }
  return ok;
}

void ConfigReader::read_service_instances(const YAML::Node& node, ServiceDraft& s) {
  const auto path = child(s.path, "instances");
  if (!is_list(node, path, "instance ids")) return;
  if (node.size() == 0) {
    error(node, path, "is empty, must list at least one instance from instances");
    return;
  }
  std::vector<std::string_view> known;
  for (const auto& instance : config_.instances) known.push_back(instance.id.value);
  for (std::size_t j = 0; j < node.size(); ++j) {
    const YAML::Node item = node[j];
    const auto item_path = fmt::format("{}[{}]", path, j);
    model::InstanceId id;
    const auto before = failure_count();
    read(item, item_path, id.value);
    if (failure_count() != before) continue;
    if (std::find(known.begin(), known.end(), id.value) == known.end()) {
      std::string message = fmt::format("'{}' is not listed under instances", id);
      if (auto guess = util::yaml::suggest(id.value, known)) {
        message += fmt::format(" (did you mean {}?)", *guess);
      }
      message += known.empty() ? std::string(", must be declared there first")
                               : fmt::format(", must be one of {}", util::yaml::join(known));
      error(item, item_path, std::move(message));
      continue;
    }
    if (std::find(s.instances.begin(), s.instances.end(), id) != s.instances.end()) {
      error(item, item_path,
            fmt::format("'{}' is listed twice, each instance may appear once", id));
      continue;
    }
    s.instances.push_back(std::move(id));
  }
}

void ConfigReader::read_loop(const YAML::Node& node) {
  const std::string path = "loop";
  const auto f = mapping(node, path,
                         {"interval", "dryRun", "listen", "stateFile", "auditLog",
                          "auditLogMaxBytes", "auditLogKeep"});
  if (!f) return;
  auto& l = config_.loop;
  read_seconds(*f, path, "interval", kMinInterval, kMaxInterval, l.interval);
  optional_field(*f, path, "dryRun", l.dry_run);
  if (const auto* n = get(*f, "listen")) {
    const auto p = child(path, "listen");
    std::string listen;
    const auto before = failure_count();
    read(*n, p, listen);
    if (failure_count() == before) {
      if (auto problem = listen_problem(listen)) {
        error(*n, p, fmt::format("{} {}", show(*n), *problem));
      } else {
        l.listen = std::move(listen);
      }
    }
  }
  if (const auto* n = get(*f, "stateFile")) {
    read_output_path(*n, child(path, "stateFile"), l.state_file);
  }
  if (const auto* n = get(*f, "auditLog")) {
    read_output_path(*n, child(path, "auditLog"), l.audit_log);
  }
  if (const auto* n = get(*f, "auditLogMaxBytes")) {
    read_bytes(*n, child(path, "auditLogMaxBytes"), l.audit_log_max_bytes);
  }
  read_int(*f, path, "auditLogKeep", 1, kMaxAuditLogKeep, l.audit_log_keep);
}

bool ConfigReader::read_path(const YAML::Node& node, const std::string& path, std::string& out) {
  std::string text;
  const auto before = failure_count();
  read(node, path, text);
  if (failure_count() != before) return false;
  if (text.empty()) {
    error(node, path, "is empty, must be a file path (or leave the key out)");
    return false;
  }
  out = resolve(text);
  return true;
}

void ConfigReader::read_output_path(const YAML::Node& node, const std::string& path,
                                    std::string& out) {
  std::string resolved;
  if (!read_path(node, path, resolved)) return;
  if (check_output_) {
    if (auto problem = check_output_(resolved)) {
      error(node, path,
            fmt::format("{} cannot be written: {}; the controller writes it every tick", show(node),
                        *problem));
      return;
    }
  }
  out = std::move(resolved);
}

void ConfigReader::read_ca_file(const YAML::Node& node, const std::string& path, std::string& out) {
  std::string file;
  if (!read_path(node, path, file)) return;
  const auto text = read_file_(file);
  if (!text) {
    error(node, path, fmt::format("cannot be read: {}", text.error().message));
    return;
  }
  if (auto certificates = http::count_ca_certificates(*text); !certificates) {
    error(node, path,
          fmt::format("\"{}\" {}, must be a PEM bundle of CA certificates", file,
                      certificates.error().message));
    return;
  }
  out = std::move(file);
}

void ConfigReader::read_int(const Fields& f, const std::string& path, std::string_view key, int lo,
                            int hi, int& out) {
  const auto* n = get(f, key);
  if (n == nullptr) return;
  const auto p = child(path, key);
  int v = 0;
  const auto before = failure_count();
  read(*n, p, v);
  if (failure_count() != before) return;
  if (v < lo || v > hi) {
    error(*n, p, fmt::format("{} is out of range, must be in [{}, {}]", v, lo, hi));
    return;
  }
  out = v;
}

void ConfigReader::read_seconds(const Fields& f, const std::string& path, std::string_view key,
                                std::chrono::seconds lo, std::chrono::seconds hi,
                                std::chrono::seconds& out) {
  const auto* n = get(f, key);
  if (n == nullptr) return;
  const auto p = child(path, key);
  std::chrono::seconds v{0};
  const auto before = failure_count();
  read(*n, p, v);
  if (failure_count() != before) return;
  if (v < lo || v > hi) {
    error(*n, p,
          fmt::format("{} is out of range, must be in [{}, {}]", show(*n),
                      policy::format_duration(lo), policy::format_duration(hi)));
    return;
  }
  out = v;
}

void ConfigReader::read_bytes(const YAML::Node& node, const std::string& path, std::uint64_t& out) {
  const auto range =
      fmt::format("[{}, {}]", format_bytes(kMinAuditLogBytes), format_bytes(kMaxAuditLogBytes));
  std::string_view text = node.IsScalar() ? std::string_view(node.Scalar()) : std::string_view();
  unsigned shift = 0;
  for (const auto& [suffix, s] :
       {std::pair<std::string_view, unsigned>{"Ki", 10}, {"Mi", 20}, {"Gi", 30}}) {
    if (text.ends_with(suffix)) {
      text.remove_suffix(suffix.size());
      shift = s;
    }
  }
  std::uint64_t v = 0;
  if (!node.IsScalar() || util::yaml::is_quoted(node) || !all_digits(text) ||
      std::from_chars(text.data(), text.data() + text.size(), v).ec != std::errc{}) {
    error(node, path,
          fmt::format("{} is not a size, must be a number of bytes, optionally with a suffix Ki, "
                      "Mi or Gi (64Mi), in {}",
                      show(node), range));
    return;
  }
  // Compare before shifting so that a huge count cannot wrap around into range.
  if (v > (kMaxAuditLogBytes >> shift) || (v << shift) < kMinAuditLogBytes) {
    error(node, path, fmt::format("{} is out of range, must be in {}", show(node), range));
    return;
  }
  out = v << shift;
}

}  // namespace detail

tl::expected<Config, util::Diagnostics> parse_config(std::string_view yaml_text,
                                                     const std::string& file_name,
                                                     const FileReader& read,
                                                     const util::ZoneSource& zones,
                                                     const OutputPathCheck& check_output) {
  return detail::ConfigReader(file_name, read, zones, check_output).load(yaml_text);
}

std::optional<std::string> output_path_problem(const std::string& path) {
  const std::filesystem::path file(path);
  const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    return err == ENOENT ? fmt::format("directory {} does not exist", dir)
                         : fmt::format("directory {}: {}", dir, std::strerror(err));  // NOLINT
  }
  if (!S_ISDIR(st.st_mode)) return fmt::format("{} is not a directory", dir);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;
    return fmt::format("directory {} is not writable: {}", dir, std::strerror(err));  // NOLINT
  }
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return fmt::format("{} is a directory", path);
  }
  return std::nullopt;
}

tl::expected<Config, util::Diagnostics> load_config(const std::string& path,
                                                    const util::ZoneSource& zones) {
  auto text = util::read_file(path);
  if (!text) {
    return tl::unexpected(
        util::Diagnostics{util::Diagnostic{.file = path, .message = text.error().to_string()}});
  }
  const FileReader read = [](const std::string& p) { return util::read_file(p); };
  return parse_config(*text, path, read, zones, output_path_problem);
}

}  // namespace qfscale::controller
