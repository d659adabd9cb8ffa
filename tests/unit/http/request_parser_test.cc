#include "http/request_parser.h"

#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace {
using qfscale::http::detail::parse_request;
using qfscale::http::detail::RequestLimits;
}  // namespace

TEST_SUITE("http") {
  TEST_CASE("request parser: well-formed requests become Request values") {
    const RequestLimits limits{.max_header_bytes = 1024, .max_body_bytes = 16};
    auto r = parse_request(
        "POST /v2/service?Action=ScaleService HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n"
        "Content-Length: 5\r\n\r\nhello",
        limits);
    REQUIRE(r.has_value());
    CHECK(r->method == "POST");
    CHECK(r->target == "/v2/service?Action=ScaleService");
    CHECK(r->path() == "/v2/service");
    CHECK(r->header("x-a") == "1");
    CHECK(r->body == "hello");
    CHECK(r->remote_address.empty());

    auto chunked = parse_request(
        "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        limits);
    REQUIRE(chunked.has_value());
    CHECK(chunked->body == "abc");
  }

  TEST_CASE("request parser: limits and malformed input map to 413, 431 and 400") {
    // Limits: 16 body bytes and 64 header bytes. The fixed part "GET / HTTP/1.1\r\nHost: h\r\n"
    // is 25 bytes, so the header block fits or not depending on the X-Pad length.
    const RequestLimits limits{.max_header_bytes = 64, .max_body_bytes = 16};
    struct Case {
      std::string_view name;
      std::string raw;
      int status;  ///< 0: parses
    };
    const std::string get = "GET / HTTP/1.1\r\nHost: h\r\n";
    const Case cases[] = {
        {.name = "body at the limit",
         .raw = "POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n" + std::string(16, 'b'),
         .status = 0},
        {.name = "body one over the limit",
         .raw = "POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'b'),
         .status = 413},
        {.name = "chunked body over the limit",
         .raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n" +
                std::string(17, 'b') + "\r\n0\r\n\r\n",
         .status = 413},
        {.name = "headers well within the limit", .raw = get + "X-Pad: 1\r\n\r\n", .status = 0},
        {.name = "headers over the limit",
         .raw = get + "X-Pad: " + std::string(64, 'p') + "\r\n\r\n",
         .status = 431},
        {.name = "garbage", .raw = "GARBAGE\r\n\r\n", .status = 400},
        {.name = "empty", .raw = "", .status = 400},
        {.name = "truncated header", .raw = "GET / HTTP/1.1\r\nHost:", .status = 400},
        {.name = "truncated body",
         .raw = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
         .status = 400},
        {.name = "bad version", .raw = "GET / HTTP/9\r\n\r\n", .status = 400},
        {.name = "bad content length",
         .raw = "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
         .status = 400},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto r = parse_request(c.raw, limits);
        if (c.status == 0) {
          CHECK_MESSAGE(r.has_value(), (r ? "" : r.error().message));
        } else {
          REQUIRE_FALSE(r.has_value());
          CHECK(r.error().status == c.status);
          CHECK_FALSE(r.error().message.empty());
        }
      }
    }
  }
}
