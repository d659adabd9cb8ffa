#pragma once

// Private: the YAML reading machinery shared by the file loaders (policies in src/policy, the
// controller config in src/controller, the fake's scenarios in src/fake): parse one document, check
// mappings against their allowed keys (unknown and repeated keys are errors, with a "did you
// mean"), read typed scalars strictly, and collect every problem as a Diagnostic with
// file:line:column. A failed value's path is remembered so that later validation of the same path
// is not reported a second time.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "qfscale/util/diagnostic.h"
#include "qfscale/util/duration.h"
#include "qfscale/util/strong_types.h"

namespace qfscale::util::yaml {

struct Pos {
  int line = 0;    ///< 1-based
  int column = 0;  ///< 1-based
};

/// A name another tool uses for one of ours (the HPA's `stabilizationWindowSeconds` for
/// `stabilizationWindow`), and the hint that replaces the generic "did you mean", e.g.
/// "did you mean 'period'? (the HPA's periodSeconds; here a duration such as 15s)".
struct ForeignName {
  std::string_view name;
  std::string_view hint;
};
using ForeignNames = std::vector<ForeignName>;

[[nodiscard]] Pos pos_of(const YAML::Node& node);
/// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
[[nodiscard]] std::string child(const std::string& path, std::string_view key);
/// The closest allowed word, if close enough to be a likely typo.
[[nodiscard]] std::optional<std::string_view> suggest(std::string_view word,
                                                      const std::vector<std::string_view>& allowed);
[[nodiscard]] std::string join(const std::vector<std::string_view>& words);
/// The entry of `foreign` naming the scalar `node`, else nullptr.
[[nodiscard]] const ForeignName* find_foreign(const YAML::Node& node, const ForeignNames& foreign);
/// True for a quoted scalar ("0.7" is a string, not a number).
[[nodiscard]] bool is_quoted(const YAML::Node& node);
/// How a node looks in a message: the scalar as written (quoted if it was), or its kind.
[[nodiscard]] std::string show(const YAML::Node& node);
/// The 1-based line of a "---" or "..." marker that ends the first document when more content
/// follows it, else nullopt.
[[nodiscard]] std::optional<int> second_document_line(std::string_view text);

using Fields = std::map<std::string, YAML::Node, std::less<>>;
/// A mapping whose keys are data (action names, error codes), in file order.
using Entries = std::vector<std::pair<std::string, YAML::Node>>;

/// Reads one document of one file. Not thread-safe; one reader per load.
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  /// Parses the first document of `text`. Reports a syntax error, a second document and an
  /// empty file (`is empty, must be <what>`); returns nullopt when there is nothing to read.
  /// `one` names what a file holds, e.g. "policy": "a file must hold exactly one policy".
  std::optional<YAML::Node> parse(std::string_view text, std::string_view what,
                                  std::string_view one);

  void add(Pos p, std::string path, std::string message);
  /// A problem with the value at `path`; later findings for that path (and below) are dropped.
  void error(const YAML::Node& at, const std::string& path, std::string message);
  [[nodiscard]] bool suppressed(const std::string& path) const;
  /// The node recorded for `path`, else its nearest recorded ancestor.
  [[nodiscard]] Pos position_of(std::string path) const;
  /// Reports at `path`'s recorded position unless a failure there was already reported.
  void report(const std::string& path, std::string message);
  /// Marks `path` as failed without reporting (already reported some other way).
  void mark_failed(const std::string& path) { failed_.insert(path); }
  [[nodiscard]] std::size_t failure_count() const { return failed_.size(); }

  /// Checks that `node` is a mapping with only `allowed` keys, each once; records positions.
  /// An unknown key listed in `foreign` gets that entry's hint instead of a spelling guess.
  std::optional<Fields> mapping(const YAML::Node& node, const std::string& path,
                                const std::vector<std::string_view>& allowed,
                                const ForeignNames& foreign = {});
  /// Checks that `node` is a mapping of scalar keys, each once (`what` names them in messages,
  /// e.g. "action names"); records positions under `path.<key>`.
  std::optional<Entries> entries(const YAML::Node& node, const std::string& path,
                                 std::string_view what);
  /// Reports `node` unless it is a list ("... is not a list, must be a list of <what>").
  bool is_list(const YAML::Node& node, const std::string& path, std::string_view what);
  static const YAML::Node* get(const Fields& fields, std::string_view key);
  void require(const Fields& fields, const YAML::Node& parent, const std::string& path,
               std::string_view key, std::string_view what);

  // Each read leaves `out` unchanged and reports at `path` when the node is not of the type.
  void read(const YAML::Node& node, const std::string& path, double& out);
  void read(const YAML::Node& node, const std::string& path, int& out);
  void read(const YAML::Node& node, const std::string& path, bool& out);
  void read(const YAML::Node& node, const std::string& path, std::string& out);
  /// A duration in whole seconds such as 90s, 5m or 1h30m (util/duration.h).
  void read(const YAML::Node& node, const std::string& path, std::chrono::seconds& out);
  /// A duration that may be sub-second, such as 500ms or 1s500ms (util/duration.h).
  void read(const YAML::Node& node, const std::string& path, std::chrono::milliseconds& out);
  template <class Tag>
  void read(const YAML::Node& node, const std::string& path, util::Count<Tag>& out) {
    read(node, path, out.value);
  }

  template <class E>
  void read_enum(const YAML::Node& node, const std::string& path,
                 const std::vector<std::pair<std::string_view, E>>& values, E& out,
                 const ForeignNames& foreign = {}) {
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
    if (const auto* f = find_foreign(node, foreign)) {
      message += fmt::format(" ({})", f->hint);
    } else if (node.IsScalar()) {
      if (auto s = suggest(node.Scalar(), names)) message += fmt::format(" (did you mean {}?)", *s);
    }
    error(node, path, std::move(message));
  }

  /// Reads `key` into `out` when present; leaves the default otherwise.
  template <class T>
  void optional_field(const Fields& fields, const std::string& path, std::string_view key, T& out) {
    if (const auto* node = get(fields, key)) read(*node, child(path, key), out);
  }

  /// The diagnostics so far, sorted by position (stable), and moved out.
  [[nodiscard]] util::Diagnostics take_sorted();
  [[nodiscard]] bool has_diagnostics() const { return !diagnostics_.empty(); }
  [[nodiscard]] const std::string& file() const { return file_; }

 protected:
  /// A plain (unquoted) scalar that YAML would read as a number; quoted "0.7" is a string.
  std::optional<std::string> numeric_text(const YAML::Node& node, const std::string& path,
                                          std::string_view what);

  /// Reports `node` unless it is a mapping ("... is not a mapping, must be <must_be>").
  bool is_mapping(const YAML::Node& node, const std::string& path, std::string_view must_be);
  /// Reports a key that is not a scalar ("... keys must be <keys>").
  bool is_scalar_key(const YAML::Node& key, const std::string& path, std::string_view keys);
  /// Reports a key `seen` before; else records where its value is.
  bool first_time(const YAML::Node& key, const YAML::Node& value, const std::string& entry_path,
                  bool seen);
  std::optional<std::chrono::milliseconds> read_duration(const YAML::Node& node,
                                                         const std::string& path,
                                                         DurationPrecision precision);

  std::string file_;
  util::Diagnostics diagnostics_;
  std::map<std::string, Pos, std::less<>> positions_;
  std::set<std::string, std::less<>> failed_;
};

}  // namespace qfscale::util::yaml
