// The audit log: JSON lines appended with one write and one fdatasync per tick, rotated by size.
//
// Failures never stop the controller: a line that could not be written stays queued (up to
// kMaxPendingBytes) and goes out with the next tick's lines, so a full disk that recovers loses
// nothing; the error is kept for last_status().

#include "qfscale/controller/audit_log.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qfscale/model/decision.h"
#include "qfscale/telemetry/decision_json.h"
#include "qfscale/telemetry/exporter.h"
#include "qfscale/util/json_writer.h"
#include "qfscale/util/time_text.h"

namespace qfscale::controller {
namespace {

using util::JsonWriter;

/// Lines kept while the file cannot be written. Past this the oldest are dropped: a controller
/// that cannot log for hours must not grow without bound. 8 MiB holds some hundred ticks of a
/// large deployment (a decision line is about 2 KiB).
constexpr std::size_t kMaxPendingBytes = 8U << 20U;

std::string errno_text(int err) { return std::strerror(err); }  // NOLINT(concurrency-mt-unsafe)

bool logged(model::ActuationOutcome outcome) {
  using model::ActuationOutcome;
  return outcome == ActuationOutcome::Applied || outcome == ActuationOutcome::DryRun ||
         outcome == ActuationOutcome::Failed || outcome == ActuationOutcome::Refused;
}

void append_decision_line(std::string& out, const model::Decision& d) {
  // decision_to_json's object with "type" first: `{"type":"decision",` + the rest of it.
  const std::string object = telemetry::decision_to_json(d);
  out += R"({"type":"decision",)";
  out.append(object, 1, std::string::npos);
  out.push_back('\n');
}

void append_scale_line(std::string& out, const model::Decision& d, const model::ScaleCall& c) {
  JsonWriter w;
  w.begin_object();
  w.key("type").string("scale");
  w.key("at").string(util::format_rfc3339(d.at));
  w.key("service").string(d.service.value);
  telemetry::write_call_fields(w, c);
  w.key("dryRun").boolean(c.outcome == model::ActuationOutcome::DryRun);
  w.end_object();
  out += w.str();
  out.push_back('\n');
}

/// `{"type":"tick","at":...,"success":bool,"errors":[{"stage","code","message"}]}`.
void append_tick_line(std::string& out, const telemetry::TickReport& report) {
  JsonWriter w;
  w.begin_object();
  w.key("type").string("tick");
  w.key("at").string(util::format_rfc3339(report.finished_at));
  w.key("success").boolean(report.success);
  w.key("errors").begin_array();
  for (const auto& e : report.errors) {
    w.begin_object();
    w.key("stage").string(telemetry::to_string(e.stage));
    w.key("code").string(telemetry::to_string(e.code));
    w.key("message").string(e.message);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += w.str();
  out.push_back('\n');
}

// Adds `"fencingToken":N` as the last field of every line in `lines` (each ends with "}\n").
void stamp(std::string& lines, std::int64_t token) {
  if (token == 0) return;
  const std::string field = fmt::format(",\"fencingToken\":{}}}\n", token);
  std::string out;
  out.reserve(lines.size() + lines.size() / 8);
  std::size_t start = 0;
  while (start < lines.size()) {
    const auto end = lines.find('\n', start);
    if (end == std::string::npos || end == start) break;
    out.append(lines, start, end - start - 1);  // without "}\n"
    out += field;
    start = end + 1;
  }
  lines = std::move(out);
}

}  // namespace

struct AuditLog::Impl {
  AuditLogOptions options;
  std::atomic<std::int64_t> fencing_token{0};
  std::mutex tokens_mutex;
  std::map<std::string, std::int64_t, std::less<>> service_tokens;  // guarded by tokens_mutex
  std::mutex mutex;
  int fd = -1;
  /// Bytes not written yet (after a failed or short write), oldest first.
  std::string pending;
  Status status;

  ~Impl() {
    if (fd >= 0) {
      if (!pending.empty()) flush();
      ::close(fd);
    }
  }
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  Status open_file() {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    fd = ::open(options.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      const int err = errno;
      return fail(ErrorCode::InvalidInput,
                  fmt::format("cannot open audit log {}: {}", options.path, errno_text(err)));
    }
    return util::ok();
  }

  [[nodiscard]] Status write_failed(std::string_view what, int err) const {
    return fail(ErrorCode::Internal,
                fmt::format("audit log {}: {}: {}", options.path, what, errno_text(err)));
  }

  /// Appends `lines` (whole lines) and writes everything pending. Caller holds `mutex`.
  void append(std::string_view lines) {
    if (pending.size() + lines.size() > kMaxPendingBytes) {
      // Drop what is queued except its first line: that may be the tail of a line already half
      // in the file, and without it two lines would end up glued together.
      const auto end_of_first = pending.find('\n');
      pending.erase(end_of_first == std::string::npos ? 0 : end_of_first + 1);
      if (pending.size() + lines.size() > kMaxPendingBytes) {
        status = fail(ErrorCode::Internal,
                      fmt::format("audit log {}: a tick's lines exceed {} bytes; dropped",
                                  options.path, kMaxPendingBytes));
        return;
      }
    }
    pending.append(lines);
    status = flush();
  }

