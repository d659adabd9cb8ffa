#include "qfscale/util/file_lock.h"

#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qfscale/util/file.h"

#include "support/temp_dir.h"

namespace qfscale::util {
namespace {

TEST_SUITE("util") {
  TEST_CASE("file lock: a second holder is refused with the first one's pid, until released") {
    qfscale::test::TempDir dir("qfscale-lock-test-");
    const auto path = dir.file("state.json.lock");
    auto first = FileLock::acquire(path);
    REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().to_string()));
    // flock belongs to the open file description: a second open in this process conflicts
    // just as another process would.
    auto second = FileLock::acquire(path);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code == ErrorCode::InvalidInput);
    CHECK(second.error().message ==
          fmt::format("another qfscale (pid {}) holds {}: two controllers on one state file or "
                      "audit log would both act; stop the other one or give this one its own "
                      "files",
                      ::getpid(), path));
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777U) == 0600U);
    {
      const FileLock moved = std::move(*first);  // the lock moves with it
      CHECK_FALSE(FileLock::acquire(path).has_value());
    }
    CHECK(FileLock::acquire(path).has_value());  // released: a restart is not blocked
  }

  TEST_CASE("file lock: a missing directory is named") {
    auto lock = FileLock::acquire("/nonexistent-qfscale-dir/state.json.lock");
    REQUIRE_FALSE(lock.has_value());
    CHECK(lock.error().message.find("/nonexistent-qfscale-dir/state.json.lock") !=
          std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::util
