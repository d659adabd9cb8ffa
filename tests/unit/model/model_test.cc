#include <string>

#include <doctest/doctest.h>

#include "qfscale/model/decision.h"
#include "qfscale/model/reason.h"
#include "qfscale/model/service.h"
#include "qfscale/model/units.h"

namespace qfscale::model {
namespace {

TEST_SUITE("model") {
  TEST_CASE("units: compute units per replica is the number after the last dash") {
    struct Case {
      std::string_view name;
      std::string_view type;
      std::optional<int> want;
    };
    const Case cases[] = {
        {.name = "GPU-I-2", .type = "GPU-I-2", .want = 2},
        {.name = "GPU-I-4", .type = "GPU-I-4", .want = 4},
        {.name = "CPU-I-2", .type = "CPU-I-2", .want = 2},
        {.name = "two digits", .type = "GPU-I-16", .want = 16},
        {.name = "no dash, plain number", .type = "8", .want = 8},
        {.name = "zero", .type = "GPU-I-0", .want = std::nullopt},
        {.name = "trailing dash", .type = "GPU-I-", .want = std::nullopt},
        {.name = "letters after dash", .type = "GPU-I-2x", .want = std::nullopt},
        {.name = "empty", .type = "", .want = std::nullopt},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto got = units_per_replica(c.type);
      CHECK(got.has_value() == c.want.has_value());
      if (got && c.want) CHECK(got->value == *c.want);
    }
  }

  TEST_CASE("units: replicas times units per replica") {
    CHECK(Replicas{3} * ComputeUnits{2} == ComputeUnits{6});
  }

  TEST_CASE("reason and stage names round-trip and are distinct") {
    for (auto r : kAllReasons) CHECK(parse_reason(to_string(r)) == r);
    CHECK(to_string(Reason::RateLimited) == "rate_limited");
    CHECK(to_string(Stage::RawDesired) == "raw_desired");
    CHECK_FALSE(parse_reason("RateLimited").has_value());
  }

  TEST_CASE("run status: documented spellings only") {
    CHECK(parse_run_status("Serving") == RunStatus::Serving);
    CHECK(parse_run_status("serving") == RunStatus::Unknown);
    CHECK(to_string(RunStatus::Deploying) == "Deploying");
  }
}

}  // namespace
}  // namespace qfscale::model