  Status flush() {
    if (fd < 0) {
      if (auto r = open_file(); !r) return r;
    }
    std::size_t done = 0;
    while (done < pending.size()) {
      const ssize_t n = ::write(fd, pending.data() + done, pending.size() - done);
      if (n < 0) {
        const int err = errno;
        if (err == EINTR) continue;
        pending.erase(0, done);
        return write_failed("write", err);
      }
      done += static_cast<std::size_t>(n);
    }
    pending.clear();
    if (::fdatasync(fd) != 0) return write_failed("fdatasync", errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return write_failed("fstat", errno);
    if (static_cast<std::uint64_t>(st.st_size) > options.max_bytes) return rotate();
    return util::ok();
  }

  /// logrotate's scheme: path.<keep-1> -> path.<keep> (replacing the oldest), ..., path ->
  /// path.1, then a new empty path. A failed step leaves the current file in use; the next
  /// write tries again.
  Status rotate() {
    const std::string& path = options.path;
    for (int i = options.keep - 1; i >= 1; --i) {
      const std::string from = fmt::format("{}.{}", path, i);
      const std::string to = fmt::format("{}.{}", path, i + 1);
      if (::rename(from.c_str(), to.c_str()) != 0) {
        const int err = errno;
        if (err != ENOENT) return write_failed(fmt::format("rotate {} -> {}", from, to), err);
      }
    }
    const std::string first = path + ".1";
    if (::rename(path.c_str(), first.c_str()) != 0) {
      const int err = errno;
      return write_failed(fmt::format("rotate {} -> {}", path, first), err);
    }
    ::close(fd);
    fd = -1;
    if (auto r = open_file(); !r) return r;
    // Make the renames and the new file durable, as the lines in them are.
    const auto slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
      const int err = errno;
      return write_failed(fmt::format("open directory {}", dir), err);
    }
    const int rc = ::fsync(dir_fd);
    const int err = errno;
    ::close(dir_fd);
    if (rc != 0) return write_failed(fmt::format("fsync directory {}", dir), err);
    return util::ok();
  }
};

Result<std::unique_ptr<AuditLog>> AuditLog::open(AuditLogOptions options) {
  if (options.path.empty()) return fail(ErrorCode::InvalidInput, "audit log: empty path");
  if (options.keep < 1) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("audit log {}: keep must be >= 1, got {}", options.path, options.keep));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (auto r = impl->open_file(); !r) return tl::unexpected(std::move(r).error());
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(impl)));
}

AuditLog::AuditLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuditLog::~AuditLog() = default;

void AuditLog::on_tick(const telemetry::TickReport& report) {
  std::string lines;
  std::map<std::string, std::int64_t, std::less<>> tokens;
  {
    const std::lock_guard lock(impl_->tokens_mutex);
    tokens = impl_->service_tokens;
  }
  const auto global = impl_->fencing_token.load();
  for (const auto& s : report.services) {
    std::string service_lines;
    append_decision_line(service_lines, s.decision);
    for (const auto& c : s.decision.calls) {
      if (logged(c.outcome)) append_scale_line(service_lines, s.decision, c);
    }
    const auto it = tokens.find(s.decision.service.value);
    stamp(service_lines, it != tokens.end() ? it->second : global);
    lines += service_lines;
  }
  if (!report.errors.empty()) {
    std::string tick_line;
    append_tick_line(tick_line, report);
    stamp(tick_line, global);
    lines += tick_line;
  }
  const std::lock_guard lock(impl_->mutex);
  if (lines.empty() && impl_->pending.empty()) return;
  impl_->append(lines);
}

void AuditLog::on_config(const telemetry::ConfigReload& /*reload*/) {
  // Deliberately nothing: a ConfigReload has no time, file or error text. Whoever loads the
  // config calls record_config with all three (and also sees the loads that fail).
}

void AuditLog::record_config(util::SystemTime at, bool success, std::string_view file,
                             std::string_view error) {
  JsonWriter w;
  w.begin_object();
  w.key("type").string("config");
  w.key("at").string(util::format_rfc3339(at));
  w.key("success").boolean(success);
  w.key("file").string(file);
  w.key("error").string(error);
  w.end_object();
  std::string line = w.take();
  line.push_back('\n');
  stamp(line, impl_->fencing_token.load());
  const std::lock_guard lock(impl_->mutex);
  impl_->append(line);
}

void AuditLog::set_fencing_token(std::int64_t token) { impl_->fencing_token.store(token); }

void AuditLog::set_service_tokens(std::map<std::string, std::int64_t, std::less<>> tokens) {
  const std::lock_guard lock(impl_->tokens_mutex);
  impl_->service_tokens = std::move(tokens);
}

Status AuditLog::last_status() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->status;
}

}  // namespace qfscale::controller
