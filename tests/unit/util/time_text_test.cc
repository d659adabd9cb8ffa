#include "qfscale/util/time_text.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include <doctest/doctest.h>

namespace qfscale::util {
namespace {

TEST_SUITE("util") {
  TEST_CASE("time_text: Unix seconds and RFC 3339 name the same instant") {
    const std::optional<std::int64_t> want = 1735787045;
    CHECK(parse_wall_time("1735787045") == want);
    CHECK(parse_wall_time("2025-01-02T03:04:05Z") == want);
    CHECK(parse_wall_time("2025-01-02t03:04:05z") == want);
    CHECK(parse_wall_time("2025-01-02 03:04:05Z") == want);
    CHECK(parse_wall_time("2025-01-02T11:04:05+08:00") == want);
    CHECK(parse_wall_time("2025-01-01T22:04:05-05:00") == want);
    CHECK(parse_wall_time("0") == std::optional<std::int64_t>(0));
    CHECK(parse_wall_time("1970-01-01T00:00:00Z") == std::optional<std::int64_t>(0));
  }

  TEST_CASE("time_text: anything else is refused") {
    for (const std::string_view bad :
         {"", "-5", "1.5", "+5", "2025-01-02", "2025-02-30T00:00:00Z", "2025-01-02T24:00:00Z",
          "2025-01-02T03:04:05", "2025-01-02T03:04:05.5Z", "2025-01-02T03:04:05+8:00",
          "99999999999999999999", "253402300800", "now"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_wall_time(bad).has_value());
    }
  }

  TEST_CASE("time_text: timestamps are RFC 3339 UTC, with milliseconds only when present") {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    const SystemTime kT0{seconds{1'700'000'000}};
    CHECK(format_rfc3339(kT0) == "2023-11-14T22:13:20Z");
    CHECK(format_rfc3339(kT0 + milliseconds{250}) == "2023-11-14T22:13:20.250Z");
    CHECK(format_rfc3339(kT0 + milliseconds{7}) == "2023-11-14T22:13:20.007Z");
    // Microseconds are truncated.
    CHECK(format_rfc3339(kT0 + std::chrono::microseconds{999}) == "2023-11-14T22:13:20Z");
    CHECK(format_rfc3339(SystemTime{}) == "1970-01-01T00:00:00Z");
    // 2024-02-29T12:00:00Z = 1709208000 (leap day).
    CHECK(format_rfc3339(SystemTime{seconds{1'709'208'000}}) == "2024-02-29T12:00:00Z");
    // One millisecond before the epoch floors to the previous day.
    CHECK(format_rfc3339(SystemTime{milliseconds{-1}}) == "1969-12-31T23:59:59.999Z");
  }
}

}  // namespace
}  // namespace qfscale::util
