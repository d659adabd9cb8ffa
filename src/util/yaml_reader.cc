#include "util/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "qfscale/util/duration.h"
#include "qfscale/util/redact.h"
#include "qfscale/util/suggest.h"

namespace qfscale::util::yaml {

namespace {

/// yaml-cpp's messages may quote input (an undefined anchor's name): bounded like a value,
/// with room for the message itself.
constexpr std::size_t kMessageChars = 120;

}  // namespace

Pos pos_of(const YAML::Node& node) {
  const auto m = node.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};  // yaml-cpp marks are 0-based
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

const ForeignName* find_foreign(const YAML::Node& node, const ForeignNames& foreign) {
  if (!node.IsScalar()) return nullptr;
  for (const auto& f : foreign) {
    if (f.name == node.Scalar()) return &f;
  }
  return nullptr;
}

std::optional<std::string_view> suggest(std::string_view word,
                                        const std::vector<std::string_view>& allowed) {
  return util::closest_match(word, allowed);
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

std::string show(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      // Never the whole value: the file may be the wrong one (the credentials file given as a
      // policy), and a message must not copy it to stderr or the audit log.
      return is_quoted(node) ? fmt::format("\"{}\"", util::excerpt(node.Scalar()))
                             : util::excerpt(node.Scalar());
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// A marker is three dashes or dots at column 1 followed by a blank or the end of the line; the
// YAML spec treats it as a document boundary even inside scalars.
std::optional<int> second_document_line(std::string_view text) {
  bool content = false;         // saw a non-comment line of the first document
  std::optional<int> boundary;  // a marker after content
  int line = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    const bool marker = (l.substr(0, 3) == "---" || l.substr(0, 3) == "...") &&
                        (l.size() == 3 || l[3] == ' ' || l[3] == '\t');
    const auto first = l.find_first_not_of(" \t");
    const bool blank = first == std::string_view::npos || l[first] == '#';
    if (marker) {
      if (content && !boundary) boundary = line;
      // Content after the marker on the same line ("--- {a: 1}") belongs to the next document.
      const auto rest = l.substr(3).find_first_not_of(" \t");
      if (rest != std::string_view::npos && l[3 + rest] != '#') {
        if (boundary) return boundary;
        content = true;
      }
      continue;
    }
    if (blank || (!content && l.front() == '%')) continue;
    if (boundary) return boundary;
    content = true;
  }
  return std::nullopt;
}

std::optional<YAML::Node> YamlReader::parse(std::string_view text, std::string_view what,
                                            std::string_view one) {
  // YAML::Load reads the first document only. YAML::LoadAll is avoided on purpose: in
  // yaml-cpp 0.7 it loops forever on some malformed input such as "," (yaml-cpp #1040,
  // fixed upstream by PR #1319), which the fuzzer found.
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    Pos p;
    if (!e.mark.is_null() && e.mark.line >= 0) p = {e.mark.line + 1, e.mark.column + 1};
    add(p, "", fmt::format("YAML syntax error: {}", util::excerpt(e.msg, kMessageChars)));
    return std::nullopt;
  }
  if (const auto second = second_document_line(text)) {
    add({*second, 1}, "",
        fmt::format("starts a second YAML document, a file must hold exactly {}", one));
  }
  if (!root.IsDefined() || root.IsNull()) {
    add({}, "", fmt::format("is empty, must be {}", what));
    return std::nullopt;
  }
  return root;
}

void YamlReader::add(Pos p, std::string path, std::string message) {
  diagnostics_.push_back(util::Diagnostic{.file = file_,
                                          .line = p.line,
                                          .column = p.column,
                                          .path = std::move(path),
                                          .message = std::move(message)});
}

void YamlReader::error(const YAML::Node& at, const std::string& path, std::string message) {
  failed_.insert(path);
  auto p = pos_of(at);
  if (at.IsNull()) {
    // yaml-cpp marks an empty value at the next token; its key's position is clearer.
    if (auto it = positions_.find(path); it != positions_.end()) p = it->second;
  }
  add(p, path, std::move(message));
}

bool YamlReader::suppressed(const std::string& path) const {
  for (const auto& f : failed_) {
    if (path == f || (path.size() > f.size() && path.compare(0, f.size(), f) == 0 &&
                      (path[f.size()] == '.' || path[f.size()] == '['))) {
      return true;
    }
  }
  return false;
}

Pos YamlReader::position_of(std::string path) const {
  while (true) {
    if (auto it = positions_.find(path); it != positions_.end()) return it->second;
    if (path.empty()) return {};
    const auto cut = path.find_last_of(".[");
    path.resize(cut == std::string::npos ? 0 : cut);
  }
}

void YamlReader::report(const std::string& path, std::string message) {
  if (suppressed(path)) return;
  failed_.insert(path);
  add(position_of(path), path, std::move(message));
}

bool YamlReader::is_mapping(const YAML::Node& node, const std::string& path,
                            std::string_view must_be) {
  if (!node.IsMap()) {
    error(node, path, fmt::format("{} is not a mapping, must be {}", show(node), must_be));
    return false;
  }
  positions_[path] = pos_of(node);
  return true;
}

bool YamlReader::is_list(const YAML::Node& node, const std::string& path, std::string_view what) {
  if (node.IsSequence()) return true;
  error(node, path, fmt::format("{} is not a list, must be a list of {}", show(node), what));
  return false;
}

bool YamlReader::is_scalar_key(const YAML::Node& key, const std::string& path,
                               std::string_view keys) {
  if (key.IsScalar()) return true;
  error(key, path, fmt::format("has {} as a key, keys must be {}", show(key), keys));
  return false;
}

bool YamlReader::first_time(const YAML::Node& key, const YAML::Node& value,
                            const std::string& entry_path, bool seen) {
  if (seen) {
    error(key, entry_path,
          fmt::format("is set twice (first on line {})", positions_[entry_path].line));
    return false;
  }
  const auto value_pos = pos_of(value);
  positions_[entry_path] = value_pos.line > 0 && !value.IsNull() ? value_pos : pos_of(key);
  return true;
}

std::optional<Fields> YamlReader::mapping(const YAML::Node& node, const std::string& path,
                                          const std::vector<std::string_view>& allowed,
                                          const ForeignNames& foreign) {
  if (!is_mapping(node, path, fmt::format("a mapping with keys {}", join(allowed)))) {
    return std::nullopt;
  }
  Fields fields;
  for (const auto& kv : node) {
    const YAML::Node& key = kv.first;
    if (!is_scalar_key(key, path, "field names")) continue;
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string message = "unknown field";
      if (const auto* f = find_foreign(key, foreign)) {
        message += fmt::format(", {}", f->hint);
      } else if (auto s = suggest(name, allowed)) {
        message += fmt::format(", did you mean '{}'?", *s);
      }
      message += fmt::format(" (allowed: {})", join(allowed));
      // The path names the unknown key, which may be a pasted secret.
      error(key, child(path, util::excerpt(name)), std::move(message));
      continue;
    }
    if (first_time(key, kv.second, child(path, name), fields.count(name) != 0)) {
      fields.emplace(name, kv.second);
    }
  }
  return fields;
}

