// docs/fake-scenario.md stays true to the parser: every `yaml` example on the page is a scenario
// the fake accepts, every `json` example a faults body POST /admin/faults accepts, and every key
// the parser knows is named on the page. The keys are asked of the parser itself (an unknown
// key's error lists the allowed ones), so a key added to src/fake/scenario.cc fails here until
// it is documented.

#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/util/file.h"

namespace qfscale::fake {
namespace {

const std::string kDoc = std::string(QFS_SOURCE_DIR) + "/docs/fake-scenario.md";

/// The bodies of the fenced blocks that open with "```<language>".
std::vector<std::string> fenced_blocks(std::string_view text, std::string_view language) {
  std::vector<std::string> blocks;
  const std::string open = "```" + std::string(language) + "\n";
  std::size_t at = 0;
  while ((at = text.find(open, at)) != std::string_view::npos) {
    const std::size_t body = at + open.size();
    const std::size_t close = text.find("\n```", body - 1);
    if (close == std::string_view::npos) break;
    blocks.emplace_back(text.substr(body, close + 1 - body));
    at = close + 4;
  }
  return blocks;
}

/// The keys the parser allows where `text` puts the key `bogus`: from the "allowed: a, b"
/// tail of its unknown-field diagnostic.
std::vector<std::string> allowed_keys(const util::Diagnostics& diagnostics) {
  for (const auto& d : diagnostics) {
    const bool bogus = d.path == "bogus" || d.path.ends_with(".bogus");
    if (!bogus || d.message.find("unknown field") == std::string::npos) continue;
    const auto from = d.message.find("(allowed: ") + 10;
    const auto list = d.message.substr(from, d.message.rfind(')') - from);
    std::vector<std::string> keys;
    std::size_t start = 0;
    while (start < list.size()) {
      const auto comma = list.find(", ", start);
      keys.push_back(list.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    return keys;
  }
  return {};
}

TEST_SUITE("fake") {
  TEST_CASE("scenario doc: every yaml example is a scenario the fake accepts") {
    const auto doc = util::read_file(kDoc);
    REQUIRE_MESSAGE(doc.has_value(), doc.error().to_string());
    const auto examples = fenced_blocks(*doc, "yaml");
    REQUIRE_FALSE(examples.empty());
    for (const auto& example : examples) {
      CAPTURE(example);
      const auto parsed = parse_scenario(example, "docs/fake-scenario.md");
      REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : util::to_string(parsed.error())));
      CHECK(validate(*parsed).empty());
      CHECK_FALSE(parsed->instances.empty());
      CHECK_FALSE(parsed->services.empty());
    }
    // The complete example sets every section, so FakeQianfan starts from it as it is.
    const auto complete = parse_scenario(examples.front(), "docs/fake-scenario.md");
    REQUIRE(complete.has_value());
    CHECK(complete->credentials.has_value());
    CHECK_FALSE(complete->faults.empty());
    util::ManualClock clock;
    CHECK(FakeQianfan::create(*complete, clock).has_value());
  }

  TEST_CASE("scenario doc: every json example is a faults body /admin/faults accepts") {
    const auto doc = util::read_file(kDoc);
    REQUIRE(doc.has_value());
    const auto examples = fenced_blocks(*doc, "json");
    REQUIRE_FALSE(examples.empty());
    for (const auto& example : examples) {
      CAPTURE(example);
      const auto parsed = parse_faults(example, "POST /admin/faults");
      REQUIRE_MESSAGE(parsed.has_value(), (parsed ? "" : util::to_string(parsed.error())));
      CHECK_FALSE(parsed->empty());
    }
  }

  TEST_CASE("scenario doc: every key the parser knows is described") {
    const auto doc = util::read_file(kDoc);
    REQUIRE(doc.has_value());
    struct Case {
      std::string_view name;
      std::string_view text;  // puts the key `bogus` where the keys of `name` go
      bool faults = false;    // a faults body rather than a scenario
    };
    const Case cases[] = {
        {.name = "top level", .text = "bogus: 1\n"},
        {.name = "credentials", .text = "credentials: {bogus: 1}\n"},
        {.name = "instances[]", .text = "instances: [{bogus: 1}]\n"},
        {.name = "services[]", .text = "services: [{bogus: 1}]\n"},
        {.name = "deployments[]", .text = "services: [{deployments: [{bogus: 1}]}]\n"},
        {.name = "faults", .text = R"({"*": {"bogus": 1}})", .faults = true},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      util::Diagnostics diagnostics;
      if (c.faults) {
        if (auto parsed = parse_faults(c.text, "probe"); !parsed) diagnostics = parsed.error();
      } else {
        if (auto parsed = parse_scenario(c.text, "probe"); !parsed) diagnostics = parsed.error();
      }
      const auto keys = allowed_keys(diagnostics);
      REQUIRE_MESSAGE(!keys.empty(), util::to_string(diagnostics));
      for (const auto& key : keys) {
        CAPTURE(key);
        CHECK(doc->find("`" + key + "`") != std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace qfscale::fake
