#include "qfscale/demand/promql_span.h"

#include <cmath>
#include <cstdint>

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

}  // namespace

std::optional<std::chrono::seconds> promql_duration(std::string_view text) {
  double total = 0;
  double last_unit = 1e300;  // units must descend: "1m1h" is not a duration
  if (text.empty()) return std::nullopt;
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
  const double rounded = std::round(total);
  if (rounded < 1) return std::nullopt;
  return std::chrono::seconds{static_cast<std::int64_t>(rounded)};
}

std::optional<std::chrono::seconds> query_span(std::string_view promql) {
  std::optional<std::chrono::seconds> span;
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
    if (c != '[') continue;
    const auto close = promql.find(']', i);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view inside = promql.substr(i + 1, close - i - 1);
    while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
    while (!inside.empty() && inside.back() == ' ') inside.remove_suffix(1);
    const auto range = promql_duration(inside);  // a subquery's "5m:15s" is no duration
    if (!range || (span && *span != *range)) return std::nullopt;
    span = range;
    i = close;
  }
  return span;
}

}  // namespace qfscale::demand
