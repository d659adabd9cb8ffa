#include "telemetry/json.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include <doctest/doctest.h>
#include <simdjson.h>

#include "qfscale/telemetry/exporter.h"
#include "qfscale/util/json_string.h"

#include "unit/telemetry/fixtures.h"

namespace qfscale::telemetry {
namespace {

using namespace std::string_literals;

std::string json_quoted(std::string_view text) {
  std::string out;
  detail::append_json_string(out, text);
  return out;
}

std::string number(double v) {
  std::string out;
  detail::append_json_number(out, v);
  return out;
}

TEST_SUITE("telemetry") {
  TEST_CASE("json: strings are escaped per RFC 8259 and invalid UTF-8 becomes U+FFFD") {
    struct Case {
      std::string_view name;
      std::string in;
      std::string want;
    };
    const Case cases[] = {
        {.name = "plain", .in = "svc-a", .want = R"("svc-a")"},
        {.name = "quote and backslash", .in = R"(a"b\c)", .want = R"("a\"b\\c")"},
        {.name = "short escapes", .in = "\n\r\t\b\f", .want = R"("\n\r\t\b\f")"},
        {.name = "other controls", .in = "\x01\x1f", .want = R"("\u0001\u001f")"},
        {.name = "NUL inside", .in = "a\0b"s, .want = R"("a\u0000b")"},
        {.name = "DEL", .in = "\x7f", .want = R"("\u007f")"},
        {.name = "slash stays", .in = "a/b", .want = R"("a/b")"},
        {.name = "CJK passes through", .in = "定制服务", .want = "\"定制服务\""},
        {.name = "4-byte emoji passes through",
         .in = "\xF0\x9F\x98\x80",
         .want = "\"\xF0\x9F\x98\x80\""},
        {.name = "lone 0xff",
         .in = "a\xff"
               "b",
         .want = R"("a\ufffdb")"},
        {.name = "overlong slash", .in = "\xC0\xAF", .want = R"("\ufffd\ufffd")"},
        {.name = "surrogate U+D800", .in = "\xED\xA0\x80", .want = R"("\ufffd\ufffd\ufffd")"},
        {.name = "above U+10FFFF",
         .in = "\xF4\x90\x80\x80",
         .want = R"("\ufffd\ufffd\ufffd\ufffd")"},
        {.name = "truncated at end", .in = "x\xE4\xB8", .want = R"("x\ufffd\ufffd")"},
        {.name = "lone continuation", .in = "\x80", .want = R"("\ufffd")"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CHECK(json_quoted(c.in) == c.want);
      // Whatever goes in, what comes out is valid JSON.
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      CHECK(parser.parse(json_quoted(c.in)).get(doc) == simdjson::SUCCESS);
      // Where nothing was replaced, the bytes are exactly the shared escaper's.
      if (c.want.find("\\ufffd") == std::string::npos) {
        std::string shared;
        util::append_json_string(shared, c.in);
        CHECK(shared == c.want);
      }
    }
  }

  TEST_CASE("json: numbers are shortest round-trip text, non-finite values are null") {
    CHECK(number(30.0) == "30");
    CHECK(number(0.1) == "0.1");
    CHECK(number(-2.5) == "-2.5");
    CHECK(number(std::numeric_limits<double>::quiet_NaN()) == "null");
    CHECK(number(std::numeric_limits<double>::infinity()) == "null");
    CHECK(number(-std::numeric_limits<double>::infinity()) == "null");
    // Round trip through a real parser for an awkward value.
    simdjson::dom::parser parser;
    double back = 0;
    REQUIRE(parser.parse(number(1.0 / 3.0)).get(back) == simdjson::SUCCESS);
    CHECK(back == 1.0 / 3.0);
  }

  TEST_CASE("json: writer separates members and nested containers with commas") {
    detail::JsonWriter w;
    w.begin_object();
    w.key("a").integer(1);
    w.key("b")
        .begin_array()
        .integer(-2)
        .boolean(true)
        .null()
        .begin_object()
        .end_object()
        .end_array();
    w.key("c").string("x");
    w.end_object();
    CHECK(w.str() == R"({"a":1,"b":[-2,true,null,{}],"c":"x"})");
  }

  TEST_CASE("json: decision_to_json carries every field and survives odd characters") {
    auto d = test::service_a().decision;
    d.service = model::ServiceId{"svc \"quoted\""};
    d.steps[1].detail = "line1\nline2\t\x01 \xff 中";
    d.calls[0].error = R"(AccessDenied: "no" \ path)";
    d.calls[0].request_id = "req-\x7f";
    const std::string json = decision_to_json(d);
    CHECK(json.find('\n') == std::string::npos);

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
    std::string_view s;
    REQUIRE(doc["service"].get(s) == simdjson::SUCCESS);
    CHECK(s == "svc \"quoted\"");
    REQUIRE(doc["at"].get(s) == simdjson::SUCCESS);
    CHECK(s == "2023-11-14T22:13:20Z");
    double qps = 0;
    REQUIRE(doc["inputs"]["qps"].get(qps) == simdjson::SUCCESS);
    CHECK(qps == 30.0);
    simdjson::dom::array steps;
    REQUIRE(doc["steps"].get(steps) == simdjson::SUCCESS);
    CHECK(steps.size() == d.steps.size());
    REQUIRE(steps.at(1)["detail"].get(s) == simdjson::SUCCESS);
    CHECK(s == "line1\nline2\t\x01 \xEF\xBF\xBD 中");  // the 0xff byte became U+FFFD
    REQUIRE(steps.at(1)["stage"].get(s) == simdjson::SUCCESS);
    CHECK(s == "raw_desired");
    REQUIRE(steps.at(2)["reason"].get(s) == simdjson::SUCCESS);
    CHECK(s == "rate_limited");
    bool changed = false;
    REQUIRE(steps.at(2)["changed"].get(changed) == simdjson::SUCCESS);
    CHECK(changed);
    int64_t output = 0;
    REQUIRE(steps.at(2)["output"].get(output) == simdjson::SUCCESS);
    CHECK(output == 4);
    REQUIRE(doc["calls"].at(0)["error"].get(s) == simdjson::SUCCESS);
    CHECK(s == R"(AccessDenied: "no" \ path)");
    REQUIRE(doc["calls"].at(0)["requestId"].get(s) == simdjson::SUCCESS);
    CHECK(s == "req-\x7f");
    REQUIRE(doc["calls"].at(0)["outcome"].get(s) == simdjson::SUCCESS);
    CHECK(s == "applied");
    int64_t desired = 0;
    REQUIRE(doc["allocation"]["desired"].get(desired) == simdjson::SUCCESS);
    CHECK(desired == 4);
    REQUIRE(doc["outcome"].get(s) == simdjson::SUCCESS);
    CHECK(s == "applied");
  }

  TEST_CASE("json: missing QPS is null") {
    const std::string json = decision_to_json(test::service_b().decision);
    CHECK(json.find(R"("inputs":{"qps":null,"replicaQps":5,"current":3})") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::telemetry
