#pragma once

/// Invariants (Envoy's split): QFS_CHECK is fatal in every build, QFS_ASSERT only in debug.
/// Never use either on external input: that is an Error.

#include <string_view>

namespace qfscale::util::detail {
[[noreturn]] void check_failed(std::string_view condition, std::string_view message,
                               std::string_view file, int line);
}  // namespace qfscale::util::detail

#define QFS_CHECK(cond, msg)                                                              \
  do {                                                                                    \
    if (!(cond)) ::qfscale::util::detail::check_failed(#cond, (msg), __FILE__, __LINE__); \
  } while (false)

#ifdef NDEBUG
#define QFS_ASSERT(cond, msg) \
  do {                        \
  } while (false)
#else
#define QFS_ASSERT(cond, msg) QFS_CHECK(cond, msg)
#endif
