#include "qfscale/util/file.h"

#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qfscale::util {
namespace {

/// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("qfscale-file-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

TEST_SUITE("util") {
  TEST_CASE("file: write_file_atomic creates the file owner-only (0600), whatever the umask") {
    TempDir dir;
    const auto path = (dir.path / "state.json").string();
    const mode_t old_mask = ::umask(0);
    const auto written = write_file_atomic(path, "{}");
    ::umask(old_mask);
    REQUIRE(written.has_value());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777U) == 0600U);
  }

  TEST_CASE("file: write_file_atomic then read_file returns the content") {
    TempDir dir;
    const auto path = (dir.path / "state.json").string();
    REQUIRE(write_file_atomic(path, "first").has_value());
    CHECK(read_file(path) == std::string("first"));
    // Replacing keeps no temporary file behind.
    const std::string big(200'000, 'x');
    REQUIRE(write_file_atomic(path, big).has_value());
    CHECK(read_file(path) == big);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path),
                        std::filesystem::directory_iterator{}) == 1);
  }

  TEST_CASE("file: errors name the path") {
    TempDir dir;
    const auto missing = (dir.path / "missing.yaml").string();
    auto r = read_file(missing);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::InvalidInput);
    CHECK(r.error().message.find(missing) != std::string::npos);
    auto d = read_file(dir.path.string());
    REQUIRE_FALSE(d.has_value());
    CHECK(d.error().message.find("directory") != std::string::npos);
    auto w = write_file_atomic((dir.path / "no" / "such" / "dir").string(), "x");
    CHECK_FALSE(w.has_value());
  }

  TEST_CASE("file: system_zone_source reads only names under its root") {
    TempDir dir;
    std::filesystem::create_directories(dir.path / "Asia");
    REQUIRE(write_file_atomic((dir.path / "Asia" / "Test").string(), "TZif-bytes").has_value());
    REQUIRE(write_file_atomic((dir.path / "secret").string(), "s").has_value());
    const auto zones = system_zone_source((dir.path / "Asia").string() + "/..");
    CHECK(zones("Asia/Test") == std::string("TZif-bytes"));
    CHECK_FALSE(zones("Asia/Missing").has_value());
    CHECK_FALSE(zones("../secret").has_value());
    CHECK_FALSE(zones("Asia/../secret").has_value());
    CHECK_FALSE(zones("/etc/hostname").has_value());
    CHECK_FALSE(zones("").has_value());
    CHECK_FALSE(zones("Asia/Test\n").has_value());
  }
}

}  // namespace
}  // namespace qfscale::util
