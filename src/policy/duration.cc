#include "qfscale/policy/duration.h"

#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include "qfscale/util/redact.h"

namespace qfscale::policy {

namespace {
constexpr std::string_view kAllowed = "must be a duration such as 90s, 5m or 1h30m";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

tl::expected<std::chrono::seconds, std::string> parse_duration(std::string_view text) {
  using Unexpected = tl::unexpected<std::string>;
  if (text.empty()) return Unexpected(fmt::format("is empty, {}", kAllowed));
  if (text.front() == '-') return Unexpected(fmt::format("is negative, {}", kAllowed));
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    std::int64_t number = 0;
    while (i < text.size() && is_digit(text[i])) {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxDuration.count()) {
        return Unexpected(
            fmt::format("is too long, must be at most {}", format_duration(kMaxDuration)));
      }
      ++i;
    }
    if (i == start) {
      return Unexpected(fmt::format("has '{}' where a number was expected, {}",
                                    util::excerpt(text.substr(i, 1)), kAllowed));
    }
    if (i == text.size()) {
      return Unexpected(start == 0 ? fmt::format("has no unit, {}", kAllowed)
                                   : fmt::format("ends without a unit, {}", kAllowed));
    }
    if (text[i] == '.') return Unexpected(fmt::format("is fractional, {}", kAllowed));
    std::size_t unit_end = i;
    while (unit_end < text.size() && !is_digit(text[unit_end])) ++unit_end;
    const std::string_view unit = text.substr(i, unit_end - i);
    std::int64_t scale = 0;
    if (unit == "h") {
      scale = 3600;
    } else if (unit == "m") {
      scale = 60;
    } else if (unit == "s") {
      scale = 1;
    } else {
      return Unexpected(fmt::format("has unknown unit '{}', {} (units h, m, s; whole seconds)",
                                    util::excerpt(unit), kAllowed));
    }
    total += number * scale;
    if (total > kMaxDuration.count()) {
      return Unexpected(
          fmt::format("is too long, must be at most {}", format_duration(kMaxDuration)));
    }
    i = unit_end;
  }
  return std::chrono::seconds{total};
}

std::string format_duration(std::chrono::seconds d) {
  auto s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  const auto hours = s / 3600;
  const auto minutes = (s % 3600) / 60;
  const auto seconds = s % 60;
  if (hours != 0) out += fmt::format("{}h", hours);
  if (minutes != 0) out += fmt::format("{}m", minutes);
  if (seconds != 0) out += fmt::format("{}s", seconds);
  return out;
}

}  // namespace qfscale::policy
