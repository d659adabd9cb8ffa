#include "qfscale/util/file_lock.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

namespace qfscale::util {

namespace {

std::string errno_text(int err) { return std::strerror(err); }  // NOLINT(concurrency-mt-unsafe)

/// The pid the holder wrote, or 0 when the file says nothing usable.
long holder_pid(int fd) {  // NOLINT(google-runtime-int)
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return 0;
  long pid = 0;  // NOLINT(google-runtime-int)
  const std::string_view text(buffer, static_cast<std::size_t>(n));
  std::from_chars(text.data(), text.data() + text.size(), pid);
  return pid;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
  // The held descriptor is read-only (flock needs no write access): a descriptor open for
  // writing would keep the file system from being remounted read-only (EBUSY) while we run.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return fail(ErrorCode::InvalidInput,
                fmt::format("cannot open lock file {}: {}", path, errno_text(err)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const auto pid = err == EWOULDBLOCK ? holder_pid(fd) : 0;
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return fail(ErrorCode::InvalidInput,
                  fmt::format("cannot lock {}: {}", path, errno_text(err)));
    }
    return fail(ErrorCode::InvalidInput,
                fmt::format("another qfscale{} holds {}: two controllers on one state file or "
                            "audit log would both act; stop the other one or give this one "
                            "its own files",
                            pid > 0 ? fmt::format(" (pid {})", pid) : "", path));
  }
  // Best effort: the pid only makes the refusal message of the next one more helpful.
  const std::string pid = fmt::format("{}\n", ::getpid());
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  if (const int out = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC); out >= 0) {
    (void)!::write(out, pid.data(), pid.size());
    ::close(out);
  }
  return FileLock(path, fd);
}

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the lock
}

}  // namespace qfscale::util
