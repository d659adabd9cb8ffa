#include "qfscale/policy/schedule.h"

#include <algorithm>
#include <bitset>
#include <cstddef>

namespace qfscale::policy {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;

/// Largest set bit at or below `at`, or -1.
template <std::size_t N>
int highest_at_or_below(const std::bitset<N>& bits, int at) {
  for (int i = std::min(at, static_cast<int>(N) - 1); i >= 0; --i) {
    if (bits.test(static_cast<std::size_t>(i))) return i;
  }
  return -1;
}

/// The latest local wall-clock minute matching `cron` within [local_lo, local_hi] (both given as
/// local time in a sys_seconds). Walks back one local day at a time; inside a day the answer is
/// the highest allowed hour and minute, so the cost is one step per day, not per minute.
std::optional<SysSeconds> latest_local_match(const CronSpec& cron, SysSeconds local_lo,
                                             SysSeconds local_hi) {
  if (local_hi < local_lo) return std::nullopt;
  const auto start = floor<minutes>(local_hi);
  const sys_days first_day = floor<days>(start);
  const sys_days last_day = floor<days>(local_lo);
  const auto start_minute_of_day = static_cast<int>((start - first_day).count());
  for (sys_days day = first_day; day >= last_day; day -= days{1}) {
    if (!cron_day_matches(cron, day)) continue;
    const bool first = day == first_day;
    int hour_cap = first ? start_minute_of_day / 60 : 23;
    while (hour_cap >= 0) {
      const int h = highest_at_or_below(cron.hours, hour_cap);
      if (h < 0) break;
      const int minute_cap =
          (first && h == start_minute_of_day / 60) ? start_minute_of_day % 60 : 59;
      const int m = highest_at_or_below(cron.minutes, minute_cap);
      if (m >= 0) {
        const SysSeconds candidate = day + hours{h} + minutes{m};
        // Every other candidate is earlier still, so below the range means none.
        if (candidate < local_lo) return std::nullopt;
        return candidate;
      }
      hour_cap = h - 1;
    }
  }
  return std::nullopt;
}

}  // namespace

bool cron_day_matches(const CronSpec& cron, sys_days local_day) {
  const std::chrono::year_month_day ymd{local_day};
  const auto month = static_cast<unsigned>(ymd.month());
  if (!cron.months.test(month)) return false;
  const auto dom = static_cast<unsigned>(ymd.day());
  const auto dow = std::chrono::weekday{local_day}.c_encoding();  // 0 = Sunday
  const bool dom_hit = cron.days_of_month.test(dom);
  const bool dow_hit = cron.days_of_week.test(dow);
  if (cron.day_of_month_restricted && cron.day_of_week_restricted) return dom_hit || dow_hit;
  // An unrestricted field is a wildcard whatever its bits say.
  return (!cron.day_of_month_restricted || dom_hit) && (!cron.day_of_week_restricted || dow_hit);
}

std::optional<SysSeconds> last_fire_time(const CronSpec& cron, const ZoneRules& zone,
                                         SysSeconds now, SysSeconds not_before) {
  if (now < not_before) return std::nullopt;
  // Walk the zone's constant-offset segments backwards from the one holding `now`. Inside a
  // segment with offset o, UTC t fires iff local t + o matches, so search local [lo+o, hi+o].
  const auto& tr = zone.transitions;
  auto idx =
      static_cast<std::ptrdiff_t>(
          std::upper_bound(tr.begin(), tr.end(), now,
                           [](SysSeconds t, const ZoneRules::Transition& x) { return t < x.at; }) -
          tr.begin()) -
      1;
  SysSeconds hi = now;
  while (true) {
    const bool has_start = idx >= 0;
    const auto offset = has_start ? tr[static_cast<std::size_t>(idx)].offset : zone.initial_offset;
    const SysSeconds seg_start = has_start ? tr[static_cast<std::size_t>(idx)].at : not_before;
    const SysSeconds lo = std::max(seg_start, not_before);
    if (lo <= hi) {
      if (auto local = latest_local_match(cron, lo + offset, hi + offset)) return *local - offset;
    }
    if (!has_start || seg_start <= not_before) return std::nullopt;
    hi = seg_start - std::chrono::seconds{1};
    --idx;
  }
}

bool schedule_active(const Schedule& schedule, SysSeconds now) {
  if (schedule.duration.count() <= 0) return false;
  // t <= now < t + duration  <=>  now - duration < t <= now; with whole seconds, t >= now - d + 1s.
  const SysSeconds not_before = now - schedule.duration + std::chrono::seconds{1};
  return last_fire_time(schedule.cron, schedule.zone, now, not_before).has_value();
}

}  // namespace qfscale::policy
