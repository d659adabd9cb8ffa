#include "qfscale/http/message.h"

#include <string>

#include <doctest/doctest.h>

using qfscale::http::find_header;
using qfscale::http::Headers;
using qfscale::http::Request;

TEST_SUITE("http") {
  TEST_CASE("message: find_header is case-insensitive and returns the first match") {
    const Headers headers = {{"Content-Type", "a"}, {"X-Id", "1"}, {"x-id", "2"}};
    CHECK(find_header(headers, "content-type") == "a");
    CHECK(find_header(headers, "CONTENT-TYPE") == "a");
    CHECK(find_header(headers, "X-ID") == "1");
    CHECK_FALSE(find_header(headers, "X-I").has_value());
    CHECK_FALSE(find_header(headers, "").has_value());
    CHECK_FALSE(find_header({}, "x").has_value());
  }

  TEST_CASE("message: Request::path and query split the target at the first '?'") {
    struct Case {
      const char* target;
      const char* path;
      const char* query;
    };
    const Case cases[] = {
        {"/", "/", ""},
        {"/v2/service?Action=DescribeService", "/v2/service", "Action=DescribeService"},
        {"/p?", "/p", ""},
        {"/p?a=1?b=2", "/p", "a=1?b=2"},
        {"", "", ""},
    };
    for (const auto& c : cases) {
      CAPTURE(c.target);
      Request r;
      r.target = c.target;
      CHECK(r.path() == c.path);
      CHECK(r.query() == c.query);
    }
  }

  TEST_CASE("message: json_response and text_response set status, type and body") {
    const auto j = qfscale::http::json_response(201, R"({"a":1})");
    CHECK(j.status == 201);
    CHECK(j.header("content-type") == "application/json");
    CHECK(j.body == R"({"a":1})");
    CHECK(j.delay.count() == 0);
    CHECK_FALSE(j.drop_connection);

    const auto t = qfscale::http::text_response(503, "busy");
    CHECK(t.status == 503);
    CHECK(t.header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(t.body == "busy");
  }
}