std::optional<Entries> YamlReader::entries(const YAML::Node& node, const std::string& path,
                                           std::string_view what) {
  if (!is_mapping(node, path, fmt::format("a mapping of {}", what))) return std::nullopt;
  Entries out;
  for (const auto& kv : node) {
    const YAML::Node& key = kv.first;
    if (!is_scalar_key(key, path, what)) continue;
    const std::string& name = key.Scalar();
    const bool seen =
        std::any_of(out.begin(), out.end(), [&](const auto& entry) { return entry.first == name; });
    // Keys are data here (a pasted secret, say): paths carry an excerpt only.
    if (first_time(key, kv.second, child(path, util::excerpt(name)), seen)) {
      out.emplace_back(name, kv.second);
    }
  }
  return out;
}

const YAML::Node* YamlReader::get(const Fields& fields, std::string_view key) {
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

void YamlReader::require(const Fields& fields, const YAML::Node& parent, const std::string& path,
                         std::string_view key, std::string_view what) {
  if (get(fields, key) == nullptr) {
    error(parent, child(path, key), fmt::format("is required, must be {}", what));
  }
}

std::optional<std::string> YamlReader::numeric_text(const YAML::Node& node, const std::string& path,
                                                    std::string_view what) {
  if (!node.IsScalar() || is_quoted(node)) {
    error(node, path, fmt::format("{} is not {}", show(node), what));
    return std::nullopt;
  }
  std::string text = node.Scalar();
  if (!text.empty() && text.front() == '+') text.erase(0, 1);
  return text;
}

void YamlReader::read(const YAML::Node& node, const std::string& path, double& out) {
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

void YamlReader::read(const YAML::Node& node, const std::string& path, int& out) {
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

void YamlReader::read(const YAML::Node& node, const std::string& path, bool& out) {
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

void YamlReader::read(const YAML::Node& node, const std::string& path, std::string& out) {
  if (!node.IsScalar()) {
    error(node, path, fmt::format("{} is not a string", show(node)));
    return;
  }
  out = node.Scalar();
}

void YamlReader::read(const YAML::Node& node, const std::string& path, std::chrono::seconds& out) {
  if (auto d = read_duration(node, path, DurationPrecision::Seconds)) {
    out = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
}

void YamlReader::read(const YAML::Node& node, const std::string& path,
                      std::chrono::milliseconds& out) {
  if (auto d = read_duration(node, path, DurationPrecision::Milliseconds)) out = *d;
}

std::optional<std::chrono::milliseconds> YamlReader::read_duration(const YAML::Node& node,
                                                                   const std::string& path,
                                                                   DurationPrecision precision) {
  if (!node.IsScalar()) {
    error(node, path,
          fmt::format("{} is not a duration, must be a duration such as {}90s, 5m or 1h30m",
                      show(node), precision == DurationPrecision::Milliseconds ? "500ms, " : ""));
    return std::nullopt;
  }
  auto d = parse_duration(node.Scalar(), precision);
  if (!d) {
    error(node, path, fmt::format("{} {}", show(node), d.error()));
    return std::nullopt;
  }
  return *d;
}

util::Diagnostics YamlReader::take_sorted() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(diagnostics_);
}

}  // namespace qfscale::util::yaml
