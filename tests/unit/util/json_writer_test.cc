// The one JSON writer and json_number (util/json_writer.h), and the modules that use it: the
// fake's replies, the Qianfan client's request bodies and telemetry spell numbers alike.

#include "qfscale/util/json_writer.h"

#include <cmath>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include "fake/detail.h"
#include "telemetry/json.h"

namespace {

using qfscale::util::InvalidUtf8;
using qfscale::util::json_number;
using qfscale::util::JsonObjectWriter;
using qfscale::util::JsonWriter;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST_SUITE("util") {
  TEST_CASE("json_number: shortest round trip, null for what JSON cannot spell") {
    CHECK(json_number(5) == "5");
    CHECK(json_number(2.5) == "2.5");
    CHECK(json_number(0.1) == "0.1");
    CHECK(json_number(1e20) == "1e+20");
    CHECK(json_number(-0.25) == "-0.25");
    CHECK(json_number(kNaN) == "null");
    CHECK(json_number(kInf) == "null");
    CHECK(json_number(-kInf) == "null");
  }

  TEST_CASE("json_number: the fake, the object writer and telemetry agree") {
    // The fake wrote 0 for a non-finite number, the others null.
    for (const double v : {4.0, 2.5, kNaN, kInf}) {
      CAPTURE(v);
      const std::string want = json_number(v);
      CHECK(qfscale::fake::detail::json_number(v) == want);
      CHECK(JsonObjectWriter{}.number("qps", v).finish() == "{\"qps\":" + want + "}");
      qfscale::telemetry::detail::JsonWriter w;
      CHECK(w.number(v).str() == want);
    }
  }

  TEST_CASE("JsonWriter: compact, keys in the order written, nested and raw values") {
    JsonWriter w;
    w.begin_object().key("b").integer(1).key("a").begin_array().boolean(true).null().end_array();
    w.key("r").raw(R"({"x":[]})").key("s").string("q\"\n").end_object();
    CHECK(w.str() == R"({"b":1,"a":[true,null],"r":{"x":[]},"s":"q\"\n"})");
  }

  TEST_CASE("JsonWriter: invalid UTF-8 is replaced for readers, kept for the Qianfan client") {
    const std::string bad =
        "a\xff"
        "b";
    CHECK(JsonWriter{}.string(bad).str() == "\"a\\ufffdb\"");
    CHECK(JsonWriter{InvalidUtf8::Keep}.string(bad).str() ==
          "\"a\xff"
          "b\"");
  }

  TEST_CASE("JsonObjectWriter: a ScaleService body is byte for byte what is signed") {
    const auto body = JsonObjectWriter{}
                          .string("serviceId", "svco-chatsmall001")
                          .string("instanceId", "unit-gpua0001")
                          .integer("deploymentReplicasCount", 3)
                          .finish();
    CHECK(
        body ==
        R"({"serviceId":"svco-chatsmall001","instanceId":"unit-gpua0001","deploymentReplicasCount":3})");
    CHECK(JsonObjectWriter{}.finish() == "{}");
    CHECK(JsonObjectWriter{}.string_array("serviceIds", {"a", "b"}).boolean("x", false).finish() ==
          R"({"serviceIds":["a","b"],"x":false})");
  }
}

}  // namespace
