// Issue 14 item 7: a config whose paths point at the wrong file (the credentials file given as a
// policy, or as the config itself) or whose URL carries a password must not copy the secret
// into a diagnostic or into `config check --show`.

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"
#include "qfscale/util/redact.h"

#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

// Planted keys in the shape of real BCE keys (32 hex characters).
constexpr std::string_view kAccessKey = "9d3c0e5b1a7f4e2d8c6b0a9f1e3d5c7b";
constexpr std::string_view kSecretKey = "e41f0c9d8b7a6f5e4d3c2b1a0f9e8d7c";

std::string credentials_file() {
  return fmt::format("QIANFAN_ACCESS_KEY={}\nQIANFAN_SECRET_KEY={}\n", kAccessKey, kSecretKey);
}

/// Every diagnostic as one text, file names included.
std::string all_text(const util::Diagnostics& ds) { return util::to_string(ds); }

void check_no_secret(std::string_view text) {
  CHECK(text.find(kAccessKey) == std::string_view::npos);
  CHECK(text.find(kSecretKey) == std::string_view::npos);
  CHECK(text.find("QIANFAN_SECRET_KEY") == std::string_view::npos);
}

TEST_SUITE("controller") {
  TEST_CASE("config secrets: a policy path at the credentials file reports without its content") {
    MemoryFiles files;
    files.files["/etc/qfscale/secrets/ak-sk.yaml"] = credentials_file();
    const auto got = parse(make_config({.service = "policy: secrets/ak-sk.yaml"}), files);
    REQUIRE_FALSE(got.has_value());
    const auto text = all_text(got.error());
    check_no_secret(text);
    CHECK(text.find("/etc/qfscale/secrets/ak-sk.yaml:1:1: " + std::string(util::kHiddenSecret) +
                    " is not a mapping") != std::string::npos);
  }

  TEST_CASE("config secrets: the credentials file read as the config reports without content") {
    const auto got = parse(credentials_file());
    REQUIRE_FALSE(got.has_value());
    check_no_secret(all_text(got.error()));
  }

  TEST_CASE("config secrets: a long wrong file is quoted as a short prefix only") {
    std::string passwd;
    for (int i = 0; i < 50; ++i)
      passwd += fmt::format("user{}:x:{}:{}::/home/u:/bin/sh\n", i, i, i);
    const auto got = parse(passwd);
    REQUIRE_FALSE(got.has_value());
    const auto text = all_text(got.error());
    CHECK(text.find("user0:x:0:0::/home/u:/bin/sh user1:x:1:1...") != std::string::npos);
    CHECK(text.find("user2:") == std::string::npos);
  }

  TEST_CASE("config secrets: a key that looks like a secret is not echoed in the field path") {
    const auto got = parse(make_config({.loop = fmt::format("{}: 1", kSecretKey)}));
    REQUIRE_FALSE(got.has_value());
    const auto text = all_text(got.error());
    check_no_secret(text);
    CHECK(text.find(fmt::format("loop.{}: unknown field", util::kHiddenSecret)) !=
          std::string::npos);
  }

  TEST_CASE("config secrets: a quoted value is bounded and its control characters escaped") {
    const auto got =
        parse(make_config({.loop = R"(listen: "\e[2J\nhost:1:2:3:4:5:6:7:8:9:0:1:2:3:4:5:6:7")"}));
    REQUIRE_FALSE(got.has_value());
    const auto text = all_text(got.error());
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find("\\x1b[2J\\nhost:1:2:3:4:5:6:7:8:9:0:1:2:3:4:5:...") != std::string::npos);
  }

  TEST_CASE("config secrets: a Prometheus password is accepted and never shown") {
    const std::string password = std::string(kSecretKey);
    const auto got = parse(make_config(
        {.metrics = fmt::format("prometheus: {{url: 'http://reader:{}@prom:9090', query: q}}",
                                password)}));
    REQUIRE_MESSAGE(got.has_value(), all_text(got.error()));
    const auto shown = to_yaml(*got);
    CHECK(shown.find(password) == std::string::npos);
    CHECK(shown.find("url: \"http://reader:***@prom:9090\"") != std::string::npos);
  }

  TEST_CASE("config secrets: bad Prometheus user info is a located error without the password") {
    const auto got =
        parse(make_config({.metrics = "prometheus: {url: 'http://u:hunter%2@prom', query: q}"}));
    REQUIRE_FALSE(got.has_value());
    const auto text = joined(lines_of(got.error()));
    CHECK(text.find("hunter") == std::string::npos);
    CHECK(text.find("4:") == 0);  // the metrics line
    CHECK(text.find("metrics.prometheus.url: the user info has a bad percent-encoding") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::controller::test
