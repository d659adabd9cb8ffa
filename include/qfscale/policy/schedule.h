#pragma once

/// Schedules: cron fire times in a time zone, and whether a schedule's window is open.
///
/// A cron expression fires at every UTC instant `t` (whole minute) whose local wall-clock time,
/// `t + zone.offset_at(t)`, matches the expression. So in a spring-forward gap the skipped local
/// minutes never fire, and in a fall-back overlap a repeated local minute fires twice (once per
/// offset). Pure: no clock reads, no tz database access (the loader resolved `ZoneRules`).

#include <optional>

#include "qfscale/policy/policy.h"

namespace qfscale::policy {

/// True when the local calendar day (days since 1970-01-01 in local time) matches the day-of-month,
/// month and day-of-week fields (Vixie cron: if both day fields are restricted, either may match).
[[nodiscard]] bool cron_day_matches(const CronSpec& cron, std::chrono::sys_days local_day);

/// The latest fire time `t` with `not_before <= t <= now`, or empty when there is none.
/// Cost: proportional to the number of local days in [not_before, now] plus the zone transitions
/// in that range, never to the number of minutes.
[[nodiscard]] std::optional<SysSeconds> last_fire_time(const CronSpec& cron, const ZoneRules& zone,
                                                       SysSeconds now, SysSeconds not_before);

/// Active when a fire time `t` exists with `t <= now < t + duration`.
[[nodiscard]] bool schedule_active(const Schedule& schedule, SysSeconds now);

}  // namespace qfscale::policy
