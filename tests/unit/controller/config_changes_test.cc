// restart_only_changes: what a reload logs as waiting for a restart.

#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"

#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

TEST_SUITE("controller") {
  TEST_CASE("config: restart_only_changes lists the keys a reload cannot apply") {
    auto running = parse(make_config({.loop = "stateFile: /s/state.json"}));
    REQUIRE(running.has_value());
    auto same = parse(
        make_config({.service = "priority: 5", .loop = "stateFile: /s/state.json, dryRun: true"}));
    REQUIRE(same.has_value());
    CHECK(restart_only_changes(*running, *same).empty());  // both apply on reload

    auto changed = parse(make_config(
        {.qianfan = "baseUrl: http://127.0.0.1:1, timeout: 20s",
         .metrics = "prometheus: {url: http://prom:9091, query: q}",
         .loop = "stateFile: /t/state.json, auditLog: /t/audit.jsonl, interval: 30s, listen: "
                 "127.0.0.1:1"}));
    REQUIRE(changed.has_value());
    CHECK(restart_only_changes(*running, *changed) ==
          std::vector<std::string_view>{"qianfan.baseUrl", "qianfan.timeout", "metrics",
                                        "loop.interval", "loop.listen", "loop.stateFile",
                                        "loop.auditLog"});

    // The Qianfan client is made once at start with its CA file (the Prometheus one is part
    // of the metrics section above).
    auto other_ca = *running;
    other_ca.qianfan.ca_file = "/etc/qfscale/ca.pem";
    CHECK(restart_only_changes(*running, other_ca) ==
          std::vector<std::string_view>{"qianfan.caFile"});
  }
}

}  // namespace
}  // namespace qfscale::controller::test
