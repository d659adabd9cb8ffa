#include "qfscale/policy/eval.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "qfscale/util/json_string.h"
#include "qfscale/util/redact.h"

namespace qfscale::policy {
namespace {

/// A field value before typing: text, or JSON null / a JSON string (quoted).
struct Raw {
  std::string text;
  bool null = false;
  bool quoted = false;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      if (start < text.size()) lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  double v = 0;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc{} || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  s = trim(s);
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  return std::nullopt;
}

/// A tiny reader for one flat JSON object: string keys; string, number, true/false/null values.
/// Returns an error message naming the column on malformed input.
tl::expected<std::map<std::string, Raw>, std::string> parse_json_object(std::string_view s) {
  std::map<std::string, Raw> out;
  std::size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
  };
  auto where = [&] { return fmt::format("column {}", i + 1); };
  auto string = [&]() -> tl::expected<std::string, std::string> {
    if (i >= s.size() || s[i] != '"') return tl::unexpected(where() + ": expected '\"'");
    ++i;
    std::string v;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        if (++i >= s.size()) break;
        const char e = s[i];
        if (e == 'n') {
          v += '\n';
        } else if (e == 't') {
          v += '\t';
        } else if (e == '"' || e == '\\' || e == '/') {
          v += e;
        } else {
          return tl::unexpected(where() + ": unsupported escape");
        }
      } else {
        v += s[i];
      }
      ++i;
    }
    if (i >= s.size()) return tl::unexpected(where() + ": unterminated string");
    ++i;
    return v;
  };
  ws();
  if (i >= s.size() || s[i] != '{') return tl::unexpected(where() + ": expected '{'");
  ++i;
  ws();
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    while (true) {
      ws();
      auto key = string();
      if (!key) return tl::unexpected(key.error());
      ws();
      if (i >= s.size() || s[i] != ':') return tl::unexpected(where() + ": expected ':'");
      ++i;
      ws();
      Raw value;
      if (i < s.size() && s[i] == '"') {
        auto v = string();
        if (!v) return tl::unexpected(v.error());
        value = {.text = std::move(*v), .quoted = true};
      } else {
        const auto start = i;
        while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ' && s[i] != '\t') ++i;
        const auto token = s.substr(start, i - start);
        if (token.empty()) return tl::unexpected(where() + ": expected a value");
        value = {.text = std::string(token), .null = token == "null"};
      }
      if (out.contains(*key))
        return tl::unexpected(fmt::format("duplicate key \"{}\"", util::excerpt(*key)));
      out.emplace(std::move(*key), std::move(value));
      ws();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '}') {
        ++i;
        break;
      }
      return tl::unexpected(where() + ": expected ',' or '}'");
    }
  }
  ws();
  if (i != s.size()) return tl::unexpected(where() + ": text after the object");
  return out;
}

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

constexpr std::string_view kKnown[] = {"t_seconds",  "qps",        "current_replicas",
                                       "metrics_ok", "run_status", "model_updating"};

bool known(std::string_view key) {
  for (auto k : kKnown) {
    if (k == key) return true;
  }
  return false;
}

/// Types one row's fields into a step; adds a diagnostic per bad field.
std::optional<EvalStep> to_step(const std::map<std::string, Raw>& fields, int line,
                                std::string_view file, util::Diagnostics& out) {
  const auto before = out.size();
  auto add = [&](std::string_view key, std::string message) {
    out.push_back(util::Diagnostic{.file = std::string(file),
                                   .line = line,
                                   .path = std::string(key),
                                   .message = std::move(message)});
  };
  for (const auto& [key, value] : fields) {
    if (!known(key)) {
      add(util::excerpt(key),
          "unknown field, must be one of t_seconds, qps, current_replicas, metrics_ok, "
          "run_status, model_updating");
    }
  }
  EvalStep step{.line = line};
  auto get = [&](std::string_view key) -> const Raw* {
    auto it = fields.find(std::string(key));
    return it == fields.end() ? nullptr : &it->second;
  };
  if (const Raw* t = get("t_seconds"); t == nullptr || t->null || t->text.empty()) {
    add("t_seconds", "is missing, must be a number of seconds");
  } else if (auto v = parse_number(t->text); !v || t->quoted) {
    add("t_seconds", fmt::format("'{}' is not a number", util::excerpt(t->text)));
  } else if (std::abs(*v) > kMaxEvalSeconds) {
    add("t_seconds", fmt::format("{} is out of range, must be within ten years of the start ({} s)",
                                 util::excerpt(t->text), kMaxEvalSeconds));
  } else {
    step.t_seconds = *v;
  }
  if (const Raw* q = get("qps"); q != nullptr && !q->null && !trim(q->text).empty()) {
    auto v = parse_number(q->text);
    if (!v || q->quoted || *v < 0) {
      add("qps", fmt::format("'{}' is not a number >= 0 (leave empty or null when missing)",
                             util::excerpt(q->text)));
    } else {
      step.qps = *v;
    }
  }
  if (const Raw* c = get("current_replicas"); c == nullptr || c->null || c->text.empty()) {
    add("current_replicas", "is missing, must be an integer >= 0");
  } else {
    auto v = parse_number(c->text);
    if (!v || c->quoted || *v < 0 || *v != std::floor(*v) || *v > 1e6) {
      add("current_replicas",
          fmt::format("'{}' is not an integer in [0, 1000000]", util::excerpt(c->text)));
    } else {
      step.current_replicas = static_cast<int>(*v);
    }
  }
  if (const Raw* m = get("metrics_ok"); m != nullptr && !m->null && !m->text.empty()) {
    auto v = parse_bool(m->text);
    if (!v || m->quoted) {
      add("metrics_ok", fmt::format("'{}' is not true or false", util::excerpt(m->text)));
    } else if (!*v) {
      step.qps.reset();
    }
  }
  if (const Raw* r = get("run_status"); r != nullptr && !r->null && !r->text.empty()) {
    step.run_status = model::parse_run_status(trim(r->text));
    if (step.run_status == model::RunStatus::Unknown) {
      add("run_status",
          fmt::format("'{}' is not one of New, Deploying, Serving, Failed, Stopped, Done",
                      util::excerpt(r->text)));
    }
  }
  if (const Raw* u = get("model_updating"); u != nullptr && !u->null && !u->text.empty()) {
    auto v = parse_bool(u->text);
    if (!v || u->quoted) {
      add("model_updating", fmt::format("'{}' is not true or false", util::excerpt(u->text)));
    } else {
      step.model_updating = *v;
    }
  }
  if (out.size() != before) return std::nullopt;
  return step;
}

}  // namespace

