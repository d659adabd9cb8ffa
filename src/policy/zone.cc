#include "qfscale/policy/zone.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

namespace qfscale::policy {

namespace {

using std::chrono::seconds;

constexpr std::size_t kHeaderSize = 44;
constexpr std::uint32_t kMaxCount = 1U << 20;  // far above any real zone, bounds memory use
constexpr std::int64_t kMaxOffset = std::int64_t{26} * 3600;

tl::unexpected<Error> bad(std::string_view name, std::string message) {
  return fail(ErrorCode::InvalidInput, fmt::format("time zone {}: {}", name, message));
}

/// Big-endian reader over the TZif bytes with bounds checks.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  [[nodiscard]] bool has(std::size_t n) const { return bytes_.size() - pos_ >= n; }
  [[nodiscard]] std::size_t pos() const { return pos_; }
  void skip(std::size_t n) { pos_ += n; }
  [[nodiscard]] std::uint64_t be(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v = (v << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
    }
    pos_ += n;
    return v;
  }
  [[nodiscard]] std::string_view rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

struct Header {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
  [[nodiscard]] std::size_t data_size(std::size_t time_size) const {
    return timecnt * time_size + timecnt + std::size_t{typecnt} * 6 + charcnt +
           leapcnt * (time_size + 4) + isstdcnt + isutcnt;
  }
};

std::optional<Header> read_header(Reader& r) {
  if (!r.has(kHeaderSize)) return std::nullopt;
  if (r.be(4) != 0x545A6966) return std::nullopt;  // "TZif"
  Header h;
  h.version = static_cast<char>(r.be(1));
  r.skip(15);
  h.isutcnt = static_cast<std::uint32_t>(r.be(4));
  h.isstdcnt = static_cast<std::uint32_t>(r.be(4));
  h.leapcnt = static_cast<std::uint32_t>(r.be(4));
  h.timecnt = static_cast<std::uint32_t>(r.be(4));
  h.typecnt = static_cast<std::uint32_t>(r.be(4));
  h.charcnt = static_cast<std::uint32_t>(r.be(4));
  return h;
}

std::int64_t to_signed(std::uint64_t v, std::size_t bytes) {
  if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

// ---- POSIX TZ footer (RFC 8536 section 3.3) --------------------------------------------------

struct RuleDate {
  char kind = 'M';  ///< 'J' (1..365, no Feb 29), 'N' (0..365), 'M' (month.week.day)
  int a = 0, b = 0, c = 0;
  std::int64_t time = 7200;  ///< seconds after local midnight
};

struct PosixTz {
  std::int64_t std_offset = 0;  ///< UTC offset (east positive)
  std::optional<std::int64_t> dst_offset;
  RuleDate start, end;
};

class TzParser {
 public:
  explicit TzParser(std::string_view s) : s_(s) {}

  std::optional<PosixTz> parse() {
    PosixTz tz;
    if (!name()) return std::nullopt;
    const auto std_off = offset(24);
    if (!std_off) return std::nullopt;
    tz.std_offset = -*std_off;
    if (done()) return tz;
    if (!name()) return std::nullopt;
    tz.dst_offset = tz.std_offset + 3600;
    if (!done() && peek() != ',') {
      const auto dst_off = offset(24);
      if (!dst_off) return std::nullopt;
      tz.dst_offset = -*dst_off;
    }
    if (done()) {
      // No rule: POSIX leaves it implementation-defined; US rules are the usual default, but a
      // TZif footer always carries the rule, so treat this as malformed.
      return std::nullopt;
    }
    if (!eat(',')) return std::nullopt;
    auto start = date();
    if (!start || !eat(',')) return std::nullopt;
    auto end = date();
    if (!end || !done()) return std::nullopt;
    tz.start = *start;
    tz.end = *end;
    return tz;
  }

 private:
  [[nodiscard]] bool done() const { return i_ >= s_.size(); }
  [[nodiscard]] char peek() const { return done() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  std::optional<int> number() {
    const auto start = i_;
    int v = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek())) && i_ - start < 4) {
      v = v * 10 + (s_[i_] - '0');
      ++i_;
    }
    if (i_ == start) return std::nullopt;
    return v;
  }
  bool name() {
    if (eat('<')) {
      const auto close = s_.find('>', i_);
      if (close == std::string_view::npos || close - i_ < 3) return false;
      i_ = close + 1;
      return true;
    }
    const auto start = i_;
    while (!done() && std::isalpha(static_cast<unsigned char>(peek()))) ++i_;
    return i_ - start >= 3;
  }
  /// [+-]hh[:mm[:ss]], west positive as POSIX writes it.
  std::optional<std::int64_t> offset(int max_hours) {
    int sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    const auto h = number();
    if (!h || *h > max_hours) return std::nullopt;
    std::int64_t v = std::int64_t{*h} * 3600;
    if (eat(':')) {
      const auto m = number();
      if (!m || *m > 59) return std::nullopt;
      v += std::int64_t{*m} * 60;
      if (eat(':')) {
        const auto sec = number();
        if (!sec || *sec > 59) return std::nullopt;
        v += *sec;
      }
    }
    return sign * v;
  }
  std::optional<RuleDate> date() {
    RuleDate d;
    if (eat('J')) {
      d.kind = 'J';
      const auto n = number();
      if (!n || *n < 1 || *n > 365) return std::nullopt;
      d.a = *n;
    } else if (eat('M')) {
      const auto m = number();
      if (!m || *m < 1 || *m > 12 || !eat('.')) return std::nullopt;
      const auto w = number();
      if (!w || *w < 1 || *w > 5 || !eat('.')) return std::nullopt;
      const auto wd = number();
      if (!wd || *wd > 6) return std::nullopt;
      d.a = *m;
      d.b = *w;
      d.c = *wd;
    } else {
      d.kind = 'N';
      const auto n = number();
      if (!n || *n > 365) return std::nullopt;
      d.a = *n;
    }
    if (eat('/')) {
      const auto t = offset(167);  // RFC 8536 extension: -167..167 hours
      if (!t) return std::nullopt;
      d.time = *t;
    }
    return d;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

/// Local midnight (as if UTC) of the rule's day in `year`.
std::chrono::sys_days rule_day(const RuleDate& d, std::chrono::year year) {
  using namespace std::chrono;
  const sys_days jan1{year / January / 1};
  switch (d.kind) {
    case 'J': {
      auto day = jan1 + days{d.a - 1};
      if (year.is_leap() && d.a >= 60) day += days{1};
      return day;
    }
    case 'N':
      return jan1 + days{d.a};
    default: {
      const auto m = month{static_cast<unsigned>(d.a)};
      const auto wd = weekday{static_cast<unsigned>(d.c)};
      if (d.b == 5) return sys_days{year / m / wd[last]};
      return sys_days{year / m / wd[static_cast<unsigned>(d.b)]};
    }
  }
}

void extend_with_rule(const PosixTz& tz, ZoneRules& rules) {
  using namespace std::chrono;
  if (!tz.dst_offset) return;
  const SysSeconds after =
      rules.transitions.empty() ? SysSeconds{seconds{0}} : rules.transitions.back().at;
  const auto first_year = year_month_day{floor<days>(after)}.year();
  std::vector<ZoneRules::Transition> extra;
  for (auto y = first_year; y <= year{kZoneRulesLastYear}; ++y) {
    // Start is written in standard local time, end in daylight local time.
    const SysSeconds start =
        SysSeconds{rule_day(tz.start, y)} + seconds{tz.start.time - tz.std_offset};
    const SysSeconds end = SysSeconds{rule_day(tz.end, y)} + seconds{tz.end.time - *tz.dst_offset};
    extra.push_back({start, seconds{*tz.dst_offset}});
    extra.push_back({end, seconds{tz.std_offset}});
  }
  std::sort(extra.begin(), extra.end(), [](const auto& x, const auto& y) { return x.at < y.at; });
  for (const auto& t : extra) {
    if (t.at <= after) continue;
    const auto current =
        rules.transitions.empty() ? rules.initial_offset : rules.transitions.back().offset;
    if (t.offset != current) rules.transitions.push_back(t);
  }
}

}  // namespace

ZoneRules utc_zone() { return ZoneRules{.name = "UTC", .initial_offset = seconds{0}}; }

Result<ZoneRules> parse_tzif(std::string_view name, std::string_view bytes) {
  Reader r(bytes);
  auto header = read_header(r);
  if (!header) return bad(name, "not a TZif file (missing 'TZif' header)");
  if (header->version != '\0' && (header->version < '2' || header->version > '9')) {
    return bad(name,
               fmt::format("unknown TZif version byte {}", static_cast<int>(header->version)));
  }
  std::size_t time_size = 4;
  if (header->version != '\0') {
    // Skip the 32-bit block; the 64-bit one follows with its own header.
    if (header->timecnt > kMaxCount || header->typecnt > kMaxCount || header->charcnt > kMaxCount ||
        header->leapcnt > kMaxCount || header->isstdcnt > kMaxCount ||
        header->isutcnt > kMaxCount) {
      return bad(name, "TZif counts are implausibly large");
    }
    const auto skip = header->data_size(4);
    if (!r.has(skip)) return bad(name, "TZif file is truncated (version 1 block)");
    r.skip(skip);
    header = read_header(r);
    if (!header) return bad(name, "TZif file has no second header");
    time_size = 8;
  }
  const auto& h = *header;
  if (h.timecnt > kMaxCount || h.typecnt > kMaxCount || h.charcnt > kMaxCount ||
      h.leapcnt > kMaxCount || h.isstdcnt > kMaxCount || h.isutcnt > kMaxCount) {
    return bad(name, "TZif counts are implausibly large");
  }
  if (h.typecnt == 0) return bad(name, "TZif file has no local time types");
  if (!r.has(h.data_size(time_size))) return bad(name, "TZif file is truncated");

  std::vector<std::int64_t> times(h.timecnt);
  for (auto& t : times) t = to_signed(r.be(time_size), time_size);
  std::vector<std::size_t> indices(h.timecnt);
  for (auto& i : indices) {
    i = static_cast<std::size_t>(r.be(1));
    if (i >= h.typecnt) return bad(name, "TZif transition refers to a missing local time type");
  }
  std::vector<std::int64_t> offsets(h.typecnt);
  for (auto& o : offsets) {
    o = to_signed(r.be(4), 4);
    r.skip(2);  // isdst, desigidx
    if (o <= -kMaxOffset || o >= kMaxOffset) {
      return bad(name, fmt::format("TZif UTC offset {}s is out of range", o));
    }
  }
  r.skip(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt);

  ZoneRules rules{.name = std::string(name), .initial_offset = seconds{offsets[0]}};
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (i > 0 && times[i] <= times[i - 1]) {
      return bad(name, "TZif transition times are not in ascending order");
    }
    const seconds offset{offsets[indices[i]]};
    const auto current =
        rules.transitions.empty() ? rules.initial_offset : rules.transitions.back().offset;
    if (offset != current) rules.transitions.push_back({SysSeconds{seconds{times[i]}}, offset});
  }

  if (time_size == 8) {
    // Footer: "\n<POSIX TZ string>\n", possibly empty.
    const auto footer = r.rest();
    if (footer.size() >= 2 && footer.front() == '\n') {
      const auto close = footer.find('\n', 1);
      if (close != std::string_view::npos) {
        const auto tz_text = footer.substr(1, close - 1);
        if (!tz_text.empty()) {
          const auto tz = TzParser(tz_text).parse();
          if (!tz)
            return bad(name, fmt::format("TZif footer '{}' is not a valid TZ rule", tz_text));
          if (!tz->dst_offset && rules.transitions.empty()) {
            rules.initial_offset = seconds{tz->std_offset};
          }
          extend_with_rule(*tz, rules);
        }
      }
    }
  }
  return rules;
}

}  // namespace qfscale::policy
