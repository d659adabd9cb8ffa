#include <cstdlib>
#include <regex>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/telemetry/exporter.h"
#include "qfscale/util/file.h"

#include "support/golden.h"

namespace qfscale::telemetry {
namespace {

TEST_SUITE("telemetry") {
  TEST_CASE("docs: grafana/METRICS.md documents exactly the families the exporter creates") {
    const auto doc = util::read_file(std::string(QFS_SOURCE_DIR) + "/grafana/METRICS.md");
    REQUIRE_MESSAGE(doc.has_value(), (doc ? "" : doc.error().to_string()));
    util::ManualClock clock;
    auto exporter = Exporter::create({}, clock);
    REQUIRE(exporter.has_value());
    const auto names = (*exporter)->family_names();
    REQUIRE_FALSE(names.empty());
    const std::set<std::string> created(names.begin(), names.end());
    for (const auto& name : names) {
      CAPTURE(name);
      CHECK(doc->find("`" + name + "`") != std::string::npos);
    }
    // And nothing documented that does not exist (histogram series suffixes aside).
    const std::regex metric_name(R"(qfscale_[a-z0-9_]+)");
    for (auto it = std::sregex_iterator(doc->begin(), doc->end(), metric_name);
         it != std::sregex_iterator(); ++it) {
      std::string name = it->str();
      for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (!created.contains(name) && name.ends_with(suffix)) {
          name.resize(name.size() - suffix.size());
        }
      }
      CAPTURE(it->str());
      CHECK(created.contains(name));
    }
  }

  TEST_CASE("docs: grafana/METRICS.md lists every endpoint") {
    const auto doc = util::read_file(std::string(QFS_SOURCE_DIR) + "/grafana/METRICS.md");
    REQUIRE(doc.has_value());
    for (const auto* route :
         {"/metrics", "/healthz", "/readyz", "/api/v1/decisions", "/api/v1/decisions/{service}"}) {
      CAPTURE(route);
      CHECK(doc->find(std::string("`GET ") + route + "`") != std::string::npos);
    }
  }
}

}  // namespace
}  // namespace qfscale::telemetry

namespace qfscale::telemetry {
namespace {

TEST_SUITE("telemetry") {
  TEST_CASE("golden: a mismatch fails with the first differing place unless updating") {
    const char* update = std::getenv("QFS_UPDATE_GOLDEN");  // NOLINT(concurrency-mt-unsafe)
    if (update != nullptr && std::string_view(update) == "1") return;  // would overwrite it
    const auto result = qfscale::test::check_golden("metrics.txt", "# not the golden\n");
    CHECK_FALSE(result.ok);
    CHECK(result.message.find("differs at line 1 column 3") != std::string::npos);
    CHECK_FALSE(qfscale::test::check_golden("no-such-golden.txt", "x").ok);
  }
}

}  // namespace
}  // namespace qfscale::telemetry
