#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/http/server.h"

namespace {

using qfscale::http::Request;
using qfscale::http::Response;
using qfscale::http::Router;

/// A handler that answers with its own name, so a test sees which route won.
qfscale::http::Handler named(std::string name) {
  return [name](const Request&) { return qfscale::http::text_response(200, name); };
}

Request req(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

}  // namespace

TEST_SUITE("http") {
  TEST_CASE("router: exact paths beat longer prefixes beat shorter prefixes") {
    Router router;
    router.add("GET", "/*", named("root"))
        .add("GET", "/v2/*", named("v2"))
        .add("GET", "/v2/service", named("exact"))
        .add("POST", "/v2/service", named("exact-post"));

    struct Case {
      std::string_view name;
      std::string_view method;
      std::string_view target;
      int status;
      std::string_view body;
    };
    const Case cases[] = {
        {.name = "exact", .method = "GET", .target = "/v2/service", .status = 200, .body = "exact"},
        {.name = "exact ignores query",
         .method = "GET",
         .target = "/v2/service?Action=X",
         .status = 200,
         .body = "exact"},
        {.name = "method picks among exact",
         .method = "POST",
         .target = "/v2/service",
         .status = 200,
         .body = "exact-post"},
        {.name = "prefix", .method = "GET", .target = "/v2/other", .status = 200, .body = "v2"},
        {.name = "prefix with empty rest",
         .method = "GET",
         .target = "/v2/",
         .status = 200,
         .body = "v2"},
        {.name = "prefix needs its slash: /v2 falls to root",
         .method = "GET",
         .target = "/v2",
         .status = 200,
         .body = "root"},
        {.name = "root catches all",
         .method = "GET",
         .target = "/x/y",
         .status = 200,
         .body = "root"},
        {.name = "exact path, wrong method is 405 even though a prefix route has it",
         .method = "DELETE",
         .target = "/v2/service",
         .status = 405,
         .body = ""},
    };
    for (const auto& c : cases) {
      SUBCASE(std::string(c.name).c_str()) {
        const Response res = router.dispatch(req(std::string(c.method), std::string(c.target)));
        CHECK(res.status == c.status);
        if (c.status == 200) CHECK(res.body == c.body);
      }
    }
  }

  TEST_CASE("router: 404 for unknown paths, 405 lists each allowed method once") {
    Router router;
    router.add("GET", "/a", named("get-a"))
        .add("PUT", "/a", named("put-a"))
        .add("GET", "/a", named("get-a-again"));

    const Response missing = router.dispatch(req("GET", "/b"));
    CHECK(missing.status == 404);
    CHECK(missing.body.find("/b") != std::string::npos);

    const Response wrong = router.dispatch(req("POST", "/a"));
    CHECK(wrong.status == 405);
    CHECK(wrong.header("Allow") == "GET, PUT");

    // The first registration wins for duplicates.
    CHECK(router.dispatch(req("GET", "/a")).body == "get-a");
  }

  TEST_CASE("router: an empty router answers 404") {
    CHECK(Router{}.dispatch(req("GET", "/")).status == 404);
  }
}
