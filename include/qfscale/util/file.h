#pragma once

/// Whole-file reads and crash-safe writes, used outside the pure modules (cli, controller).
/// Also the system time zone source that feeds `policy::load_policy`.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/util/result.h"

namespace qfscale::util {

/// Reads the whole file. Fails with InvalidInput (not found, a directory, permission denied)
/// or Internal (read error); the message names the path and the system error.
[[nodiscard]] Result<std::string> read_file(const std::string& path);

/// Replaces `path` atomically: writes `<path>.tmp.<pid>` in the same directory, fsyncs it,
/// renames it over `path`, then fsyncs the directory so the rename survives a crash. Readers
/// see the old or the new content, never a mix. The file is created with mode 0600 (owner
/// only; the temporary file is never readable by others either). Thread-safety: concurrent
/// calls on the same path from one process race on the temporary name; callers serialise.
[[nodiscard]] Status write_file_atomic(const std::string& path, std::string_view content);

/// Returns TZif bytes for a zone name, or nullopt. Same type as `policy::ZoneSource`.
using ZoneSource = std::function<std::optional<std::string>(std::string_view zone_name)>;

/// Reads `<root>/<name>` (default root /usr/share/zoneinfo). Names that are empty, absolute,
/// contain "..", or use characters outside [A-Za-z0-9/_+-] are refused (nullopt), so a policy
/// cannot make the controller read arbitrary files. Thread-safety: the returned function is
/// safe to call concurrently.
[[nodiscard]] ZoneSource system_zone_source(std::string root = "/usr/share/zoneinfo");

}  // namespace qfscale::util
