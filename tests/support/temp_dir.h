#pragma once

/// A temporary directory for one test, removed with everything in it when the object goes away.

#include <filesystem>
#include <string>

namespace qfscale::test {

/// Creates a fresh, uniquely named directory under the system temp directory.
/// Thread-safety: `path` and `file` are const and safe; construct and destroy on one thread.
class TempDir {
 public:
  /// `prefix` names the directory, e.g. "qfscale-http-"; a random suffix makes it unique.
  /// Aborts the test binary when the directory cannot be created (nothing can work then).
  explicit TempDir(std::string prefix = "qfscale-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// `path() / name` as a string, for APIs that take file names.
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace qfscale::test
