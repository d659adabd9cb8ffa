#pragma once

/// Golden files (docs/CONVENTIONS.md 5.6): compare output with a committed file under
/// tests/data/golden, byte for byte. With the environment variable QFS_UPDATE_GOLDEN=1 the file is
/// (re)written instead and the check passes; review the diff before committing it.

#include <string>
#include <string_view>

namespace qfscale::test {

/// Outcome of a golden comparison. `message` says what differs (first differing line) or why the
/// file could not be read or written.
struct GoldenResult {
  bool ok = false;
  std::string message;
};

/// `name` is relative to tests/data/golden, e.g. "metrics.txt".
/// Thread-safety: none needed; call from the test thread.
[[nodiscard]] GoldenResult check_golden(std::string_view name, std::string_view actual);

}  // namespace qfscale::test
