// Issue 14 item 7, the fake's readers: a scenario or /admin/faults body that is the wrong file
// (the credentials file) is reported without quoting its secret or more than a short prefix.

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/util/redact.h"

namespace qfscale::fake {
namespace {

constexpr std::string_view kSecretKey = "e41f0c9d8b7a6f5e4d3c2b1a0f9e8d7c";

TEST_SUITE("fake") {
  TEST_CASE("scenario: the credentials file as a scenario is reported without its content") {
    const auto text = fmt::format("QIANFAN_ACCESS_KEY=ak1\nQIANFAN_SECRET_KEY={}\n", kSecretKey);
    const auto got = parse_scenario(text, "creds");
    REQUIRE_FALSE(got.has_value());
    const auto shown = util::to_string(got.error());
    CHECK(shown == fmt::format("creds:1:1: {} is not a mapping, must be a mapping with keys "
                               "credentials, startupDelay, modelUpdateDuration, allowedClockSkew, "
                               "seed, instances, services, faults\n",
                               util::kHiddenSecret));
  }

  TEST_CASE("scenario: quoted values and unknown keys are bounded and escaped") {
    const std::string long_name(300, 'n');
    const auto got = parse_scenario(
        fmt::format("seed: \"1\\e[2J\"\n{}: 1\n{}: 2\n", long_name, kSecretKey), "s.yaml");
    REQUIRE_FALSE(got.has_value());
    const auto shown = util::to_string(got.error());
    CHECK(shown.find('\x1b') == std::string::npos);
    CHECK(shown.find(kSecretKey) == std::string::npos);
    CHECK(shown.find(std::string(41, 'n')) == std::string::npos);
    CHECK(shown.find(std::string(40, 'n') + "...") != std::string::npos);
    CHECK(shown.find(fmt::format("s.yaml:3:1: {}: unknown field", util::kHiddenSecret)) !=
          std::string::npos);
  }

  TEST_CASE("faults: an /admin/faults body does not come back whole in the error") {
    const auto got = parse_faults(fmt::format("{{\"{}\": {{}}}}", kSecretKey), "request body");
    REQUIRE_FALSE(got.has_value());
    CHECK(util::to_string(got.error()).find(kSecretKey) == std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::fake
