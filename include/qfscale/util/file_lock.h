#pragma once

/// An exclusive advisory lock on a file (flock), held until the FileLock is destroyed, so that
/// two controllers cannot share one state file or audit log: the second is refused at start
/// instead of both acting. The lock file holds the holder's pid, for the refusal message.
/// flock locks belong to the open file description: a second `acquire` of the same path fails
/// even within one process, and the kernel releases the lock when the process dies (kill -9
/// included), so a stale lock file never blocks a restart.

#include <string>

#include "qfscale/util/result.h"

namespace qfscale::util {

/// Thread-safety: a value; move-only.
class FileLock {
 public:
  /// Opens (creating, mode 0600) `path` and takes an exclusive lock without waiting. When
  /// another holds it: InvalidInput "another qfscale (pid N) holds <path>". Other failures
  /// (missing directory, no permission) name the path and errno text.
  [[nodiscard]] static Result<FileLock> acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

}  // namespace qfscale::util
