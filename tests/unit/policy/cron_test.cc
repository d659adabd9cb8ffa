#include "qfscale/policy/cron.h"

#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::policy {
namespace {

/// The set bits of a bitset as a list, for readable comparisons.
template <std::size_t N>
std::vector<int> bits(const std::bitset<N>& b) {
  std::vector<int> out;
  for (std::size_t i = 0; i < N; ++i) {
    if (b[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

std::vector<int> range(int low, int high, int step = 1) {
  std::vector<int> out;
  for (int v = low; v <= high; v += step) out.push_back(v);
  return out;
}

TEST_SUITE("policy") {
  TEST_CASE("cron: fields, ranges, steps, lists and names") {
    struct Case {
      std::string_view name;
      std::string_view text;
      std::vector<int> minutes, hours, dom, months, dow;
      bool dom_restricted;
      bool dow_restricted;
    };
    const auto all_min = range(0, 59);
    const auto all_hour = range(0, 23);
    const auto all_dom = range(1, 31);
    const auto all_month = range(1, 12);
    const auto all_dow = range(0, 6);
    const Case cases[] = {
        {"every minute", "* * * * *", all_min, all_hour, all_dom, all_month, all_dow, false, false},
        {"weekdays at nine",
         "0 9 * * 1-5",
         {0},
         {9},
         all_dom,
         all_month,
         {1, 2, 3, 4, 5},
         false,
         true},
        {"day names, any case",
         "0 9 * * mon-FRI",
         {0},
         {9},
         all_dom,
         all_month,
         {1, 2, 3, 4, 5},
         false,
         true},
        {"step over all",
         "*/15 * * * *",
         {0, 15, 30, 45},
         all_hour,
         all_dom,
         all_month,
         all_dow,
         false,
         false},
        {"step over a range",
         "10-40/10 8-18/5 * * *",
         {10, 20, 30, 40},
         {8, 13, 18},
         all_dom,
         all_month,
         all_dow,
         false,
         false},
        {"lists mixing forms",
         "0,30 1,2-4,20-23/2 * * *",
         {0, 30},
         {1, 2, 3, 4, 20, 22},
         all_dom,
         all_month,
         all_dow,
         false,
         false},
        {"month names", "0 0 1 JAN,jul-Sep *", {0}, {0}, {1}, {1, 7, 8, 9}, all_dow, true, false},
        {"7 is Sunday", "0 0 * * 7", {0}, {0}, all_dom, all_month, {0}, false, true},
        {"range ending at 7", "0 0 * * 5-7", {0}, {0}, all_dom, all_month, {0, 5, 6}, false, true},
        {"SUN and 0 are the same", "0 0 * * SUN,0", {0}, {0}, all_dom, all_month, {0}, false, true},
        {"field bounds", "59 23 31 12 6", {59}, {23}, {31}, {12}, {6}, true, true},
        {"lower bounds", "0 0 1 1 0", {0}, {0}, {1}, {1}, {0}, true, true},
        {"starred step keeps a day field unrestricted",
         "0 0 */2 * *",
         {0},
         {0},
         range(1, 31, 2),
         all_month,
         all_dow,
         false,
         false},
        {"extra blanks", "  0   9 * *   1 ", {0}, {9}, all_dom, all_month, {1}, false, true},
        {"@hourly", "@hourly", {0}, all_hour, all_dom, all_month, all_dow, false, false},
        {"@daily", "@daily", {0}, {0}, all_dom, all_month, all_dow, false, false},
        {"@weekly", "@weekly", {0}, {0}, all_dom, all_month, {0}, false, true},
        {"@monthly", "@monthly", {0}, {0}, {1}, all_month, all_dow, true, false},
        {"@yearly", "@yearly", {0}, {0}, {1}, {1}, all_dow, true, false},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = parse_cron(c.text);
      CHECK(got.has_value());
      if (!got) continue;
      CHECK(got->text == c.text);
      CHECK(bits(got->minutes) == c.minutes);
      CHECK(bits(got->hours) == c.hours);
      CHECK(bits(got->days_of_month) == c.dom);
      CHECK(bits(got->months) == c.months);
      CHECK(bits(got->days_of_week) == c.dow);
      CHECK(got->day_of_month_restricted == c.dom_restricted);
      CHECK(got->day_of_week_restricted == c.dow_restricted);
    }
  }

  TEST_CASE("cron: every bad field is reported") {
    struct Case {
      std::string_view name;
      std::string_view text;
      std::vector<std::string> want;
    };
    const Case cases[] = {
        {"minute 60", "60 * * * *", {"minute: 60 is out of range, must be in 0-59"}},
        {"hour 24", "0 24 * * *", {"hour: 24 is out of range, must be in 0-23"}},
        {"day 0", "0 0 0 * *", {"day-of-month: 0 is out of range, must be in 1-31"}},
        {"day 32", "0 0 32 * *", {"day-of-month: 32 is out of range, must be in 1-31"}},
        {"month 13", "0 0 * 13 *", {"month: 13 is out of range, must be in 1-12 or JAN-DEC"}},
        {"day-of-week 8",
         "0 0 * * 8",
         {"day-of-week: 8 is out of range, must be in 0-7 or SUN-SAT"}},
        {"unknown name",
         "0 0 * * MOM",
         {"day-of-week: 'MOM' is not a number or name, must be in 0-7 or SUN-SAT"}},
        {"names only where allowed",
         "0 MON * * *",
         {"hour: 'MON' is not a number, must be in 0-23"}},
        {"backwards range",
         "0 0 * * 5-1",
         {"day-of-week: range '5-1' is backwards, must be low-high"}},
        {"step 0", "*/0 * * * *", {"minute: step '0' in '*/0' is invalid, must be in 1-59"}},
        {"step on a single value",
         "5/10 * * * *",
         {"minute: step needs a range or *, got '5/10' (use 5-59/10)"}},
        {"empty list item", "0,,5 * * * *", {"minute: empty list item in '0,,5'"}},
        {"four fields",
         "0 9 * *",
         {"has 4 fields, must have 5 (minute hour day-of-month month day-of-week)"}},
        {"six fields",
         "0 0 9 * * *",
         {"has 6 fields, must have 5 (minute hour day-of-month month day-of-week)"}},
        {"empty", "", {"has 0 fields, must have 5 (minute hour day-of-month month day-of-week)"}},
        {"unknown macro",
         "@every5m",
         {"unknown macro '@every5m', must be one of @yearly, @annually, @monthly, @weekly, "
          "@daily, @midnight, @hourly"}},
        {"several fields at once",
         "61 25 * * *",
         {"minute: 61 is out of range, must be in 0-59",
          "hour: 25 is out of range, must be in 0-23"}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = parse_cron(c.text);
      CHECK_FALSE(got.has_value());
      if (!got) CHECK(got.error() == c.want);
    }
  }
}

}  // namespace
}  // namespace qfscale::policy
