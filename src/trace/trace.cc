#include "qfscale/trace/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "qfscale/util/check.h"
#include "qfscale/util/file.h"
#include "qfscale/util/redact.h"

namespace qfscale::trace {

Trace::Trace(std::vector<float> per_second) : values_(std::move(per_second)) {
  prefix_.resize(values_.size() + 1);
  double sum = 0;
  prefix_[0] = 0;
  for (std::size_t k = 0; k < values_.size(); ++k) {
    QFS_CHECK(std::isfinite(values_[k]) && values_[k] >= 0.0F,
              "trace values must be finite and >= 0");
    sum += static_cast<double>(values_[k]);
    prefix_[k + 1] = sum;
  }
}

double Trace::rate_at(double t_seconds) const {
  if (!(t_seconds >= 0) || t_seconds >= static_cast<double>(values_.size())) {
    return 0;
  }
  return static_cast<double>(values_[static_cast<std::size_t>(t_seconds)]);
}

double Trace::integral(double t) const {
  const auto k = static_cast<std::size_t>(t);
  if (k >= values_.size()) {
    return total();
  }
  return prefix_[k] + (t - static_cast<double>(k)) * static_cast<double>(values_[k]);
}

double Trace::mean(double from_seconds, double to_seconds) const {
  if (!(to_seconds > from_seconds)) {
    return rate_at(from_seconds);
  }
  const double a = std::max(from_seconds, 0.0);
  const double b = std::min(to_seconds, static_cast<double>(values_.size()));
  if (!(b > a)) {
    return 0;
  }
  return (integral(b) - integral(a)) / (b - a);
}

namespace {

constexpr std::string_view kHeader = "t_seconds,qps";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

/// A line or field as a message quotes it: short, printable, never a key (util/redact.h).
std::string shown(std::string_view s) { return util::excerpt(s); }

class Collector {
 public:
  explicit Collector(std::string_view file) : file_(file) {}

  void add(int line, int column, std::string_view path, std::string message) {
    if (diagnostics_.size() >= kMaxTraceDiagnostics) {
      ++dropped_;
      return;
    }
    diagnostics_.push_back(util::Diagnostic{.file = file_,
                                            .line = line,
                                            .column = column,
                                            .path = std::string(path),
                                            .message = std::move(message)});
  }
  [[nodiscard]] bool empty() const { return diagnostics_.empty(); }
  util::Diagnostics finish() && {
    if (dropped_ > 0) {
      diagnostics_.push_back(util::Diagnostic{
          .file = file_, .message = fmt::format("and {} more problems", dropped_)});
    }
    return std::move(diagnostics_);
  }

 private:
  std::string file_;
  util::Diagnostics diagnostics_;
  std::size_t dropped_ = 0;
};

bool looks_numeric(std::string_view field) {
  return !field.empty() && ((field.front() >= '0' && field.front() <= '9') ||
                            field.front() == '-' || field.front() == '+' || field.front() == '.');
}

}  // namespace

tl::expected<Trace, util::Diagnostics> parse_trace(std::string_view text,
                                                   std::string_view file_name) {
  Collector problems(file_name);
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }

  std::vector<float> values;
  values.reserve(text.size() / 6 + 1);  // "12,34\n" is about the shortest common row
  std::int64_t expected_t = 0;
  int line_no = 0;
  int blank_run_start = 0;  // first line of a run of blank lines not yet reported
  int blank_run_length = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const auto column_of = [&](std::string_view field) {
      return static_cast<int>(field.data() - line.data()) + 1;
    };

    const std::string_view trimmed = trim(line);
    if (line_no == 1) {
      if (trimmed == kHeader) {
        continue;
      }
      const auto first = trim(trimmed.substr(0, trimmed.find(',')));
      if (!looks_numeric(first)) {
        problems.add(1, 1, "",
                     fmt::format(R"(expected the header "{}", got "{}")", kHeader, shown(trimmed)));
        continue;
      }
      problems.add(1, 1, "", fmt::format("missing the header line \"{}\"", kHeader));
      // Fall through: the line is data.
    }
    if (trimmed.empty()) {
      if (blank_run_length++ == 0) {
        blank_run_start = line_no;
      }
      continue;
    }
    if (blank_run_length > 0) {  // blank lines followed by data: not a trailing newline
      problems.add(blank_run_start, 1, "",
                   blank_run_length == 1 ? std::string("empty line")
                                         : fmt::format("{} empty lines", blank_run_length));
      blank_run_length = 0;
    }

