#pragma once

/// "Did you mean": the closest known word to a mistyped one, for config keys, enum values,
/// policy names, command-line flags and subcommands alike.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace qfscale::util {

/// Levenshtein distance: insertions, deletions and substitutions, each costing 1.
/// edit_distance("polcy", "policy") == 1; edit_distance("statuss", "status") == 1.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` (ASCII case ignored), if close enough to be a likely typo:
/// at most max(1, a third of the shorter word's length) edits. Ties go to the earlier
/// candidate. Worked numbers: "polcy" -> "policy" (1 edit, limit 1); "statuss" -> "status"
/// (1 edit, limit 2); "simulte" -> "simulate" (1 edit, limit 2); "xyz" against "run" is 3 edits,
/// over the limit of 1, so nothing is suggested.
[[nodiscard]] std::optional<std::string_view> closest_match(
    std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace qfscale::util
