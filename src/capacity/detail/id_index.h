#pragma once

/// Private to the capacity module: id -> position lookups for the allocator and the planner, which
/// resolve every service's and instance's id on each tick, so the lookup is a hot path.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

namespace qfscale::capacity::detail {

using Index = std::uint32_t;
inline constexpr Index kNoIndex = std::numeric_limits<Index>::max();

inline std::uint64_t load8(const char* p) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, 8);
  return word;
}

/// `a == b`. Ids of 8-16 bytes (the usual kind) are compared as two 8-byte words that together
/// cover every byte (they overlap when the size is under 16), inline instead of a memcmp call.
inline bool same_id(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8 || n > 16) return a == b;
  return load8(a.data()) == load8(b.data()) && load8(a.data() + n - 8) == load8(b.data() + n - 8);
}

/// Id -> index: open addressing with linear probing over a word-wise hash. Ids are short
/// ("unit-00042"), and a node-based map of strings costs more than the allocation itself at
/// 10,000 services. Keys are views into the caller's data, which must outlive the index.
/// Thread-safety: a value type; not synchronised.
class IdIndex {
 public:
  IdIndex() = default;
  explicit IdIndex(std::size_t expected) { reset(expected); }
  /// Empties the index for up to `expected` ids (the table does not grow), reusing its memory.
  void reset(std::size_t expected) {
    std::size_t size = 16;
    while (size < expected * 2) size *= 2;
    table_.assign(size, Entry{});
    mask_ = size - 1;
  }
  /// Adds `id` -> `i`; false (and no change) when `id` is already present.
  bool add(std::string_view id, Index i) {
    const auto h = hash(id);
    for (std::size_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      auto& e = table_[pos];
      if (e.index == kNoIndex) {
        e = Entry{.id = id, .hash = h, .index = i};
        return true;
      }
      if (e.hash == h && same_id(e.id, id)) return false;
    }
  }
  /// The index of `id`, or kNoIndex.
  [[nodiscard]] Index find(std::string_view id) const {
    const auto h = hash(id);
    for (std::size_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      const auto& e = table_[pos];
      if (e.index == kNoIndex) return kNoIndex;
      if (e.hash == h && same_id(e.id, id)) return e.index;
    }
  }

 private:
  struct Entry {
    std::string_view id;
    std::size_t hash = 0;
    Index index = kNoIndex;
  };
  static std::size_t hash(std::string_view id) {
    const std::size_t n = id.size();
    if (n >= 8 && n <= 16) {
      // The usual ids: two 8-byte words that cover every byte (overlapping under 16), each
      // multiplied once, then finalised as in hash_long. Half the work of its loop.
      const std::uint64_t first = load8(id.data()) * 0xBF58476D1CE4E5B9ULL;
      std::uint64_t h = first ^ ((load8(id.data() + n - 8) + n) * 0x94D049BB133111EBULL);
      h ^= h >> 32;
      h *= 0x9E3779B97F4A7C15ULL;
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
    return hash_long(id);
  }
  /// Other lengths, out of line so the common case above inlines.
  [[gnu::noinline]] static std::size_t hash_long(std::string_view id) {
    const std::size_t n = id.size();
    // 8 bytes at a time, multiply-xorshift mixing. The tail (1-7 bytes) is read as the last 8
    // bytes of the id when it has 8 or more, so no byte-count-dependent copy is needed.
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    std::size_t at = 0;
    for (; at + 8 <= n; at += 8) {
      h = (h ^ load8(id.data() + at)) * 0xBF58476D1CE4E5B9ULL;
      h ^= h >> 31;
    }
    if (at < n) {
      std::uint64_t tail = 0;
      if (n >= 8) {
        tail = load8(id.data() + n - 8);
      } else {
        for (std::size_t b = 0; b < n; ++b) {
          tail |= std::uint64_t{static_cast<unsigned char>(id[b])} << (8 * b);
        }
      }
      h = (h ^ tail) * 0x94D049BB133111EBULL;
    }
    // Finalise so every input bit reaches the low bits, which pick the bucket.
    h ^= h >> 32;
    h *= 0xBF58476D1CE4E5B9ULL;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  std::vector<Entry> table_;
  std::size_t mask_ = 0;
};

}  // namespace qfscale::capacity::detail
