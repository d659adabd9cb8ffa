// Policies named by the controller config: shipped ones (compiled in) by name, others read as
// files relative to the config. Each distinct policy is loaded once; its own diagnostics carry
// its file's name, and every service that uses a broken one gets a diagnostic at its `policy`.

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "controller/config_reader.h"
#include "controller/shipped_policies.h"

namespace qfscale::controller {

std::optional<std::string_view> shipped_policy(std::string_view name) {
  for (const auto& p : detail::shipped_policy_table()) {
    if (p.name == name) return p.text;
  }
  return std::nullopt;
}

std::vector<std::string_view> shipped_policy_names() {
  std::vector<std::string_view> names;
  for (const auto& p : detail::shipped_policy_table()) names.push_back(p.name);
  std::sort(names.begin(), names.end());
  return names;
}

namespace detail {

namespace {

/// A reference is a file when it looks like one; a bare word is a shipped policy's name.
bool is_file_ref(std::string_view ref) {
  return ref.find('/') != std::string_view::npos || ref.ends_with(".yaml") || ref.ends_with(".yml");
}

struct Loaded {
  std::optional<policy::Policy> policy;
  std::string problem;  ///< why not, for the diagnostic at each service's `policy` key
};

}  // namespace

std::vector<std::optional<policy::Policy>> ConfigReader::load_policies() {
  std::vector<std::optional<policy::Policy>> out(services_.size());
  std::map<std::string, Loaded> cache;  // by label: "<shipped>/x.yaml" or the absolute path
  const auto names = shipped_policy_names();
  for (std::size_t i = 0; i < services_.size(); ++i) {
    auto& s = services_[i];
    const auto path = util::yaml::child(s.path, "policy");
    if (suppressed(path)) continue;  // the value itself was bad, already reported
    const bool file = is_file_ref(s.policy_ref);
    std::optional<std::string_view> shipped;
    if (!file) {
      shipped = shipped_policy(s.policy_ref);
      if (!shipped) {
        std::string message = fmt::format("'{}' is not a shipped policy", s.policy_ref);
        if (auto guess = util::yaml::suggest(s.policy_ref, names)) {
          message += fmt::format(" (did you mean {}?)", *guess);
        }
        message += fmt::format(
            ", must be one of {} or a policy file (a path containing '/' or ending in .yaml)",
            util::yaml::join(names));
        report(path, std::move(message));
        continue;
      }
    }
    const std::string label =
        file ? resolve(s.policy_ref) : fmt::format("<shipped>/{}.yaml", s.policy_ref);
    auto it = cache.find(label);
    if (it == cache.end()) {
      Loaded loaded;
      auto text = file ? read_file_(label) : Result<std::string>(std::string(*shipped));
      if (!text) {
        loaded.problem =
            fmt::format("'{}' cannot be read: {}", s.policy_ref, text.error().to_string());
      } else if (auto p = policy::load_policy(*text, label, zones_); !p) {
        loaded.problem = fmt::format(
            "policy {} is invalid ({} problem{} reported with that file's "
            "name)",
            label, p.error().size(), p.error().size() == 1 ? "" : "s");
        policy_diagnostics_.insert(policy_diagnostics_.end(), p.error().begin(), p.error().end());
      } else {
        loaded.policy = std::move(*p);
      }
      it = cache.emplace(label, std::move(loaded)).first;
    }
    if (!it->second.policy) {
      report(path, fmt::format("{}, used by service {}", it->second.problem, s.id));
      continue;
    }
    if (file) s.policy_file = label;
    out[i] = it->second.policy;
  }
  return out;
}

}  // namespace detail
}  // namespace qfscale::controller
