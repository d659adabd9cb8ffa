#include "qfscale/policy/duration.h"

#include <fmt/format.h>

namespace qfscale::policy {

tl::expected<std::chrono::seconds, std::string> parse_duration(std::string_view text) {
  auto parsed = util::parse_duration(text, util::DurationPrecision::Seconds);
  if (!parsed) return tl::unexpected(std::move(parsed.error()));
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed);
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
