#include "qfscale/http/url.h"

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/http/client.h"

namespace {
using qfscale::http::parse_url;
}

TEST_SUITE("http") {
  TEST_CASE("parse_url: splits valid URLs and fills default ports") {
    struct Case {
      std::string_view name;
      std::string_view url;
      std::string_view scheme, host, port, target, host_header;
    };
    const Case cases[] = {
        {.name = "https default port",
         .url = "https://qianfan.baidubce.com/v2/service?Action=DescribeService",
         .scheme = "https",
         .host = "qianfan.baidubce.com",
         .port = "443",
         .target = "/v2/service?Action=DescribeService",
         .host_header = "qianfan.baidubce.com"},
        {.name = "http default port, empty path",
         .url = "http://example.com",
         .scheme = "http",
         .host = "example.com",
         .port = "80",
         .target = "/",
         .host_header = "example.com"},
        {.name = "explicit non-default port is kept in Host",
         .url = "http://127.0.0.1:8080/metrics",
         .scheme = "http",
         .host = "127.0.0.1",
         .port = "8080",
         .target = "/metrics",
         .host_header = "127.0.0.1:8080"},
        {.name = "explicit default port is omitted from Host",
         .url = "https://h.example:443/",
         .scheme = "https",
         .host = "h.example",
         .port = "443",
         .target = "/",
         .host_header = "h.example"},
        {.name = "https on port 80 is not a default",
         .url = "https://h.example:80/",
         .scheme = "https",
         .host = "h.example",
         .port = "80",
         .target = "/",
         .host_header = "h.example:80"},
        {.name = "IPv6 literal loses brackets in host, keeps them in Host",
         .url = "http://[::1]:9090/x",
         .scheme = "http",
         .host = "::1",
         .port = "9090",
         .target = "/x",
         .host_header = "[::1]:9090"},
        {.name = "upper-case scheme, fragment dropped, encoding kept",
         .url = "HTTP://h.example/a%20b?q=%2F#frag",
         .scheme = "http",
         .host = "h.example",
         .port = "80",
         .target = "/a%20b?q=%2F",
         .host_header = "h.example"},
        {.name = "empty query is kept",
         .url = "http://h.example/p?",
         .scheme = "http",
         .host = "h.example",
         .port = "80",
         .target = "/p?",
         .host_header = "h.example"},
        {.name = "highest port",
         .url = "http://h.example:65535/",
         .scheme = "http",
         .host = "h.example",
         .port = "65535",
         .target = "/",
         .host_header = "h.example:65535"},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto u = parse_url(c.url);
        REQUIRE_MESSAGE(u.has_value(), (u ? "" : u.error().to_string()));
        CHECK(u->scheme == c.scheme);
        CHECK(u->host == c.host);
        CHECK(u->port == c.port);
        CHECK(u->target == c.target);
        CHECK(u->host_header() == c.host_header);
      }
    }
  }

  TEST_CASE("parse_url: rejects what the client cannot send as InvalidInput") {
    struct Case {
      std::string_view name;
      std::string_view url;
    };
    const Case cases[] = {
        {.name = "empty", .url = ""},
        {.name = "relative", .url = "/v2/service"},
        {.name = "other scheme", .url = "ftp://h.example/"},
        {.name = "no host", .url = "http:///path"},
        {.name = "port zero", .url = "http://h.example:0/"},
        {.name = "port just above range", .url = "http://h.example:65536/"},
        {.name = "port not a number", .url = "http://h.example:http/"},
        {.name = "credentials", .url = "https://user:pw@h.example/"},
        {.name = "space", .url = "http://h.example/a b"},
        // Found by tests/fuzz/url_fuzz: the decoded host went into the Host header.
        {.name = "CR LF in an encoded host", .url = "http://a%0d%0aX-Injected:1/"},
        {.name = "percent-encoded host", .url = "http://exa%6Dple.com/"},
        {.name = "space in an encoded host", .url = "http://a%20b/"},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        auto u = parse_url(c.url);
        REQUIRE_FALSE(u.has_value());
        CHECK(u.error().code == qfscale::ErrorCode::InvalidInput);
        CHECK(u.error().message.find("bad URL") != std::string::npos);
      }
    }
  }

  TEST_CASE("parse_url: an error quotes the URL with its password hidden") {
    auto u = parse_url("https://user:hunter2@h.example/");
    REQUIRE_FALSE(u.has_value());
    CHECK(u.error().message ==
          "bad URL \"https://user:***@h.example/\": credentials in the URL are not supported");
  }

  TEST_CASE("percent_decode: RFC 3986, '+' literal, a bad escape refused") {
    using qfscale::http::percent_decode;
    CHECK(percent_decode("%44escribe%2fService") == "Describe/Service");
    CHECK(percent_decode("a+b%20c") == "a+b c");
    CHECK(percent_decode("") == "");
    CHECK_FALSE(percent_decode("%zz").has_value());
    CHECK_FALSE(percent_decode("abc%4").has_value());
    CHECK_FALSE(percent_decode("%").has_value());
  }

  TEST_CASE("parse_query: decoded pairs in order, empty pieces skipped") {
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    CHECK(qfscale::http::parse_query("Action=%44escribeService&b&&c=&d=1=2") ==
          Pairs{{"Action", "DescribeService"}, {"b", ""}, {"c", ""}, {"d", "1=2"}});
    CHECK(qfscale::http::parse_query("") == Pairs{});
    CHECK_FALSE(qfscale::http::parse_query("a=1&b=%g0").has_value());
  }
}
