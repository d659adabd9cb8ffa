#include <doctest/doctest.h>

#include "qfscale/util/clock.h"
#include "qfscale/util/diagnostic.h"
#include "qfscale/util/result.h"

namespace qfscale::util {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return fail(ErrorCode::InvalidInput, fmt::format("value {} must be > 0", v));
  return v;
}

TEST_SUITE("util") {
  TEST_CASE("result: an error carries context outermost first") {
    auto r = parse_positive(-1);
    REQUIRE_FALSE(r.has_value());
    Error e = std::move(r.error()).with_context("replicas.min").with_context("policy balanced");
    CHECK(e.to_string() == "policy balanced: replicas.min: value -1 must be > 0");
    CHECK(e.code == ErrorCode::InvalidInput);
    CHECK_FALSE(e.retryable());
    CHECK(parse_positive(3).value() == 3);
  }

  TEST_CASE("diagnostic: formats as file:line:col: path: message") {
    Diagnostic d{.file = "p.yaml",
                 .line = 4,
                 .column = 7,
                 .path = "spec.replicas.min",
                 .message = "must be >= 0, got -1"};
    CHECK(d.to_string() == "p.yaml:4:7: spec.replicas.min: must be >= 0, got -1");
    CHECK(Diagnostic{.message = "x"}.to_string() == "<input>: x");
  }

  TEST_CASE("manual clock: both readings advance together and only when told") {
    ManualClock clock(SystemTime{std::chrono::seconds{100}});
    const auto mono = clock.monotonic_now();
    clock.advance(std::chrono::seconds{15});
    CHECK(clock.system_now() == SystemTime{std::chrono::seconds{115}});
    CHECK(clock.monotonic_now() - mono == std::chrono::seconds{15});
    clock.set(SystemTime{std::chrono::seconds{50}});
    CHECK(clock.system_now() == SystemTime{std::chrono::seconds{50}});
  }
}

}  // namespace
}  // namespace qfscale::util
