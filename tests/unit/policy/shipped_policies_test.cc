#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/policy/loader.h"
#include "qfscale/util/file.h"

namespace qfscale::policy {
namespace {

using std::chrono::seconds;

Policy load_shipped(const std::string& name) {
  const auto path = std::string(QFS_SOURCE_DIR) + "/policies/" + name + ".yaml";
  auto text = util::read_file(path);
  REQUIRE_MESSAGE(text.has_value(), text.error().to_string());
  auto policy = load_policy(*text, path, util::system_zone_source());
  REQUIRE_MESSAGE(policy.has_value(), (policy ? "" : util::to_string(policy.error())));
  return *policy;
}

TEST_SUITE("policy") {
  TEST_CASE("shipped policies: every file in policies/ loads and round-trips through to_yaml") {
    std::vector<std::string> names;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(QFS_SOURCE_DIR) + "/policies")) {
      if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    const std::vector<std::string> expected = {"balanced",     "business-hours", "cost-saver",
                                               "hpa-default",  "kpa-default",    "latency-first",
                                               "scale-to-zero"};
    CHECK(names == expected);
    for (const auto& name : names) {
      CAPTURE(name);
      const auto policy = load_shipped(name);
      CHECK(policy.name() == name);  // metadata.name matches the file name
      auto again = load_policy(to_yaml(policy.spec()), "shown.yaml", util::system_zone_source());
      CHECK(again.has_value());
      if (again) CHECK(again->spec() == policy.spec());
    }
  }

  TEST_CASE("shipped policies: hpa-default has the Kubernetes HPA autoscaling/v2 defaults") {
    const auto p = load_shipped("hpa-default").spec();
    CHECK(p.target.tolerance == 0.1);
    CHECK(p.replicas.min == model::Replicas{1});
    CHECK_FALSE(p.panic.enabled);
    CHECK(p.scale_up.stabilization_window == seconds{0});
    CHECK(p.scale_up.select == Select::Max);
    CHECK(p.scale_up.policies == std::vector<RateLimit>{{RateLimitType::Percent, 100, seconds{15}},
                                                        {RateLimitType::Replicas, 4, seconds{15}}});
    CHECK(p.scale_down.stabilization_window == seconds{300});
    CHECK(p.scale_down.select == Select::Max);
    CHECK(p.scale_down.policies ==
          std::vector<RateLimit>{{RateLimitType::Percent, 100, seconds{15}}});
    CHECK(p.metric_window == seconds{15});  // one HPA sync period: the latest sample
    CHECK_FALSE(p.scale_to_zero.enabled);
  }

  TEST_CASE("shipped policies: balanced keeps idle capacity for twice the startup delay") {
    // policies/README.md "How long to keep capacity": a replica given back and needed again
    // costs the startup delay twice, so the rent-or-buy break-even keeps it that long.
    const auto p = load_shipped("balanced").spec();
    CHECK(p.forecast.horizon == seconds{90});  // the startup delay the policy is written for
    CHECK(p.scale_down.stabilization_window == 2 * p.forecast.horizon);
    CHECK(p.scale_up.stabilization_window == seconds{0});
  }

  TEST_CASE("shipped policies: kpa-default has the Knative KPA defaults") {
    const auto p = load_shipped("kpa-default").spec();
    CHECK(p.target.utilization == 0.7);
    CHECK(p.metric_window == seconds{60});  // stable-window
    CHECK(p.panic.enabled);
    CHECK(p.panic.window == seconds{6});  // 10% of the stable window
    CHECK(p.panic.threshold == 2.0);      // panic-threshold-percentage 200
    // max-scale-up-rate 1000: new <= 1000 x current, an increase of 99900%.
    CHECK(p.scale_up.policies ==
          std::vector<RateLimit>{{RateLimitType::Percent, 99900, seconds{1}}});
    // max-scale-down-rate 2: new >= current / 2, a decrease of 50%.
    CHECK(p.scale_down.policies ==
          std::vector<RateLimit>{{RateLimitType::Percent, 50, seconds{1}}});
    CHECK(p.scale_down.stabilization_window == seconds{0});
    CHECK(p.scale_to_zero.enabled);
    CHECK(p.replicas.min == model::Replicas{0});
  }

  TEST_CASE("shipped policies: business-hours raises the floor on Shanghai working days") {
    const auto p = load_shipped("business-hours").spec();
    REQUIRE(p.schedules.size() == 2);
    CHECK(p.schedules[0].zone.name == "Asia/Shanghai");
    CHECK(p.schedules[0].min_replicas == model::Replicas{4});
    CHECK(p.schedules[0].cron.hours[9]);
    CHECK(p.schedules[0].cron.days_of_week.count() == 5);
    CHECK_FALSE(p.schedules[0].cron.days_of_week[0]);
  }
}

}  // namespace
}  // namespace qfscale::policy
