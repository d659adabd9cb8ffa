// qianfan.caFile and metrics.prometheus.caFile: checked when the config loads (the file reads and
// holds PEM certificates), reported at the key's line, resolved like every path, shown by
// to_yaml.

#include <string>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"
#include "qfscale/util/file.h"

#include "support/test_tls.h"
#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

std::string test_ca_pem() {
  auto text = util::read_file(qfscale::test::test_pki().ca_file);
  REQUIRE_MESSAGE(text.has_value(), (text ? "" : text.error().to_string()));
  return *text;
}

TEST_SUITE("controller") {
  TEST_CASE("config: caFile names a PEM bundle, resolved against the config's directory") {
    MemoryFiles files;
    files.files["/etc/qfscale/ca.pem"] = test_ca_pem();
    files.files["/etc/prom/ca.pem"] = test_ca_pem() + test_ca_pem();  // a bundle of two
    auto got = parse(make_config({.qianfan = "caFile: ca.pem",
                                  .metrics = "prometheus: {url: https://prom:9090, query: q, "
                                             "caFile: /etc/prom/ca.pem}"}),
                     files);
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : joined(lines_of(got.error()))));
    CHECK(got->qianfan.ca_file == "/etc/qfscale/ca.pem");
    CHECK(got->metrics.prometheus.ca_file == "/etc/prom/ca.pem");

    const std::string shown = to_yaml(*got);
    CHECK(shown.find("  caFile: \"/etc/qfscale/ca.pem\"\n") != std::string::npos);
    CHECK(shown.find("    caFile: \"/etc/prom/ca.pem\"\n") != std::string::npos);
    auto again = parse(shown, files);
    REQUIRE_MESSAGE(again.has_value(), (again ? "" : joined(lines_of(again.error()))));
    CHECK(again->qianfan.ca_file == got->qianfan.ca_file);
    CHECK(again->metrics.prometheus.ca_file == got->metrics.prometheus.ca_file);
  }

  TEST_CASE("config: without caFile the system store applies, and --show says so") {
    auto got = parse(make_config({}));
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : joined(lines_of(got.error()))));
    CHECK(got->qianfan.ca_file.empty());
    const std::string shown = to_yaml(*got);
    CHECK(shown.find("  # caFile: not set: the system CA store\n") != std::string::npos);
    CHECK(shown.find("    # caFile: not set: the system CA store\n") != std::string::npos);
  }

  TEST_CASE("config: a caFile that is missing, empty or not PEM is an error at its line") {
    MemoryFiles files;
    files.files["/etc/qfscale/empty.pem"] = "";
    files.files["/etc/qfscale/key.pem"] =
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
        "-----END PRIVATE KEY-----\n";
    files.files["/etc/qfscale/broken.pem"] =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    struct Case {
      std::string_view name;
      Parts parts;
      std::string_view want;
    };
    const Case cases[] = {
        {"missing",
         {.qianfan = "caFile: nowhere.pem"},
         "3:19: qianfan.caFile: cannot be read: cannot open /etc/qfscale/nowhere.pem: No such "
         "file or directory"},
        {"empty",
         {.qianfan = "caFile: empty.pem"},
         "3:19: qianfan.caFile: \"/etc/qfscale/empty.pem\" holds no PEM certificate (expected "
         "\"-----BEGIN CERTIFICATE-----\" blocks), must be a PEM bundle of CA certificates"},
        {"a key, not a certificate",
         {.qianfan = "caFile: key.pem"},
         "3:19: qianfan.caFile: \"/etc/qfscale/key.pem\" holds no PEM certificate (expected "
         "\"-----BEGIN CERTIFICATE-----\" blocks), must be a PEM bundle of CA certificates"},
        {"prometheus, a block that does not parse",
         {.metrics = "prometheus: {url: https://p:1, query: q, caFile: broken.pem}"},
         "4:60: metrics.prometheus.caFile: \"/etc/qfscale/broken.pem\" has a certificate that "
         "does not parse"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto got = parse(make_config(c.parts), files);
      REQUIRE_FALSE(got.has_value());
      const auto lines = lines_of(got.error());
      REQUIRE(lines.size() == 1);
      CHECK_MESSAGE(lines[0].starts_with(c.want), lines[0]);
    }
  }
}

}  // namespace
}  // namespace qfscale::controller::test