    // Check t even on rows with a column problem, so one bad row does not look like a gap.
    const std::size_t comma = line.find(',');
    const std::string_view t_field = trim(line.substr(0, comma));
    const std::string_view q_field =
        comma == std::string_view::npos ? std::string_view{} : trim(line.substr(comma + 1));
    bool columns_ok = true;
    if (comma == std::string_view::npos) {
      problems.add(
          line_no, static_cast<int>(line.size()) + 1, "qps",
          fmt::format(R"(missing column: want "t_seconds,qps", got "{}")", shown(trimmed)));
      columns_ok = false;
    } else if (const auto extra = q_field.find(','); extra != std::string_view::npos) {
      problems.add(line_no, column_of(q_field.substr(extra)), "",
                   fmt::format(R"(extra columns: want "t_seconds,qps", got "{}")", shown(trimmed)));
      columns_ok = false;
    }

    bool row_ok = columns_ok;
    std::int64_t t = 0;
    {
      const char* last = t_field.data() + t_field.size();
      auto [ptr, ec] = std::from_chars(t_field.data(), last, t);
      if (t_field.empty() || ec != std::errc{} || ptr != last) {
        problems.add(line_no, column_of(t_field), "t_seconds",
                     fmt::format("\"{}\" is not an integer number of seconds", shown(t_field)));
        row_ok = false;
      } else if (t > expected_t && expected_t == 0) {
        problems.add(line_no, column_of(t_field), "t_seconds",
                     fmt::format("starts at {}; want 0", t));
        expected_t = t + 1;
        row_ok = false;
      } else if (t > expected_t) {
        problems.add(line_no, column_of(t_field), "t_seconds",
                     fmt::format("gap: {} follows {}; want {} ({} seconds missing)", t,
                                 expected_t - 1, expected_t, t - expected_t));
        expected_t = t + 1;
        row_ok = false;
      } else if (t < expected_t) {
        problems.add(
            line_no, column_of(t_field), "t_seconds",
            fmt::format("not increasing: {} follows {}; want {}", t, expected_t - 1, expected_t));
        row_ok = false;
      } else {
        expected_t = t + 1;
      }
    }

    double q = 0;
    if (columns_ok) {
      const char* last = q_field.data() + q_field.size();
      auto [ptr, ec] = std::from_chars(q_field.data(), last, q);
      if (q_field.empty() || ec != std::errc{} || ptr != last) {
        problems.add(line_no, column_of(q_field), "qps",
                     fmt::format("\"{}\" is not a number", shown(q_field)));
        row_ok = false;
      } else if (!std::isfinite(q) || q > static_cast<double>(std::numeric_limits<float>::max())) {
        problems.add(line_no, column_of(q_field), "qps",
                     fmt::format("\"{}\" is not a finite number", shown(q_field)));
        row_ok = false;
      } else if (q < 0) {
        problems.add(line_no, column_of(q_field), "qps",
                     fmt::format("{} is negative; want >= 0", shown(q_field)));
        row_ok = false;
      }
    }
    if (row_ok) {
      values.push_back(static_cast<float>(q));
    }
  }

  if (line_no == 0) {
    problems.add(1, 1, "", fmt::format("empty file: want the header \"{}\" and rows", kHeader));
  } else if (values.empty() && problems.empty()) {
    problems.add(line_no, 1, "", "no data rows after the header");
  }
  if (!problems.empty()) {
    return tl::unexpected(std::move(problems).finish());
  }
  // The reserve above is sized for the shortest rows; typical rows ("3600,12.345") are twice
  // as long, and a trace lives as long as the simulation: keep only what it holds.
  values.shrink_to_fit();
  return Trace(std::move(values));
}

tl::expected<Trace, util::Diagnostics> load_trace(const std::string& path) {
  auto text = util::read_file(path, util::kMaxTraceFileBytes);
  if (!text) {
    return tl::unexpected(
        util::Diagnostics{util::Diagnostic{.file = path, .message = text.error().to_string()}});
  }
  return parse_trace(*text, path);
}

std::string to_csv(const Trace& trace) {
  std::string out(kHeader);
  out += '\n';
  out.reserve(trace.size() * 10 + out.size());
  std::size_t t = 0;
  for (float v : trace.per_second()) {
    fmt::format_to(std::back_inserter(out), "{},{}\n", t++, v);
  }
  return out;
}

}  // namespace qfscale::trace
