#pragma once

/// Whole-file reads and crash-safe writes, used outside the pure modules (cli, controller).
/// Also the system time zone source that feeds `policy::load_policy`.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/util/result.h"
#include "qfscale/util/zone_source.h"

namespace qfscale::util {

/// Size caps per kind of file for `read_file`, so that a wrong path (a symlink to /dev/zero, a
/// log file) fails at once instead of allocating without bound.
/// Config, policy, scenario, credentials, `policy eval` steps and TZif files are hand-written or
/// small: the shipped example config is 4 KiB, the largest TZif file about 3 KiB.
inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20;
/// The controller state file grows with services and windows: 10,000 services at the default
/// 15 s tick measure about 16 MiB with `balanced` (5-minute windows) and 216 MiB with every
/// window at its 1-hour maximum (tests/unit/controller/state_size_test.cc); twice that is room
/// for longer ids, and a state that large cannot be written every tick anyway.
inline constexpr std::size_t kMaxStateFileBytes = std::size_t{512} << 20;
/// Traces: a two-day per-second `t_seconds,qps` CSV is about 3 MiB; a year is about 600 MiB.
inline constexpr std::size_t kMaxTraceFileBytes = std::size_t{1} << 30;

/// Reads the whole of a regular file of at most `max_bytes`. The file is opened non-blocking and
/// checked on the open descriptor (no race between check and open), so a FIFO, a device or a
/// socket is refused instead of blocking or reading for ever. Fails with InvalidInput (not
/// found, not a regular file, larger than `max_bytes`, permission denied) or Internal (read
/// error); the message names the path and the reason, never the content.
[[nodiscard]] Result<std::string> read_file(const std::string& path,
                                            std::size_t max_bytes = kMaxConfigFileBytes);

/// Replaces `path` atomically: writes `<path>.tmp.<pid>` in the same directory, fsyncs it,
/// renames it over `path`, then fsyncs the directory so the rename survives a crash. Readers
/// see the old or the new content, never a mix. The file is created with mode 0600 (owner
/// only; the temporary file is never readable by others either). Thread-safety: concurrent
/// calls on the same path from one process race on the temporary name; callers serialise.
[[nodiscard]] Status write_file_atomic(const std::string& path, std::string_view content);

/// Reads `<root>/<name>` (default root /usr/share/zoneinfo). Names that are empty, absolute,
/// contain "..", or use characters outside [A-Za-z0-9/_+-] are refused (nullopt), so a policy
/// cannot make the controller read arbitrary files. Thread-safety: the returned function is
/// safe to call concurrently.
[[nodiscard]] ZoneSource system_zone_source(std::string root = "/usr/share/zoneinfo");

}  // namespace qfscale::util
