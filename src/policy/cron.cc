#include "qfscale/policy/cron.h"

#include <array>
#include <bitset>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "qfscale/util/redact.h"

namespace qfscale::policy {

namespace {

struct Field {
  std::string_view name;
  int low;
  int high;  ///< inclusive; day-of-week allows 7 (folded to Sunday)
  const std::array<std::string_view, 12>* names;  ///< names[i] is value i + name_base
  int name_base;
  int name_count;
};

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 12> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI",
                                                        "SAT", "",    "",    "",    "",    ""};

constexpr std::array<Field, 5> kFields = {{
    {"minute", 0, 59, nullptr, 0, 0},
    {"hour", 0, 23, nullptr, 0, 0},
    {"day-of-month", 1, 31, nullptr, 0, 0},
    {"month", 1, 12, &kMonthNames, 1, 12},
    {"day-of-week", 0, 7, &kDayNames, 0, 7},
}};

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<int> parse_number(std::string_view s) {
  int v = 0;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return v;
}

std::string allowed(const Field& f) {
  std::string out = fmt::format("{}-{}", f.low, f.high);
  if (f.names != nullptr) {
    out += fmt::format(" or {}-{}", (*f.names)[0],
                       (*f.names)[static_cast<std::size_t>(f.name_count - 1)]);
  }
  return out;
}

/// A single value: a number in range or (for month and day-of-week) a name.
std::optional<int> parse_value(const Field& f, std::string_view s, std::vector<std::string>& errs) {
  if (auto n = parse_number(s)) {
    if (*n < f.low || *n > f.high) {
      errs.push_back(fmt::format("{}: {} is out of range, must be in {}", f.name, util::excerpt(s),
                                 allowed(f)));
      return std::nullopt;
    }
    return n;
  }
  if (f.names != nullptr) {
    const auto u = upper(s);
    for (int i = 0; i < f.name_count; ++i) {
      if ((*f.names)[static_cast<std::size_t>(i)] == u) return i + f.name_base;
    }
  }
  errs.push_back(fmt::format("{}: '{}' is not a number{}, must be in {}", f.name, util::excerpt(s),
                             f.names != nullptr ? " or name" : "", allowed(f)));
  return std::nullopt;
}

/// Sets the bits of one field; returns false (with messages) on any bad item.
bool parse_field(const Field& f, std::string_view text, std::bitset<64>& bits,
                 std::vector<std::string>& errs) {
  bool ok = true;
  std::size_t pos = 0;
  while (true) {
    const auto comma = text.find(',', pos);
    const auto item = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) {
      errs.push_back(fmt::format("{}: empty list item in '{}'", f.name, util::excerpt(text)));
      ok = false;
    } else {
      std::string_view base = item;
      int step = 1;
      bool has_step = false;
      if (const auto slash = item.find('/'); slash != std::string_view::npos) {
        base = item.substr(0, slash);
        const auto step_text = item.substr(slash + 1);
        const auto n = parse_number(step_text);
        has_step = true;
        if (!n || *n < 1 || *n > f.high) {
          errs.push_back(fmt::format("{}: step '{}' in '{}' is invalid, must be in 1-{}", f.name,
                                     util::excerpt(step_text), util::excerpt(item), f.high));
          ok = false;
          step = 0;
        } else {
          step = *n;
        }
      }
      std::optional<int> low;
      std::optional<int> high;
      if (base == "*") {
        low = f.low;
        high = f.high;
      } else if (const auto dash = base.find('-'); dash != std::string_view::npos) {
        low = parse_value(f, base.substr(0, dash), errs);
        high = parse_value(f, base.substr(dash + 1), errs);
        if (low && high && *low > *high) {
          errs.push_back(fmt::format("{}: range '{}' is backwards, must be low-high", f.name,
                                     util::excerpt(base)));
          low.reset();
        }
      } else {
        low = parse_value(f, base, errs);
        high = low;
        if (has_step && low) {
          errs.push_back(fmt::format("{}: step needs a range or *, got '{}' (use {}-{}/{})", f.name,
                                     util::excerpt(item), util::excerpt(base), f.high, step));
          low.reset();
        }
      }
      if (!low || !high || step == 0) {
        ok = false;
      } else {
        for (int v = *low; v <= *high; v += step) bits.set(static_cast<std::size_t>(v));
      }
    }
    if (pos > text.size()) break;
  }
  return ok;
}

std::optional<std::string_view> expand_macro(std::string_view text) {
  struct Macro {
    std::string_view name;
    std::string_view expansion;
  };
  constexpr std::array<Macro, 7> kMacros = {{
      {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"},
      {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},
      {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  }};
  for (const auto& m : kMacros) {
    if (m.name == text) return m.expansion;
  }
  return std::nullopt;
}

template <std::size_t N>
std::bitset<N> narrow(const std::bitset<64>& bits) {
  std::bitset<N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = bits[i];
  return out;
}

}  // namespace

tl::expected<CronSpec, std::vector<std::string>> parse_cron(std::string_view text) {
  std::vector<std::string> errs;
  std::string_view body = text;
  // Trim surrounding blanks.
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) {
    body.remove_prefix(1);
  }
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
    body.remove_suffix(1);
  }
  if (!body.empty() && body.front() == '@') {
    const auto expansion = expand_macro(body);
    if (!expansion) {
      errs.push_back(fmt::format(
          "unknown macro '{}', must be one of @yearly, @annually, @monthly, @weekly, @daily, "
          "@midnight, @hourly",
          util::excerpt(body)));
      return tl::unexpected(std::move(errs));
    }
    body = *expansion;
  }
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < body.size()) {
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    const auto start = i;
    while (i < body.size() && !std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    if (i > start) parts.push_back(body.substr(start, i - start));
  }
  if (parts.size() != kFields.size()) {
    errs.push_back(fmt::format(
        "has {} fields, must have 5 (minute hour day-of-month month day-of-week)", parts.size()));
    return tl::unexpected(std::move(errs));
  }
  std::array<std::bitset<64>, 5> bits;
  for (std::size_t f = 0; f < kFields.size(); ++f) {
    parse_field(kFields[f], parts[f], bits[f], errs);
  }
  if (!errs.empty()) return tl::unexpected(std::move(errs));

  CronSpec spec;
  spec.text = std::string(text);
  spec.minutes = narrow<60>(bits[0]);
  spec.hours = narrow<24>(bits[1]);
  spec.days_of_month = narrow<32>(bits[2]);
  spec.months = narrow<13>(bits[3]);
  auto dow = bits[4];
  if (dow[7]) dow.set(0);  // 7 is Sunday too
  spec.days_of_week = narrow<7>(dow);
  // Vixie cron: a day field is "restricted" unless it starts with '*' (so "*/2" is not).
  spec.day_of_month_restricted = parts[2].front() != '*';
  spec.day_of_week_restricted = parts[4].front() != '*';
  return spec;
}

}  // namespace qfscale::policy
