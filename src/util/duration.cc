#include "qfscale/util/duration.h"

#include <cstdint>

#include <fmt/format.h>

#include "qfscale/util/redact.h"

namespace qfscale::util {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view allowed(DurationPrecision precision) {
  return precision == DurationPrecision::Seconds
             ? "must be a duration such as 90s, 5m or 1h30m"
             : "must be a duration such as 500ms, 90s, 5m or 1h30m";
}

std::string max_text() { return fmt::format("{}h", kMaxDuration.count() / 3600); }

}  // namespace

tl::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text,
                                                                    DurationPrecision precision) {
  using Unexpected = tl::unexpected<std::string>;
  const auto kAllowed = allowed(precision);
  const std::int64_t max_ms = kMaxDuration.count() * 1000;
  if (text.empty()) return Unexpected(fmt::format("is empty, {}", kAllowed));
  if (text.front() == '-') return Unexpected(fmt::format("is negative, {}", kAllowed));
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    std::int64_t number = 0;
    while (i < text.size() && is_digit(text[i])) {
      number = number * 10 + (text[i] - '0');
      if (number > max_ms) {
        return Unexpected(fmt::format("is too long, must be at most {}", max_text()));
      }
      ++i;
    }
    if (i == start) {
      return Unexpected(fmt::format("has '{}' where a number was expected, {}",
                                    excerpt(text.substr(i, 1)), kAllowed));
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
      scale = 3'600'000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "ms" && precision == DurationPrecision::Milliseconds) {
      scale = 1;
    } else {
      return Unexpected(fmt::format("has unknown unit '{}', {} ({})", excerpt(unit), kAllowed,
                                    precision == DurationPrecision::Seconds
                                        ? "units h, m, s; whole seconds"
                                        : "units h, m, s, ms"));
    }
    total += number * scale;
    if (total > max_ms) {
      return Unexpected(fmt::format("is too long, must be at most {}", max_text()));
    }
    i = unit_end;
  }
  return std::chrono::milliseconds{total};
}

}  // namespace qfscale::util
