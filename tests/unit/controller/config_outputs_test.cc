// The state file and audit log paths are vetted at load (config check and start).

#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "qfscale/controller/config.h"

#include "support/temp_dir.h"
#include "unit/controller/config_fixture.h"

namespace qfscale::controller::test {
namespace {

TEST_SUITE("controller") {
  TEST_CASE("config: output_path_problem names a missing, non-directory or directory path") {
    qfscale::test::TempDir dir("qfscale-config-outputs-");
    CHECK(output_path_problem(dir.file("state.json")) == std::nullopt);
    CHECK(output_path_problem(dir.file("gone/state.json")) ==
          "directory " + dir.file("gone") + " does not exist");
    { std::ofstream(dir.file("plain")) << "x"; }
    CHECK(output_path_problem(dir.file("plain/state.json")) ==
          dir.file("plain") + " is not a directory");
    std::filesystem::create_directory(dir.file("sub"));
    CHECK(output_path_problem(dir.file("sub")) == dir.file("sub") + " is a directory");
  }

  TEST_CASE("config: a state file or audit log that cannot be written is reported at its key") {
    const auto text = make_config(
        {.loop = "stateFile: /nowhere/state.json,\n  auditLog: /var/log/qfscale/audit.jsonl"});
    const OutputPathCheck check = [](const std::string& path) -> std::optional<std::string> {
      if (path.starts_with("/nowhere/")) return "directory /nowhere does not exist";
      return std::nullopt;
    };
    auto got = parse_config(text, std::string(kConfigFile), MemoryFiles{}.reader(), zones(), check);
    REQUIRE_FALSE(got.has_value());
    CHECK(joined(lines_of(got.error())) ==
          joined({"7:19: loop.stateFile: /nowhere/state.json cannot be written: directory "
                  "/nowhere does not exist; the controller writes it every tick"}));
    // Without a check (tests, in-memory configs) the same text loads.
    CHECK(parse(text).has_value());
  }
}

}  // namespace
}  // namespace qfscale::controller::test