tl::expected<std::vector<EvalStep>, util::Diagnostics> parse_eval_steps(
    std::string_view text, std::string_view file_name) {
  util::Diagnostics diagnostics;
  std::vector<EvalStep> steps;
  const auto lines = split_lines(text);
  auto add = [&](int line, std::string message) {
    diagnostics.push_back(util::Diagnostic{
        .file = std::string(file_name), .line = line, .message = std::move(message)});
  };
  bool json = false;
  for (auto l : lines) {
    if (auto t = trim(l); !t.empty()) {
      json = t.front() == '{';
      break;
    }
  }
  std::vector<std::string> header;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int line = static_cast<int>(i) + 1;
    const auto content = trim(lines[i]);
    if (content.empty() || (!json && content.front() == '#')) continue;
    std::map<std::string, Raw> fields;
    if (json) {
      auto obj = parse_json_object(content);
      if (!obj) {
        add(line, fmt::format("not a flat JSON object: {}", obj.error()));
        continue;
      }
      fields = std::move(*obj);
    } else if (header.empty()) {
      for (auto cell : split_csv(content)) header.emplace_back(cell);
      for (const auto& h : header) {
        if (!known(h)) {
          add(line, fmt::format("header column '{}' is unknown, must be one of t_seconds, qps, "
                                "current_replicas, metrics_ok, run_status, model_updating",
                                util::excerpt(h)));
        }
      }
      for (auto required : {"t_seconds", "current_replicas"}) {
        if (std::find(header.begin(), header.end(), required) == header.end()) {
          add(line, fmt::format("header lacks the required column '{}'", required));
        }
      }
      continue;
    } else {
      const auto cells = split_csv(content);
      if (cells.size() != header.size()) {
        add(line, fmt::format("has {} cells, the header has {}", cells.size(), header.size()));
        continue;
      }
      for (std::size_t c = 0; c < cells.size(); ++c) {
        fields[header[c]] = Raw{.text = std::string(cells[c])};
      }
    }
    if (auto step = to_step(fields, line, file_name, diagnostics)) {
      if (!steps.empty() && step->t_seconds < steps.back().t_seconds) {
        add(line, fmt::format("t_seconds {} is before the previous step's {} (line {})",
                              step->t_seconds, steps.back().t_seconds, steps.back().line));
        continue;
      }
      steps.push_back(*step);
    }
  }
  if (diagnostics.empty() && steps.empty()) add(0, "no steps");
  if (!diagnostics.empty()) return tl::unexpected(std::move(diagnostics));
  return steps;
}

EngineInput eval_input(const EvalStep& step, util::SystemTime start, double replica_qps) {
  const auto offset = std::chrono::duration_cast<util::SystemTime::duration>(
      std::chrono::duration<double>(step.t_seconds));
  return EngineInput{.now = start + offset,
                     .qps = step.qps,
                     .replica_qps = replica_qps,
                     .current = model::Replicas{step.current_replicas},
                     .run_status = step.run_status,
                     .model_updating = step.model_updating};
}

std::string eval_json_line(const EvalStep& step, const Recommendation& rec) {
  std::string out = fmt::format(
      R"({{"t_seconds":{},"qps":{},"current_replicas":{},"desired_replicas":{},"reason":{},)"
      R"("panicking":{},"stages":{{)",
      step.t_seconds, step.qps ? fmt::format("{}", *step.qps) : "null", step.current_replicas,
      rec.replicas.value, util::json_string(model::to_string(rec.reason)), rec.panicking);
  bool first = true;
  for (const auto& s : rec.steps) {
    if (!first) out += ',';
    first = false;
    out += fmt::format(R"({}:{{"output":{},"changed":{},"reason":{},"detail":{}}})",
                       util::json_string(model::to_string(s.stage)), s.output.value, s.changed,
                       util::json_string(model::to_string(s.reason)), util::json_string(s.detail));
  }
  out += "}}";
  return out;
}

}  // namespace qfscale::policy
