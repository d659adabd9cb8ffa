#include "qfscale/util/file.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qfscale::util {

namespace {

std::string errno_text(int err) { return std::strerror(err); }  // NOLINT(concurrency-mt-unsafe)

ErrorCode code_for(int err) {
  return (err == ENOENT || err == EACCES || err == EISDIR || err == ENOTDIR || err == ELOOP)
             ? ErrorCode::InvalidInput
             : ErrorCode::Internal;
}

/// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }
  /// Closes now, reporting the error (close can report a failed delayed write).
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string_view file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

std::string size_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) {
    return fmt::format("{} MiB", bytes >> 20);
  }
  return fmt::format("{} bytes", bytes);
}

}  // namespace

Result<std::string> read_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, for ever.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    const int err = errno;
    return fail(code_for(err), fmt::format("cannot open {}: {}", path, errno_text(err)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return fail(ErrorCode::Internal, fmt::format("cannot stat {}: {}", path, errno_text(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(
        ErrorCode::InvalidInput,
        fmt::format("cannot read {}: is {}, must be a regular file", path, file_type(st.st_mode)));
  }
  const auto too_big = [&] {
    return fail(ErrorCode::InvalidInput,
                fmt::format("cannot read {}: larger than {}, the limit for this kind of file", path,
                            size_text(max_bytes)));
  };
  if (st.st_size > 0 && static_cast<std::uintmax_t>(st.st_size) > max_bytes) return too_big();
  std::string out;
  out.reserve(static_cast<std::size_t>(std::max<off_t>(st.st_size, 0)));
  char buffer[64 * 1024];
  while (true) {
    // One byte beyond the cap tells a file that grew (or a /proc file of size 0) is too big.
    std::size_t want = sizeof buffer;
    if (max_bytes - out.size() < want) want = max_bytes - out.size() + 1;
    const ssize_t n = ::read(fd.get(), buffer, want);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      return fail(code_for(err), fmt::format("cannot read {}: {}", path, errno_text(err)));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) return too_big();
  }
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view content) {
  const auto slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  auto failed = [&](std::string_view what, int err) {
    ::unlink(tmp.c_str());
    return fail(code_for(err),
                fmt::format("cannot write {}: {} {}: {}", path, what, tmp, errno_text(err)));
  };
  {
    // 0600: what is written may be private (the controller's state); the rename keeps the mode.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      const int err = errno;
      return fail(code_for(err),
                  fmt::format("cannot write {}: create {}: {}", path, tmp, errno_text(err)));
    }
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0) {
        const int err = errno;
        if (err == EINTR) continue;
        return failed("write", err);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return failed("fsync", errno);
    if (fd.close() != 0) return failed("close", errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return failed("rename", errno);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
    const int err = errno;
    return fail(code_for(err),
                fmt::format("cannot write {}: fsync directory {}: {}", path, dir, errno_text(err)));
  }
  return ok();
}

ZoneSource system_zone_source(std::string root) {
  return [root = std::move(root)](std::string_view name) -> std::optional<std::string> {
    const bool safe_chars = std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '/' || c == '_' || c == '+' || c == '-';
    });
    if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos ||
        !safe_chars) {
      return std::nullopt;
    }
    auto bytes = read_file(fmt::format("{}/{}", root, name));
    if (!bytes) return std::nullopt;
    return std::move(*bytes);
  };
}

}  // namespace qfscale::util
