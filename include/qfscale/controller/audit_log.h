#pragma once

/// The audit log: JSON lines, one per decision and one per ScaleService call (sent or, in dry-run,
/// planned), appended and fsynced at the end of every tick, so what the controller did survives
/// a crash. When the file passes `max_bytes` it is rotated like logrotate: `audit.jsonl` ->
/// `audit.jsonl.1` -> ... -> `audit.jsonl.<keep>` (the oldest dropped).
///
/// Line shapes (every line has `type` and `at`, RFC 3339 UTC):
/// - `{"type":"decision", ...}`: the fields of `telemetry::decision_to_json`, one per service
///   per tick;
/// - `{"type":"scale","at":...,"service":...,"instanceId":...,"from":N,"to":N,"outcome":
///   "applied|dry_run|failed|refused","requestId":...,"error":...,"dryRun":bool}`, after its
///   decision line, for each of the decision's calls with one of those outcomes; `at` is the
///   decision's, so a scale line joins its decision on (service, at);
/// - `{"type":"tick","at":...,"success":bool,"errors":[{"stage":...,"code":...,"message":...}]}`
///   after the tick's other lines, when the tick had errors (`telemetry::TickError`; `at` is
///   the tick's end);
/// - `{"type":"config","at":...,"success":bool,"file":...,"error":...}` for each (re)load, from
///   `record_config`.
/// Secrets never reach it: only ids, counts and error messages (which never carry credentials).
///
/// A failed write never stops the controller: the error is kept for `last_status()`, and the
/// lines not written stay queued (at most 8 MiB, the oldest dropped first) and go out with the
/// next write. A file rotation that fails leaves the current file in use and is retried after
/// the next write.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "qfscale/telemetry/sink.h"
#include "qfscale/util/result.h"

namespace qfscale::controller {

struct AuditLogOptions {
  std::string path;
  std::uint64_t max_bytes = 64ULL << 20U;
  int keep = 5;  ///< >= 1
};

/// A telemetry sink: `on_tick` appends the tick's lines with one write and one fsync.
/// Thread-safety: every method serialises on an internal mutex.
class AuditLog final : public telemetry::TelemetrySink {
 public:
  /// Opens (creating, mode 0640 before the umask) the file for appending; an existing file is
  /// appended to, never truncated. InvalidInput when it cannot be opened or `keep` < 1.
  [[nodiscard]] static Result<std::unique_ptr<AuditLog>> open(AuditLogOptions options);
  ~AuditLog() override;
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  AuditLog(AuditLog&&) = delete;
  AuditLog& operator=(AuditLog&&) = delete;

  void on_tick(const telemetry::TickReport& report) override;
  /// Writes nothing: a ConfigReload has no time, file or error text, and the failed loads never
  /// reach the controller. Whoever loads the config calls `record_config` instead.
  void on_config(const telemetry::ConfigReload& reload) override;
  /// Records a config (re)load with the file and, on failure, the error text.
  void record_config(util::SystemTime at, bool success, std::string_view file,
                     std::string_view error);

  /// From now on every line ends with `"fencingToken":N` (the leader key's revision under
  /// which it was decided, coordination/election.h); 0 (the default) adds nothing.
  void set_fencing_token(std::int64_t token);
  /// With sharding each service has its own token (its shard's owner key revision): a decision
  /// or scale line of a service in `tokens` ends with that one instead. Empty: the one above.
  void set_service_tokens(std::map<std::string, std::int64_t, std::less<>> tokens);

  /// The last write or fsync error, if any (the controller reports it; the tick goes on).
  [[nodiscard]] Status last_status() const;

 private:
  struct Impl;
  explicit AuditLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qfscale::controller
