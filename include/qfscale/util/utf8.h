#pragma once

/// UTF-8 well-formedness, for the writers that must not pass bad bytes on (JSON replies, quoted
/// excerpts of user files).

#include <cstddef>
#include <string_view>

namespace qfscale::util {

/// Length (1-4) of the well-formed UTF-8 sequence at the start of `text`, or 0 when there is
/// none (RFC 3629 table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF, no cut
/// sequence; an empty `text` is 0). E.g. "é…" -> 2, "\xC0\xAF" (overlong '/') -> 0,
/// "\xED\xA0\x80" (a surrogate) -> 0.
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view text);

}  // namespace qfscale::util
