#include "demand/prometheus_text.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace qfscale::demand::detail {

/// The start of a body for a message: at most 120 bytes, control characters as spaces.
std::string snippet(std::string_view body) {
  constexpr std::size_t kMax = 120;
  std::string out(body.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) {
      c = ' ';
    }
  }
  if (body.size() > kMax) {
    out += "...";
  }
  return out;
}

/// Prometheus writes sample values with Go's FormatFloat: "1.5", "NaN", "+Inf", "-Inf";
/// other implementations may use exponents. Returns nullopt when the text is not a number.
std::optional<double> parse_sample_value(std::string_view text) {
  if (text == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (text == "+Inf" || text == "Inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-Inf") {
    return -std::numeric_limits<double>::infinity();
  }
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return v;
}

namespace {

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4U];
      out += kHex[byte & 0x0FU];
    }
  }
  return out;
}

std::string format_unix_seconds(util::SystemTime t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const auto secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  auto frac = ms - secs * 1000;
  if (frac == 0) {
    return fmt::format("{}", secs);
  }
  std::string digits = fmt::format("{:03}", frac);
  while (digits.back() == '0') {
    digits.pop_back();
  }
  return fmt::format("{}.{}", secs, digits);
}

}  // namespace qfscale::demand::detail
