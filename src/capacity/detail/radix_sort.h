#pragma once

/// Private to the capacity module: sorts the allocator's events by (level, id). When a priority
/// class starts, every service and instance has an event to queue, thousands at once; a radix sort
/// of the batch, read in order beside a small heap for events found later, does fewer and cheaper
/// steps than pushing them all through the heap or sorting them with a comparator on doubles.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qfscale::capacity::detail {

/// An element with two unsigned words, `level_bits` (sort_keys.h: a level's bits) and `id`.
template <typename T>
concept LevelKeyed = requires(const T& t) {
  { t.level_bits } -> std::convertible_to<std::uint64_t>;
  { t.id } -> std::convertible_to<std::uint64_t>;
};

/// `a` before `b` in (level_bits, id) order.
template <LevelKeyed T>
bool level_less(const T& a, const T& b) {
  if (a.level_bits != b.level_bits) return a.level_bits < b.level_bits;
  return a.id < b.id;
}

/// Sorts `items` into (level_bits, id) order. A stable LSD radix sort on the top 33 bits of
/// `level_bits` (3 passes of 11 bits, skipping a pass where every key has the same digit), then
/// each run of items that tie there is sorted on the full key: when `items` arrive in `id` order
/// (the allocator queues them so) a run is usually equal levels still in `id` order, and the sort
/// is a linear check. Items with equal keys may change places, so keys should be unique, as the
/// allocator's are (one event per service or instance). `tmp` and `counts` are scratch space,
/// kept by the caller so a sort allocates nothing once they have grown.
template <LevelKeyed T>
void radix_sort(std::vector<T>& items, std::vector<T>& tmp, std::vector<std::uint32_t>& counts) {
  constexpr int kBits = 11;
  constexpr int kLow = 64 - 3 * kBits;  // bits below this are left to the run sort
  constexpr int kPasses = 3;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  auto in_order = [](const T& a, const T& b) { return level_less(a, b); };
  const std::size_t n = items.size();
  if (n < 2) return;
  if (n < 64) {  // the counting passes cost more than a comparison sort of a few items
    std::sort(items.begin(), items.end(), in_order);
    return;
  }
  counts.assign(kBuckets * kPasses, 0);
  auto digit = [](const T& e, int p) {
    return (e.level_bits >> (kLow + p * kBits)) & (kBuckets - 1);
  };
  for (const auto& e : items) {
    for (int p = 0; p < kPasses; ++p)
      ++counts[static_cast<std::size_t>(p) * kBuckets + digit(e, p)];
  }
  tmp.resize(n);
  for (int p = 0; p < kPasses; ++p) {
    std::uint32_t* count = counts.data() + static_cast<std::size_t>(p) * kBuckets;
    if (count[digit(items.front(), p)] == n) continue;  // every key has this digit
    std::uint32_t sum = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::uint32_t c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (const auto& e : items) tmp[count[digit(e, p)]++] = e;
    items.swap(tmp);
  }
  for (std::size_t begin = 0; begin < n;) {
    const std::uint64_t top = items[begin].level_bits >> kLow;
    std::size_t end = begin + 1;
    while (end < n && items[end].level_bits >> kLow == top) ++end;
    const auto first = items.begin() + static_cast<std::ptrdiff_t>(begin);
    const auto last = items.begin() + static_cast<std::ptrdiff_t>(end);
    if (end - begin > 1 && !std::is_sorted(first, last, in_order)) std::sort(first, last, in_order);
    begin = end;
  }
}

}  // namespace qfscale::capacity::detail
