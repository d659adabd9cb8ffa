#pragma once

/// Private to the capacity module: fixed-width unsigned keys that order like the values they stand
/// for, so the allocator ranks ids and events by comparing machine words instead of strings and
/// doubles. Ids usually share a long prefix ("svc-0…"), so a string compare walks that prefix
/// every time; 8 bytes past it decide nearly every pair in one compare.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "qfscale/util/check.h"

namespace qfscale::capacity::detail {

/// The 8 bytes at `p` as a big-endian number: the first byte is the most significant, so
/// numbers order like the byte strings (memcmp order, which is std::string_view's).
inline std::uint64_t load_be8(const char* p) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, 8);
  if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
  return word;
}

/// The length of the common prefix of `a` and `b`, at most `limit`. Compares 8 bytes at a time,
/// even past `limit` when both strings have the bytes (the answer is clamped): in big-endian
/// words, the first differing byte holds the highest differing bit.
inline std::size_t common_prefix(std::string_view a, std::string_view b, std::size_t limit) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t at = 0;
  for (; at < limit && at + 8 <= n; at += 8) {
    const std::uint64_t diff = load_be8(a.data() + at) ^ load_be8(b.data() + at);
    if (diff != 0) {
      return std::min(limit, at + static_cast<std::size_t>(std::countl_zero(diff)) / 8);
    }
  }
  const std::size_t end = std::min(limit, n);
  while (at < end && a[at] == b[at]) ++at;
  return std::min(at, limit);
}

/// The 8 bytes of `id` after `skip`, big-endian, zero-padded. For ids that share their first
/// `skip` bytes, `order_key(a) < order_key(b)` implies `a < b`; equal keys need the full string
/// comparison (the ids differ later, or one is a prefix of the other padded with zeros).
inline std::uint64_t order_key(std::string_view id, std::size_t skip) {
  if (skip + 8 <= id.size()) return load_be8(id.data() + skip);
  if (id.size() >= 8 && skip < id.size()) {
    // The last 8 bytes, shifted up past the ones before `skip`: zeros fill the bottom.
    return load_be8(id.data() + id.size() - 8) << (8 * (skip + 8 - id.size()));
  }
  std::uint64_t key = 0;
  for (std::size_t b = 0; b < 8; ++b) {
    key <<= 8;
    if (skip + b < id.size()) key |= static_cast<unsigned char>(id[skip + b]);
  }
  return key;
}

/// The bits of `level`, which must be >= 0 (infinity included; not NaN): IEEE-754 bit patterns of
/// non-negative doubles order like the values, so events compare as unsigned words and can be
/// radix sorted (radix_sort.h). A negative level would order after every other (its sign bit is
/// the top bit); levels are replicas per unit of weight, never below 0. `+ 0.0` turns a -0.0 into
/// +0.0, whose bits order correctly.
inline std::uint64_t level_bits(double level) {
  QFS_ASSERT(level >= 0, "levels are >= 0 and not NaN");
  return std::bit_cast<std::uint64_t>(level + 0.0);
}

}  // namespace qfscale::capacity::detail
