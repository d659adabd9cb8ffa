// The `coordination.etcd` section: defaults, every rule at and beyond its bounds with
// file:line:col, the round trip through to_yaml, and restart-only.

#include <string>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"

#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

using namespace std::chrono_literals;

// The template config plus line 8: "coordination: {etcd: {<etcd>}}".
tl::expected<Config, util::Diagnostics> parse_with(const std::string& etcd) {
  MemoryFiles files;
  const std::string text =
      make_config({}) + (etcd == "-" ? "" : "coordination: {etcd: {" + etcd + "}}\n");
  return parse_config(text, "/etc/qfscale/qfscale.yaml", files.reader(), zones());
}

TEST_SUITE("controller") {
  TEST_CASE("config coordination: absent means none; set takes defaults for the rest") {
    auto none = parse_with("-");
    REQUIRE(none.has_value());
    CHECK_FALSE(none->coordination.etcd.has_value());
    auto c = parse_with("endpoints: [http://127.0.0.1:2379, https://e2:2379]");
    REQUIRE(c.has_value());
    REQUIRE(c->coordination.etcd.has_value());
    CHECK(c->coordination.etcd->endpoints ==
          std::vector<std::string>{"http://127.0.0.1:2379", "https://e2:2379"});
    CHECK(c->coordination.etcd->prefix == "/qfscale");
    CHECK(c->coordination.etcd->lease_ttl == 10s);
    CHECK(c->coordination.etcd->shards == 1);
    // The effective config reads back the same.
    MemoryFiles files;
    auto again = parse_config(to_yaml(*c), "/etc/qfscale/qfscale.yaml", files.reader(), zones());
    REQUIRE(again.has_value());
    CHECK(again->coordination == c->coordination);
  }

  TEST_CASE("config coordination: each rule with file:line:col") {
    struct Case {
      std::string_view name;
      std::string_view etcd;
      std::string_view want;  ///< "" when valid
    };
    const std::string ok = "endpoints: [http://127.0.0.1:2379]";
    const Case cases[] = {
        {.name = "ttl at minimum", .etcd = "endpoints: [http://a:1], leaseTtl: 2s", .want = ""},
        {.name = "ttl below minimum",
         .etcd = "endpoints: [http://a:1], leaseTtl: 1s",
         .want = "8:58: coordination.etcd.leaseTtl: 1s is out of range, must be in [2s, 5m]"},
        {.name = "ttl at maximum", .etcd = "endpoints: [http://a:1], leaseTtl: 5m", .want = ""},
        {.name = "ttl above maximum",
         .etcd = "endpoints: [http://a:1], leaseTtl: 301s",
         .want = "8:58: coordination.etcd.leaseTtl: 301s is out of range, must be in [2s, 5m]"},
        {.name = "one shard", .etcd = "endpoints: [http://a:1], shards: 1", .want = ""},
        {.name = "most shards", .etcd = "endpoints: [http://a:1], shards: 4096", .want = ""},
        {.name = "no shard",
         .etcd = "endpoints: [http://a:1], shards: 0",
         .want = "8:56: coordination.etcd.shards: 0 is out of range, must be in [1, 4096]"},
        {.name = "too many shards",
         .etcd = "endpoints: [http://a:1], shards: 4097",
         .want = "8:56: coordination.etcd.shards: 4097 is out of range, must be in [1, 4096]"},
        {.name = "shards not a number",
         .etcd = "endpoints: [http://a:1], shards: many",
         .want = "8:56: coordination.etcd.shards: many is not an integer"},
        {.name = "no endpoints",
         .etcd = "prefix: /x",
         .want = "8:22: coordination.etcd.endpoints: is required, must be a list of etcd client "
                 "URLs such as http://127.0.0.1:2379"},
        {.name = "empty endpoints",
         .etcd = "endpoints: []",
         .want = "8:34: coordination.etcd.endpoints: is empty, must list at least one http(s) "
                 "URL"},
        {.name = "not a URL",
         .etcd = "endpoints: [http://a:1, 'etcd:2379']",
         .want = "8:47: coordination.etcd.endpoints[1]: \"etcd:2379\" is not an http(s) URL such "
                 "as http://127.0.0.1:2379"},
        {.name = "prefix without slash",
         .etcd = "endpoints: [http://a:1], prefix: qfscale",
         .want = "8:56: coordination.etcd.prefix: qfscale is not allowed, must start with / and "
                 "not end with / (e.g. /qfscale)"},
        {.name = "prefix with trailing slash",
         .etcd = "endpoints: [http://a:1], prefix: /q/",
         .want = "8:56: coordination.etcd.prefix: /q/ is not allowed, must start with / and not "
                 "end with / (e.g. /qfscale)"},
        {.name = "certFile without keyFile",
         .etcd = "endpoints: [http://a:1], certFile: c.pem",
         .want = "8:58: coordination.etcd.certFile: needs its partner: set both certFile and "
                 "keyFile, or neither"},
        {.name = "certFile with keyFile",
         .etcd = "endpoints: [http://a:1], certFile: c, keyFile: k"},
        {.name = "unknown key",
         .etcd = "endpoints: [http://a:1], leaseTTL: 10s",
         .want = "8:48: coordination.etcd.leaseTTL: unknown field, did you mean 'leaseTtl'? "
                 "(allowed: endpoints, prefix, leaseTtl, shards, username, name, caFile, certFile, "
                 "keyFile)"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto r = parse_with(std::string(c.etcd));
      if (c.want.empty()) {
        CHECK(r.has_value());
        continue;
      }
      REQUIRE_FALSE(r.has_value());
      CHECK(joined(lines_of(r.error())) == std::string(c.want) + "\n");
    }
  }

  TEST_CASE("config coordination: shards reads back through the effective config") {
    auto c = parse_with("endpoints: [http://a:1], shards: 64");
    REQUIRE(c.has_value());
    CHECK(c->coordination.etcd->shards == 64);
    MemoryFiles files;
    auto again = parse_config(to_yaml(*c), "/etc/qfscale/qfscale.yaml", files.reader(), zones());
    REQUIRE(again.has_value());
    CHECK(again->coordination.etcd->shards == 64);
  }

  TEST_CASE("config coordination: a changed coordination section waits for a restart") {
    auto a = parse_with("endpoints: [http://a:1]");
    auto b = parse_with("endpoints: [http://a:1], leaseTtl: 20s");
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(restart_only_changes(*a, *b) == std::vector<std::string_view>{"coordination"});
  }
}

}  // namespace
}  // namespace qfscale::controller::test
