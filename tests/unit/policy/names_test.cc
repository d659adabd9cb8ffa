// policy::to_string for the enums a policy file spells out: the words the loader reads.

#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/policy/loader.h"
#include "qfscale/policy/policy.h"

namespace qfscale::policy {
namespace {

TEST_SUITE("policy") {
  TEST_CASE("names: Select and RateLimitType print as the policy file spells them") {
    CHECK(to_string(Select::Max) == "Max");
    CHECK(to_string(Select::Min) == "Min");
    CHECK(to_string(Select::Disabled) == "Disabled");
    CHECK(to_string(RateLimitType::Percent) == "Percent");
    CHECK(to_string(RateLimitType::Replicas) == "Replicas");
  }

  TEST_CASE("names: every printed Select and RateLimitType loads back as itself") {
    struct Case {
      Select select;
      RateLimitType type;
    };
    const Case cases[] = {{Select::Max, RateLimitType::Percent},
                          {Select::Min, RateLimitType::Replicas},
                          {Select::Disabled, RateLimitType::Percent}};
    // No schedules here, so no time zone is ever asked for.
    const util::ZoneSource zones = [](std::string_view) -> std::optional<std::string> {
      return {};
    };
    for (const auto& c : cases) {
      const std::string name =
          std::string(to_string(c.select)) + "/" + std::string(to_string(c.type));
      SUBCASE(name.c_str()) {
        const std::string text =
            "apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: p}\nspec:\n"
            "  scaleUp: {select: " +
            std::string(to_string(c.select)) +
            ", policies: [{type: " + std::string(to_string(c.type)) +
            ", value: 2, period: 15s}]}\n";
        const auto loaded = load_policy(text, "p.yaml", zones);
        REQUIRE(loaded.has_value());
        CHECK(loaded->spec().scale_up.select == c.select);
        REQUIRE(loaded->spec().scale_up.policies.size() == 1);
        CHECK(loaded->spec().scale_up.policies[0].type == c.type);
        // to_yaml writes the same words, so the shown policy loads to the same spec.
        const auto again = load_policy(to_yaml(loaded->spec()), "shown.yaml", zones);
        REQUIRE(again.has_value());
        CHECK(again->spec() == loaded->spec());
      }
    }
  }
}

}  // namespace
}  // namespace qfscale::policy
