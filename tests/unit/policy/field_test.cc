#include "qfscale/policy/field.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"
#include "qfscale/policy/loader.h"

namespace qfscale::policy {
namespace {

using namespace std::chrono_literals;

const util::ZoneSource kNoZones = [](std::string_view) -> std::optional<std::string> {
  return std::nullopt;
};

PolicySpec shipped(std::string_view name) {
  const auto text = controller::shipped_policy(name);
  REQUIRE(text);
  auto p = load_policy(*text, name, kNoZones);
  REQUIRE(p);
  return p->spec();
}

NumericField field(std::string_view path) {
  auto f = numeric_field(path);
  REQUIRE_MESSAGE(f, f.error());
  return *f;
}

TEST_SUITE("policy") {
  TEST_CASE("field: numeric paths are checked against the schema, with did-you-mean") {
    CHECK(field("target.utilization") ==
          NumericField{.path = "target.utilization", .kind = FieldKind::Number});
    CHECK(field("spec.target.utilization").path == "target.utilization");
    CHECK(field("metricWindow").kind == FieldKind::Duration);
    CHECK(field("scaleUp.policies[1].value") ==
          NumericField{.path = "scaleUp.policies[1].value", .kind = FieldKind::Number});
    CHECK(field("schedules[0].minReplicas").kind == FieldKind::Number);

    struct Case {
      std::string_view name;
      std::string_view path;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "typo",
         .path = "target.utilisation",
         .want = "'target.utilisation' is not a numeric policy field; did you mean "
                 "target.utilization?"},
        {.name = "boolean field",
         .path = "panic.enabled",
         .want = "'panic.enabled' is not a numeric policy field (numeric fields: "
                 "target.utilization, "},
        {.name = "list without index",
         .path = "scaleUp.policies.value",
         .want = "did you mean scaleUp.policies[i].value?"},
        {.name = "bad index",
         .path = "scaleUp.policies[x].value",
         .want = "'scaleUp.policies[x].value' is not a field path"},
        {.name = "empty", .path = "", .want = "is not a field path"},
        {.name = "trailing dot", .path = "target.", .want = "is not a field path"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto f = numeric_field(c.path);
      REQUIRE_FALSE(f);
      CHECK_MESSAGE(f.error().find(c.want) != std::string::npos, f.error());
    }
  }

  TEST_CASE("field: with_field changes that one field and nothing else") {
    const auto spec = shipped("hpa-default");
    auto p = with_field(spec, field("target.utilization"), 0.55, kNoZones);
    REQUIRE(p);
    auto want = spec;
    want.target.utilization = 0.55;
    CHECK(p->spec() == want);

    auto window = with_field(spec, field("scaleDown.stabilizationWindow"), 120, kNoZones);
    REQUIRE(window);
    CHECK(window->spec().scale_down.stabilization_window == 120s);

    auto limit = with_field(spec, field("spec.scaleUp.policies[0].value"), 300, kNoZones);
    REQUIRE(limit);
    CHECK(limit->spec().scale_up.policies[0].value == 300);
    CHECK(limit->spec().scale_up.policies.size() == spec.scale_up.policies.size());

    // An optional field the policy leaves unset is added.
    REQUIRE_FALSE(spec.scale_up.tolerance);
    auto tolerance = with_field(spec, field("scaleUp.tolerance"), 0.05, kNoZones);
    REQUIRE(tolerance);
    CHECK(tolerance->spec().scale_up.tolerance == 0.05);

    // A service-level target: the percentage is written as the file spells it.
    const auto slo = shipped("balanced");
    REQUIRE(slo.target.slo);
    auto attainment = with_field(slo, field("target.slo.attainment"), 99.5, kNoZones);
    REQUIRE(attainment);
    CHECK(attainment->spec().target.slo->attainment == doctest::Approx(0.995));
    CHECK(attainment->spec().target.slo->wait == slo.target.slo->wait);
    auto wait = with_field(slo, field("target.slo.wait"), 10, kNoZones);
    REQUIRE(wait);
    CHECK(wait->spec().target.slo->wait == 10s);
  }

  TEST_CASE("field: a value the policy refuses comes back as the loader's diagnostic") {
    const auto spec = shipped("hpa-default");
    struct Case {
      std::string_view name;
      std::string_view path;
      double value;
      std::string_view want_path;
      std::string_view want;
    };
    const Case cases[] = {
        {.name = "utilization above 1",
         .path = "target.utilization",
         .value = 1.05,
         .want_path = "spec.target.utilization",
         .want = "1.05 is out of range, must be in (0, 1]"},
        {.name = "fractional replicas",
         .path = "replicas.min",
         .value = 2.5,
         .want_path = "spec.replicas.min",
         .want = "2.5"},
        {.name = "fractional seconds",
         .path = "metricWindow",
         .value = 1.5,
         .want_path = "spec.metricWindow",
         .want = "1.5s"},
        {.name = "missing list item",
         .path = "schedules[0].minReplicas",
         .value = 3,
         .want_path = "spec.schedules[0]",
         .want = "the policy has no such item (the list has 0)"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto p = with_field(spec, field(c.path), c.value, kNoZones);
      REQUIRE_FALSE(p);
      REQUIRE(p.error().size() == 1);
      CHECK(p.error()[0].path == c.want_path);
      CHECK_MESSAGE(p.error()[0].message.find(c.want) != std::string::npos, p.error()[0].message);
    }
    // Just inside the range is accepted.
    CHECK(with_field(spec, field("target.utilization"), 1.0, kNoZones));
    // A percentage out of range, on a policy that sizes for a service level.
    const auto high =
        with_field(shipped("balanced"), field("target.slo.attainment"), 100, kNoZones);
    REQUIRE_FALSE(high);
    CHECK(high.error()[0].path == "spec.target.slo.attainment");
    CHECK_MESSAGE(high.error()[0].message.find("out of range") != std::string::npos,
                  high.error()[0].message);
  }

  TEST_CASE("field: values are written in the file's form") {
    CHECK(field_value_text(field("target.utilization"), 0.35) == "0.35");
    CHECK(field_value_text(field("replicas.max"), 12) == "12");
    CHECK(field_value_text(field("metricWindow"), 300) == "300s");
    CHECK(field_value_text(field("target.slo.attainment"), 99.9) == "99.9%");
  }
}

}  // namespace
}  // namespace qfscale::policy
