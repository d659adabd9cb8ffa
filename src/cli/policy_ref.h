#pragma once

/// A policy named on the command line (`policy check`, `policy show`, `policy eval --policy`,
/// `simulate --policy`): a file, or the name of a shipped policy (policies/*.yaml, compiled in).
/// A path that exists wins over a name, so `./balanced` or `balanced.yaml` reads the file.

#include <string>

#include <tl/expected.hpp>

namespace qfscale::cli {

struct PolicySource {
  std::string text;
  std::string label;  ///< for diagnostics: the path, or "<shipped>/NAME.yaml"
};

/// How reading a policy reference failed; the message is ready to print after "qfscale CMD: ".
struct PolicyRefError {
  bool unknown_name =
      false;  ///< neither a file nor a shipped name (a usage error), else unreadable
  std::string message;
};

/// Help text shared by every option and argument that takes a policy reference.
inline constexpr const char* kPolicyRefHelp =
    "Policy file, or the name of a shipped policy (e.g. balanced; see 'qfscale policy show');\n"
    "an existing file of that name wins";

/// The policy's YAML: the file at `ref` if one exists, else the shipped policy named `ref`.
/// Errors: the file cannot be read, or `ref` is neither a file nor a shipped name (with the
/// closest name and the list of shipped ones).
[[nodiscard]] tl::expected<PolicySource, PolicyRefError> read_policy_ref(const std::string& ref);

/// Why `name` names no policy: "'balance' is neither a file nor a shipped policy; did you mean
/// balanced? Shipped policies: balanced business-hours ..." ("is not a shipped policy" when
/// files are not accepted).
[[nodiscard]] std::string unknown_policy_name(const std::string& name, bool files_accepted);

}  // namespace qfscale::cli
