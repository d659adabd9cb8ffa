// The fake with --fencing: tokens recorded, an older token refused with a clear error.

#include <string>

#include <doctest/doctest.h>

#include "unit/fake/fixture.h"

namespace qfscale::fake {
namespace {

using testing::Harness;
using testing::kAlpha;
using testing::kUnitA;

http::Response fenced_scale(Harness& h, int replicas, std::string token,
                            std::string_view service = kAlpha, std::string_view unit = kUnitA) {
  auto request = testing::signed_request(
      h.clock, "/v2/service", "ScaleService",
      R"({"serviceId":")" + std::string(service) + R"(","instanceId":")" + std::string(unit) +
          R"(","deploymentReplicasCount":)" + std::to_string(replicas) + "}");
  if (!token.empty()) request.headers.push_back({"x-qfscale-fencing-token", std::move(token)});
  return h.fake->handle(request);
}

TEST_SUITE("fake") {
  TEST_CASE("fake fencing: a token older than the newest seen is refused, equal or newer pass") {
    Scenario s = testing::test_scenario();
    s.fencing = true;
    Harness h(s);
    CHECK(fenced_scale(h, 1, "41").status == 200);
    CHECK(fenced_scale(h, 1, "41").status == 200);  // the same leader again
    CHECK(fenced_scale(h, 1, "57").status == 200);  // a newer leader
    const auto stale = fenced_scale(h, 2, "41");    // the old one, late
    CHECK(stale.status == 409);
    CHECK(stale.body.find("\"code\":\"FencingTokenStale\"") != std::string::npos);
    CHECK(stale.body.find("fencing token 41 is older than 57, which this server has already "
                          "seen: a newer leader acts now, so this ScaleService is refused") !=
          std::string::npos);
    // The refused call changed nothing.
    CHECK(testing::json_int(h.describe(kAlpha).body, "/result/resourceConfig/replicasCount") == 1);
    const auto missing = fenced_scale(h, 1, "");
    CHECK(missing.status == 400);
    CHECK(missing.body.find("FencingTokenMissing") != std::string::npos);
    CHECK(fenced_scale(h, 1, "-3").status == 400);

    const auto log = h.get("/admin/fencing");
    CHECK(log.status == 200);
    CHECK(log.body ==
          "{\"newest\":57,\"calls\":["
          "{\"action\":\"ScaleService\",\"service\":\"svco-aaaaaaaaaaa1\",\"token\":41,"
          "\"accepted\":true},"
          "{\"action\":\"ScaleService\",\"service\":\"svco-aaaaaaaaaaa1\",\"token\":41,"
          "\"accepted\":true},"
          "{\"action\":\"ScaleService\",\"service\":\"svco-aaaaaaaaaaa1\",\"token\":57,"
          "\"accepted\":true},"
          "{\"action\":\"ScaleService\",\"service\":\"svco-aaaaaaaaaaa1\",\"token\":41,"
          "\"accepted\":false},"
          "{\"action\":\"ScaleService\",\"service\":\"svco-aaaaaaaaaaa1\",\"token\":0,"
          "\"accepted\":false},"
          "{\"action\":\"ScaleService\",\"service\":\"svco-aaaaaaaaaaa1\",\"token\":0,"
          "\"accepted\":false}]}\n");
  }

  TEST_CASE("fake fencing: tokens are compared per service (one owner per shard)") {
    Scenario s = testing::test_scenario();
    s.fencing = true;
    Harness h(s);
    CHECK(fenced_scale(h, 1, "57", kAlpha).status == 200);          // the owner of alpha's shard
    CHECK(fenced_scale(h, 1, "41", testing::kBeta).status == 200);  // another shard's owner
    CHECK(fenced_scale(h, 1, "41", kAlpha).status == 409);          // alpha has seen 57
    const auto log = h.get("/admin/fencing");
    CHECK(log.body.starts_with("{\"newest\":57,"));
  }

  TEST_CASE("fake fencing: off by default, tokens are ignored") {
    Harness h;
    CHECK(fenced_scale(h, 1, "").status == 200);
    CHECK(fenced_scale(h, 1, "5").status == 200);
    CHECK(fenced_scale(h, 1, "4").status == 200);
  }
}

}  // namespace
}  // namespace qfscale::fake
