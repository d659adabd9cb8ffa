// util::json_string and the simdjson type words (util/simdjson_names.h) that the state file
// and the Qianfan decoder both put in their "expected X, got Y" errors.

#include <string>
#include <string_view>

#include <doctest/doctest.h>
#include <simdjson.h>

#include "qfscale/util/json_string.h"

#include "util/simdjson_names.h"

namespace qfscale::util {
namespace {

TEST_SUITE("util") {
  TEST_CASE("json_string: the literal append_json_string writes, quotes included") {
    CHECK(json_string("") == R"("")");
    CHECK(json_string("a\"b\\c\n\x01") == R"("a\"b\\c\n\u0001")");
    std::string appended;
    append_json_string(appended, "x\ty");
    CHECK(json_string("x\ty") == appended);
  }

  TEST_CASE("json_type_name: one phrase per simdjson value type") {
    struct Case {
      std::string_view json;
      std::string_view want;
    };
    const Case cases[] = {
        {.json = "[]", .want = "an array"},
        {.json = "{}", .want = "an object"},
        {.json = "-1", .want = "an integer"},
        // Above INT64_MAX (9223372036854775807), so simdjson types it UINT64.
        {.json = "18446744073709551615", .want = "an integer"},
        {.json = "1.5", .want = "a decimal number"},
        {.json = R"("s")", .want = "a string"},
        {.json = "true", .want = "a boolean"},
        {.json = "null", .want = "null"},
    };
    simdjson::dom::parser parser;
    for (const auto& c : cases) {
      CAPTURE(c.json);
      simdjson::dom::element e;
      REQUIRE(parser.parse(simdjson::padded_string(c.json)).get(e) == simdjson::SUCCESS);
      CHECK(detail::json_type_name(e.type()) == c.want);
    }
  }
}

}  // namespace
}  // namespace qfscale::util
