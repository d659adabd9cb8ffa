// to_yaml's string quoting: the same escaper as JSON (util::json_string), so every character a
// config can hold must read back unchanged through the YAML parser.

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"

#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

TEST_SUITE("controller") {
  TEST_CASE("config: to_yaml quotes odd characters so that they parse back the same") {
    struct Case {
      std::string_view name;
      std::string_view yaml;    ///< the service's query as written in the input file
      std::string_view want;    ///< the query after parsing
      std::string_view quoted;  ///< how to_yaml writes it
    };
    const Case cases[] = {
        {.name = "plain", .yaml = "'sum(x)'", .want = "sum(x)", .quoted = "\"sum(x)\""},
        {.name = "quote and backslash",
         .yaml = R"("a\"b\\c")",
         .want = "a\"b\\c",
         .quoted = R"("a\"b\\c")"},
        {.name = "tab, newline, carriage return",
         .yaml = R"("a\tb\nc\rd")",
         .want = "a\tb\nc\rd",
         .quoted = R"("a\tb\nc\rd")"},
        // \b and \f have short JSON escapes; YAML reads them too.
        {.name = "backspace and form feed",
         .yaml = R"("a\bb\fc")",
         .want = "a\bb\fc",
         .quoted = R"("a\bb\fc")"},
        // Other control bytes and DEL (which YAML may not hold raw) as \u00XX.
        {.name = "control byte and DEL",
         .yaml = R"("a\x01b\x7fc")",
         .want = "a\x01"
                 "b\x7f"
                 "c",
         .quoted = R"("a\u0001b\u007fc")"},
        {.name = "UTF-8 passes through", .yaml = "'服务'", .want = "服务", .quoted = "\"服务\""},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        const auto first = parse(make_config({.service = "query: " + std::string(c.yaml)}));
        REQUIRE_MESSAGE(first.has_value(), (first ? "" : joined(lines_of(first.error()))));
        const auto& queries = first->metrics.prometheus.per_service_queries;
        REQUIRE(queries.contains(model::ServiceId{"svc-1"}));
        CHECK(queries.at(model::ServiceId{"svc-1"}) == c.want);

        const auto shown = to_yaml(*first);
        CAPTURE(shown);
        CHECK(shown.find("    query: " + std::string(c.quoted) + "\n") != std::string::npos);
        const auto again = parse(shown);
        REQUIRE_MESSAGE(again.has_value(), (again ? "" : joined(lines_of(again.error()))));
        CHECK(again->metrics.prometheus.per_service_queries == queries);
      }
    }
  }
}

}  // namespace
}  // namespace qfscale::controller::test
