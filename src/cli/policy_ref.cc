#include "cli/policy_ref.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "qfscale/controller/config.h"
#include "qfscale/util/file.h"
#include "qfscale/util/suggest.h"

namespace qfscale::cli {

namespace {

/// Looks like a path, as the controller config decides: then a missing file is reported as one.
bool looks_like_file(std::string_view ref) {
  return ref.find('/') != std::string_view::npos || ref.ends_with(".yaml") || ref.ends_with(".yml");
}

}  // namespace

std::string unknown_policy_name(const std::string& name, bool files_accepted) {
  const auto names = controller::shipped_policy_names();
  std::string message = fmt::format("'{}' is {} a shipped policy", name,
                                    files_accepted ? "neither a file nor" : "not");
  if (auto guess = util::closest_match(name, names)) {
    message += fmt::format("; did you mean {}?", *guess);
  }
  message += message.ends_with('?') ? " Shipped policies:" : ". Shipped policies:";
  for (auto n : names) message += fmt::format(" {}", n);
  return message;
}

tl::expected<PolicySource, PolicyRefError> read_policy_ref(const std::string& ref) {
  std::error_code ec;
  const bool exists = !ref.empty() && std::filesystem::exists(ref, ec);
  if (!exists && !looks_like_file(ref)) {
    if (auto shipped = controller::shipped_policy(ref)) {
      return PolicySource{.text = std::string(*shipped),
                          .label = fmt::format("<shipped>/{}.yaml", ref)};
    }
    return tl::unexpected(
        PolicyRefError{.unknown_name = true, .message = unknown_policy_name(ref, true)});
  }
  auto text = util::read_file(ref);
  if (!text) return tl::unexpected(PolicyRefError{.message = text.error().to_string()});
  return PolicySource{.text = std::move(*text), .label = ref};
}

}  // namespace qfscale::cli
