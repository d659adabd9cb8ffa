#include "qfscale/demand/promql_span.h"

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

namespace qfscale::demand {

namespace {

struct Unit {
  std::string_view name;
  double seconds;
};
// Longest names first, so "ms" is not read as "m" followed by "s".
constexpr Unit kUnits[] = {{"ms", 0.001}, {"y", 365 * 86400.0}, {"w", 7 * 86400.0}, {"d", 86400.0},
                           {"h", 3600.0}, {"m", 60.0},          {"s", 1.0}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_name(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

/// The functions whose value is the mean rate over their range (increase: the count over it).
bool averages_its_range(std::string_view function) {
  return function == "rate" || function == "increase" || function == "avg_over_time";
}

}  // namespace

std::optional<std::chrono::seconds> promql_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const auto whole = [](double seconds) -> std::optional<std::chrono::seconds> {
    const double rounded = std::round(seconds);
    if (!(rounded >= 1)) return std::nullopt;
    return std::chrono::seconds{static_cast<std::int64_t>(rounded)};
  };
  // A plain number is seconds (Prometheus 3): "300", "1.5".
  if (text.find_first_not_of("0123456789.") == std::string_view::npos) {
    const auto dot = text.find('.');
    if (dot == 0 || dot + 1 == text.size() || text.find('.', dot + 1) != std::string_view::npos ||
        text.size() > 15) {
      return std::nullopt;
    }
    double seconds = 0;
    double scale = 1;
    for (const char c : text) {
      if (c == '.') {
        scale = 0.1;
      } else if (scale == 1) {
        seconds = seconds * 10 + (c - '0');
      } else {
        seconds += scale * (c - '0');
        scale /= 10;
      }
    }
    return whole(seconds);
  }
  double total = 0;
  double last_unit = 1e300;  // units must descend: "1m1h" is not a duration
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && is_digit(text[digits])) ++digits;
    if (digits == 0 || digits > 12) return std::nullopt;
    double value = 0;
    for (std::size_t i = 0; i < digits; ++i) value = value * 10 + (text[i] - '0');
    text.remove_prefix(digits);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (text.starts_with(u.name)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr || !(unit->seconds < last_unit)) return std::nullopt;
    last_unit = unit->seconds;
    total += value * unit->seconds;
    text.remove_prefix(unit->name.size());
  }
  return whole(total);
}

std::optional<std::chrono::seconds> query_span(std::string_view promql) {
  std::optional<std::chrono::seconds> span;
  std::vector<std::string_view> calls;  // the function of each open parenthesis ("" if none)
  for (std::size_t i = 0; i < promql.size(); ++i) {
    const char c = promql[i];
    if (c == '"' || c == '\'' || c == '`') {
      // A string: backquoted ones have no escapes, the others skip an escaped character.
      for (++i; i < promql.size() && promql[i] != c; ++i) {
        if (c != '`' && promql[i] == '\\') ++i;
      }
      continue;
    }
    if (c == '#') {  // a comment runs to the end of the line
      while (i < promql.size() && promql[i] != '\n') ++i;
      continue;
    }
    if (c == '(') {
      std::size_t end = i;
      while (end > 0 && is_space(promql[end - 1])) --end;
      std::size_t begin = end;
      while (begin > 0 && is_name(promql[begin - 1])) --begin;
      calls.push_back(promql.substr(begin, end - begin));
      continue;
    }
    if (c == ')') {
      if (!calls.empty()) calls.pop_back();
      continue;
    }
    if (c != '[') continue;
    const auto close = promql.find(']', i);
    if (close == std::string_view::npos) return std::nullopt;
    // Only a rate or an average is a mean over its range: irate, max_over_time and the like
    // are not, so their values have no span to read.
    if (calls.empty() || !averages_its_range(calls.back())) return std::nullopt;
    std::string_view inside = promql.substr(i + 1, close - i - 1);
    while (!inside.empty() && is_space(inside.front())) inside.remove_prefix(1);
    while (!inside.empty() && is_space(inside.back())) inside.remove_suffix(1);
    const auto range = promql_duration(inside);  // a subquery's "5m:15s" is no duration
    if (!range || (span && *span != *range)) return std::nullopt;
    span = range;
    i = close;
  }
  return span;
}

}  // namespace qfscale::demand
