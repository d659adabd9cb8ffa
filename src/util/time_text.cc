#include "qfscale/util/time_text.h"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace qfscale::util {

namespace {

/// Unix seconds up to the year 9999: what RFC 3339 can also write.
constexpr std::int64_t kMaxUnixSeconds = 253402300799;

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  auto number = [&](std::size_t at, std::size_t len, int& out) {
    if (at + len > text.size()) return false;
    const char* first = text.data() + at;
    const auto [ptr, ec] = std::from_chars(first, first + len, out);
    return ec == std::errc{} && ptr == first + len && *first >= '0' && *first <= '9';
  };
  auto is = [&](std::size_t at, std::string_view chars) {
    return at < text.size() && chars.find(text[at]) != std::string_view::npos;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!number(0, 4, y) || !is(4, "-") || !number(5, 2, mo) || !is(7, "-") || !number(8, 2, d) ||
      !is(10, "Tt ") || !number(11, 2, h) || !is(13, ":") || !number(14, 2, mi) || !is(16, ":") ||
      !number(17, 2, s)) {
    return std::nullopt;
  }
  int offset = 0;
  if (text.size() == 20 && is(19, "Zz")) {
    offset = 0;
  } else if (text.size() == 25 && is(19, "+-") && is(22, ":")) {
    int oh = 0, om = 0;
    if (!number(20, 2, oh) || !number(23, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset = (oh * 60 + om) * 60 * (text[19] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month(unsigned(mo)),
                                         std::chrono::day(unsigned(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  const auto days = std::chrono::sys_days{date}.time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + h * 3600 + mi * 60 + s - offset;
}

}  // namespace

std::optional<std::int64_t> parse_wall_time(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t seconds = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || seconds > kMaxUnixSeconds) return std::nullopt;
    return seconds;
  }
  return parse_rfc3339(text);
}

std::string format_rfc3339(SystemTime at) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(at);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> tod{ms - day};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  tod.hours().count(), tod.minutes().count(), tod.seconds().count());
  // Milliseconds only when there are any, so whole-second stamps stay short.
  if (tod.subseconds().count() != 0) out += fmt::format(".{:03}", tod.subseconds().count());
  out.push_back('Z');
  return out;
}

}  // namespace qfscale::util
