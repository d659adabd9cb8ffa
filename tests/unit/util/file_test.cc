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

  TEST_CASE("file: read_file refuses what is not a regular file, at once") {
    TempDir dir;
    // A FIFO with no writer: a blocking open would wait for ever (it did before the fix).
    const auto fifo = (dir.path / "state.json").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto f = read_file(fifo, kMaxStateFileBytes);
    REQUIRE_FALSE(f.has_value());
    CHECK(f.error().code == ErrorCode::InvalidInput);
    CHECK(f.error().message == "cannot read " + fifo + ": is a FIFO, must be a regular file");
    // A symlink to /dev/zero: reading it would allocate without bound.
    const auto zero = (dir.path / "policy.yaml").string();
    std::filesystem::create_symlink("/dev/zero", zero);
    auto z = read_file(zero);
    REQUIRE_FALSE(z.has_value());
    CHECK(z.error().message ==
          "cannot read " + zero + ": is a character device, must be a regular file");
  }

  TEST_CASE("file: read_file caps the size per kind of file") {
    TempDir dir;
    const auto path = (dir.path / "config.yaml").string();
    // At the cap reads, one byte over fails and says which limit.
    REQUIRE(write_file_atomic(path, std::string(kMaxConfigFileBytes, 'x')).has_value());
    CHECK(read_file(path).value_or("").size() == kMaxConfigFileBytes);
    REQUIRE(write_file_atomic(path, std::string(kMaxConfigFileBytes + 1, 'x')).has_value());
    auto over = read_file(path);
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().code == ErrorCode::InvalidInput);
    CHECK(over.error().message ==
          "cannot read " + path + ": larger than 1 MiB, the limit for this kind of file");
    CHECK(read_file(path, kMaxStateFileBytes).has_value());
    CHECK(read_file(path, 10).error().message.find("larger than 10 bytes") != std::string::npos);
    // A /proc file reports size 0 and still has content: the cap holds while reading too.
    CHECK(read_file("/proc/self/status", 1 << 16).has_value());
    CHECK_FALSE(read_file("/proc/self/status", 16).has_value());
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
