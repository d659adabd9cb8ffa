#include "qfscale/util/duration.h"

#include <chrono>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace qfscale::util {
namespace {

using namespace std::chrono_literals;

TEST_SUITE("util") {
  TEST_CASE("duration: one grammar, in seconds or milliseconds") {
    using P = DurationPrecision;
    CHECK(parse_duration("1m30s", P::Seconds) == 90s);
    CHECK(parse_duration("1m30s", P::Milliseconds) == 90s);
    CHECK(parse_duration("1h30m", P::Seconds) == 90min);
    CHECK(parse_duration("0s", P::Seconds) == 0s);
    CHECK(parse_duration("500ms", P::Milliseconds) == 500ms);
    CHECK(parse_duration("1s500ms", P::Milliseconds) == 1500ms);
    CHECK(parse_duration("2400h", P::Seconds) == 2400h);

    const auto error = [](std::string_view text, P precision) {
      auto parsed = parse_duration(text, precision);
      return parsed ? std::string("(accepted)") : parsed.error();
    };
    CHECK(error("500ms", P::Seconds) ==
          "has unknown unit 'ms', must be a duration such as 90s, 5m or 1h30m (units h, m, s; "
          "whole seconds)");
    CHECK(error("60", P::Milliseconds) ==
          "has no unit, must be a duration such as 500ms, 90s, 5m or 1h30m");
    CHECK(error("1.5s", P::Seconds).starts_with("is fractional"));
    CHECK(error("-1s", P::Seconds).starts_with("is negative"));
    CHECK(error("1d", P::Milliseconds).starts_with("has unknown unit 'd'"));
    CHECK(error("2400h1s", P::Seconds) == "is too long, must be at most 2400h");
    CHECK(error("99999999999999999999ms", P::Milliseconds) == "is too long, must be at most 2400h");
  }
}

}  // namespace
}  // namespace qfscale::util
