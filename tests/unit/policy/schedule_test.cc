// Cron fire times in a zone and schedule windows. CronSpec and ZoneRules are built by hand (the
// parser and the tz loader are tested elsewhere). 2024-01-01 is a Monday.

#include "qfscale/policy/schedule.h"

#include <initializer_list>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/util/random.h"

namespace qfscale::policy {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

/// An empty list is "*": every bit set and the field unrestricted, as the parser produces.
CronSpec cron(std::initializer_list<int> minutes, std::initializer_list<int> hours,
              std::initializer_list<int> dom = {}, std::initializer_list<int> months = {},
              std::initializer_list<int> dow = {}) {
  CronSpec c;
  auto fill = [](auto& bits, std::initializer_list<int> values, int lo, int hi) {
    if (values.size() == 0) {
      for (int i = lo; i <= hi; ++i) bits.set(static_cast<std::size_t>(i));
    }
    for (int v : values) bits.set(static_cast<std::size_t>(v));
    return values.size() != 0;
  };
  fill(c.minutes, minutes, 0, 59);
  fill(c.hours, hours, 0, 23);
  c.day_of_month_restricted = fill(c.days_of_month, dom, 1, 31);
  fill(c.months, months, 1, 12);
  c.day_of_week_restricted = fill(c.days_of_week, dow, 0, 6);
  return c;
}

SysSeconds utc(int y, unsigned m, unsigned d, int h, int mi, int s = 0) {
  return sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

const ZoneRules kShanghai{.name = "Asia/Shanghai", .initial_offset = 8h, .transitions = {}};
const ZoneRules kUtc{.name = "UTC", .initial_offset = 0s, .transitions = {}};
/// Central European rules for 2024, by hand: +1h, +2h from 2024-03-31 01:00 UTC (local 02:00
/// jumps to 03:00), +1h again from 2024-10-27 01:00 UTC (local 03:00 falls back to 02:00).
const ZoneRules kCet{.name = "Test/CET",
                     .initial_offset = 1h,
                     .transitions = {{.at = utc(2024, 3, 31, 1, 0), .offset = 2h},
                                     {.at = utc(2024, 10, 27, 1, 0), .offset = 1h}}};

TEST_SUITE("policy") {
  TEST_CASE("schedule: weekdays 09:00 for 10 h in Asia/Shanghai (+8 h)") {
    const Schedule s{
        .cron = cron({0}, {9}, {}, {}, {1, 2, 3, 4, 5}), .duration = 10h, .zone = kShanghai};
    struct Case {
      std::string_view name;
      SysSeconds now;
      bool active;
    };
    // 09:00 local = 01:00 UTC; 19:00 local = 11:00 UTC
    const Case cases[] = {
        {.name = "Mon 08:59:59 local", .now = utc(2024, 1, 1, 0, 59, 59), .active = false},
        {.name = "Mon 09:00:00 local", .now = utc(2024, 1, 1, 1, 0, 0), .active = true},
        {.name = "Mon 18:59:59 local", .now = utc(2024, 1, 1, 10, 59, 59), .active = true},
        {.name = "Mon 19:00:00 local: end is exclusive",
         .now = utc(2024, 1, 1, 11, 0, 0),
         .active = false},
        {.name = "Fri 13:00 local", .now = utc(2024, 1, 5, 5, 0), .active = true},
        {.name = "Sat 09:00 local", .now = utc(2024, 1, 6, 1, 0), .active = false},
        {.name = "Sun 12:00 local", .now = utc(2024, 1, 7, 4, 0), .active = false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(schedule_active(s, c.now) == c.active);
    }
  }

  TEST_CASE("schedule: the local day decides, not the UTC day") {
    // Mondays 07:00 Shanghai = Sundays 23:00 UTC
    const CronSpec monday_seven = cron({0}, {7}, {}, {}, {1});
    CHECK(last_fire_time(monday_seven, kShanghai, utc(2023, 12, 31, 23, 30),
                         utc(2023, 12, 31, 0, 0)) == utc(2023, 12, 31, 23, 0));
    CHECK(schedule_active({.cron = monday_seven, .duration = 1h, .zone = kShanghai},
                          utc(2023, 12, 31, 23, 0)));
    CHECK_FALSE(schedule_active({.cron = monday_seven, .duration = 1h, .zone = kUtc},
                                utc(2023, 12, 31, 23, 0)));
  }

  TEST_CASE("schedule: a window that crosses midnight") {
    const Schedule s{.cron = cron({0}, {22}), .duration = 4h, .zone = kUtc};
    CHECK_FALSE(schedule_active(s, utc(2024, 1, 1, 21, 59, 59)));
    CHECK(schedule_active(s, utc(2024, 1, 1, 22, 0)));
    CHECK(schedule_active(s, utc(2024, 1, 2, 1, 59, 59)));  // 22:00 + 4 h = 02:00
    CHECK_FALSE(schedule_active(s, utc(2024, 1, 2, 2, 0)));
  }

  TEST_CASE("schedule: daylight saving, skipped and repeated local times") {
    const CronSpec half_past_two = cron({30}, {2});
    // 2024-03-31: local 02:30 does not exist; the latest fire is 03-30 02:30 (+1) = 01:30 UTC.
    CHECK(last_fire_time(half_past_two, kCet, utc(2024, 3, 31, 12, 0), utc(2024, 3, 28, 0, 0)) ==
          utc(2024, 3, 30, 1, 30));
    // 2024-10-27: local 02:30 happens at 00:30 UTC (+2) and again at 01:30 UTC (+1).
    CHECK(last_fire_time(half_past_two, kCet, utc(2024, 10, 27, 1, 29), utc(2024, 10, 26, 0, 0)) ==
          utc(2024, 10, 27, 0, 30));
    CHECK(last_fire_time(half_past_two, kCet, utc(2024, 10, 27, 1, 30), utc(2024, 10, 26, 0, 0)) ==
          utc(2024, 10, 27, 1, 30));

    // 09:00 local for 1 h: 08:00 UTC in winter, 07:00 UTC in summer
    const Schedule nine{.cron = cron({0}, {9}), .duration = 1h, .zone = kCet};
    CHECK_FALSE(schedule_active(nine, utc(2024, 3, 29, 7, 59, 59)));
    CHECK(schedule_active(nine, utc(2024, 3, 29, 8, 0)));
    CHECK_FALSE(schedule_active(nine, utc(2024, 4, 1, 6, 59, 59)));
    CHECK(schedule_active(nine, utc(2024, 4, 1, 7, 0)));
    CHECK_FALSE(schedule_active(nine, utc(2024, 4, 1, 8, 0)));
  }

  TEST_CASE("schedule: day-of-month and day-of-week, either matches when both are restricted") {
    struct Case {
      std::string_view name;
      CronSpec cron;
      SysSeconds now;
      bool active;
    };
    const Case cases[] = {
        // "0 0 1 * 1": the 1st or a Monday
        {.name = "both: Tuesday 2nd",
         .cron = cron({0}, {0}, {1}, {}, {1}),
         .now = utc(2024, 1, 2, 0, 30),
         .active = false},
        {.name = "both: Thursday 1st",
         .cron = cron({0}, {0}, {1}, {}, {1}),
         .now = utc(2024, 2, 1, 0, 30),
         .active = true},
        {.name = "both: Monday 8th",
         .cron = cron({0}, {0}, {1}, {}, {1}),
         .now = utc(2024, 1, 8, 0, 30),
         .active = true},
        // "0 0 1 * *": the 1st only
        {.name = "dom only: Monday 8th",
         .cron = cron({0}, {0}, {1}),
         .now = utc(2024, 1, 8, 0, 30),
         .active = false},
        // "0 0 * 2 *" for 24 h: February only (2024 is a leap year)
        {.name = "month: Feb 29 23:59:59",
         .cron = cron({0}, {0}, {}, {2}),
         .now = utc(2024, 2, 29, 23, 59, 59),
         .active = true},
        {.name = "month: Mar 1 00:30",
         .cron = cron({0}, {0}, {}, {2}),
         .now = utc(2024, 3, 1, 0, 30),
         .active = false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const bool day_window = c.name.substr(0, 5) == "month";
      CHECK(schedule_active({.cron = c.cron, .duration = day_window ? 24h : 1h, .zone = kUtc},
                            c.now) == c.active);
    }
  }

  TEST_CASE("schedule: zero duration is never active; a rare cron far back is found") {
    CHECK_FALSE(schedule_active({.cron = cron({}, {}), .duration = 0s, .zone = kUtc},
                                utc(2024, 1, 1, 0, 0)));
    // Feb 29 only: from 2027-06-01 the latest is 2024-02-29 23:59
    CHECK(last_fire_time(cron({}, {}, {29}, {2}), kUtc, utc(2027, 6, 1, 0, 0),
                         utc(2020, 1, 1, 0, 0)) == utc(2024, 2, 29, 23, 59));
  }

  TEST_CASE("schedule: last fire time agrees with a minute-by-minute scan (seeded)") {
    util::Random rng(20240101);
    int found = 0;
    auto bernoulli = [&rng](double p) { return rng.uniform01() < p; };
    for (int iter = 0; iter < 300; ++iter) {
      CAPTURE(iter);
      CronSpec c;
      for (std::size_t i = 0; i < 60; ++i) c.minutes[i] = bernoulli(0.05);
      c.minutes.set(static_cast<std::size_t>(rng.uniform_int(0, 59)));
      for (std::size_t i = 0; i < 24; ++i) c.hours[i] = bernoulli(0.2);
      c.day_of_month_restricted = bernoulli(0.5);
      c.day_of_week_restricted = bernoulli(0.5);
      for (std::size_t i = 1; i <= 31; ++i) {
        c.days_of_month[i] = !c.day_of_month_restricted || bernoulli(0.4);
      }
      for (std::size_t i = 1; i <= 12; ++i) c.months[i] = bernoulli(0.8);
      for (std::size_t i = 0; i < 7; ++i)
        c.days_of_week[i] = !c.day_of_week_restricted || bernoulli(0.5);

      const SysSeconds now =
          utc(2024, 1, 1, 0, 0) + std::chrono::seconds{rng.uniform_int(0, 365 * 86400)};
      const SysSeconds not_before = now - std::chrono::seconds{rng.uniform_int(0, 3 * 86400)};
      ZoneRules z{.name = "random",
                  .initial_offset = std::chrono::minutes{15 * rng.uniform_int(-48, 56)}};
      SysSeconds tr_at = not_before - 3600s;
      for (int k = static_cast<int>(rng.uniform_int(0, 3)); k > 0; --k) {
        tr_at += std::chrono::seconds{rng.uniform_int(600, 86400)};
        z.transitions.push_back(
            {.at = tr_at, .offset = std::chrono::minutes{15 * rng.uniform_int(-48, 56)}});
      }

      std::optional<SysSeconds> brute;
      for (SysSeconds t = std::chrono::floor<std::chrono::minutes>(now); t >= not_before;
           t -= 60s) {
        const SysSeconds local = t + z.offset_at(t);
        const auto day = std::chrono::floor<std::chrono::days>(local);
        const auto minute_of_day = (local - day) / 60s;
        if (c.hours.test(static_cast<std::size_t>(minute_of_day / 60)) &&
            c.minutes.test(static_cast<std::size_t>(minute_of_day % 60)) &&
            cron_day_matches(c, day)) {
          brute = t;
          break;
        }
      }
      CHECK(last_fire_time(c, z, now, not_before) == brute);
      found += brute.has_value() ? 1 : 0;
    }
    // the comparison is only worth something if most scans do find a fire time
    CHECK(found > 150);
  }
}

}  // namespace
}  // namespace qfscale::policy
