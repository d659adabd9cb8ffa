#include "capacity/detail/radix_sort.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <numeric>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/util/random.h"

#include "capacity/detail/sort_keys.h"

namespace qfscale::capacity::detail {
namespace {

/// A key and where the item started, so a test can see whether equal keys moved.
struct Item {
  std::uint64_t level_bits = 0;
  std::uint64_t id = 0;
  int origin = 0;
  friend bool operator==(const Item&, const Item&) = default;
};

std::vector<Item> items_from(const std::vector<double>& levels,
                             const std::vector<std::uint64_t>& ids) {
  std::vector<Item> out;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    out.push_back(
        Item{.level_bits = level_bits(levels[i]), .id = ids[i], .origin = static_cast<int>(i)});
  }
  return out;
}

/// Ids 0..n-1, shuffled unless `in_order` (the allocator queues its batch in id order).
std::vector<std::uint64_t> unique_ids(util::Random& rng, std::size_t n, bool in_order) {
  std::vector<std::uint64_t> ids(n);
  std::iota(ids.begin(), ids.end(), std::uint64_t{0});
  if (!in_order) std::shuffle(ids.begin(), ids.end(), rng.engine());
  return ids;
}

/// radix_sort against std::stable_sort on the same (level_bits, id) order. With unique keys the
/// two must agree item for item; with equal keys, key for key and as the same multiset of items.
void check_agrees(std::vector<Item> items, bool unique_keys) {
  auto expected = items;
  std::stable_sort(expected.begin(), expected.end(), [](const Item& a, const Item& b) {
    return std::tie(a.level_bits, a.id) < std::tie(b.level_bits, b.id);
  });
  std::vector<Item> tmp;
  std::vector<std::uint32_t> counts;
  radix_sort(items, tmp, counts);
  REQUIRE(items.size() == expected.size());
  if (unique_keys) {
    CHECK(items == expected);
    return;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    CHECK(items[i].level_bits == expected[i].level_bits);
    CHECK(items[i].id == expected[i].id);
  }
  auto by_origin = [](const Item& a, const Item& b) { return a.origin < b.origin; };
  std::sort(items.begin(), items.end(), by_origin);
  std::sort(expected.begin(), expected.end(), by_origin);
  CHECK(items == expected);
}

// Sizes on both sides of the comparison-sort cutoff (64) and of one radix digit (2^11).
constexpr std::size_t kSizes[] = {0, 1, 2, 3, 63, 64, 65, 200, 2048, 5000};

TEST_SUITE("capacity") {
  TEST_CASE("radix sort: random levels agree with std::stable_sort") {
    util::Random rng(11);
    for (const std::size_t n : kSizes) {
      for (const bool in_order : {true, false}) {
        CAPTURE(n);
        CAPTURE(in_order);
        std::vector<double> levels;
        for (std::size_t i = 0; i < n; ++i) levels.push_back(rng.uniform01() * 1e6);
        check_agrees(items_from(levels, unique_ids(rng, n, in_order)), true);
      }
    }
  }

  TEST_CASE("radix sort: levels like the allocator's, whole and fractional, with many ties") {
    // Levels are total / weight (few distinct values, many equal) or fill points of instances.
    util::Random rng(12);
    for (const std::size_t n : kSizes) {
      CAPTURE(n);
      std::vector<double> levels;
      for (std::size_t i = 0; i < n; ++i) {
        const auto total = static_cast<double>(rng.uniform_int(0, 20));
        const auto weight = static_cast<double>(rng.uniform_int(1, 7));
        levels.push_back(i % 3 == 0 ? total / weight + rng.uniform01() : total / weight);
      }
      check_agrees(items_from(levels, unique_ids(rng, n, true)), true);
      check_agrees(items_from(levels, unique_ids(rng, n, false)), true);
    }
  }

  TEST_CASE("radix sort: adversarial levels") {
    util::Random rng(13);
    const std::size_t n = 3000;
    auto run = [&](auto level_of) {
      std::vector<double> levels;
      for (std::size_t i = 0; i < n; ++i) levels.push_back(level_of(i));
      check_agrees(items_from(levels, unique_ids(rng, n, true)), true);
      check_agrees(items_from(levels, unique_ids(rng, n, false)), true);
    };
    SUBCASE("one level: every digit pass is skipped, one run sorted on the id") {
      run([](std::size_t) { return 2.5; });
    }
    SUBCASE("levels that differ only below the radix digits: one run sorted in full") {
      // 1.0 plus a few ulps: the top 33 bits are those of 1.0 for every item.
      run([&](std::size_t) {
        return std::bit_cast<double>(std::bit_cast<std::uint64_t>(1.0) +
                                     static_cast<std::uint64_t>(rng.uniform_int(0, 1'000'000)));
      });
    }
    SUBCASE("levels that differ only in one digit") {
      run([&](std::size_t) { return static_cast<double>(rng.uniform_int(0, 3)) * 1024.0; });
    }
    SUBCASE("already ascending, and descending") {
      run([](std::size_t i) { return static_cast<double>(i) / 7.0; });
      run([](std::size_t i) { return static_cast<double>(n - i) / 7.0; });
    }
    SUBCASE("zero, -0.0, subnormals, the largest double and infinity") {
      const double special[] = {0.0,
                                -0.0,
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::min(),
                                1e-300,
                                1.0,
                                1e300,
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::infinity()};
      run([&](std::size_t) { return special[rng.uniform_int(0, std::size(special) - 1)]; });
    }
  }

  TEST_CASE("radix sort: equal keys keep every item") {
    // Outside the allocator's use (its keys are unique), but nothing may be lost or duplicated.
    util::Random rng(14);
    for (const std::size_t n : kSizes) {
      CAPTURE(n);
      std::vector<double> levels;
      std::vector<std::uint64_t> ids;
      for (std::size_t i = 0; i < n; ++i) {
        levels.push_back(static_cast<double>(rng.uniform_int(0, 5)));
        ids.push_back(static_cast<std::uint64_t>(rng.uniform_int(0, 3)));
      }
      check_agrees(items_from(levels, ids), false);
    }
  }

  TEST_CASE("radix sort: scratch reused across calls of different sizes") {
    util::Random rng(15);
    std::vector<Item> tmp;
    std::vector<std::uint32_t> counts;
    for (const std::size_t n : {std::size_t{5000}, std::size_t{100}, std::size_t{3000},
                                std::size_t{70}, std::size_t{0}, std::size_t{4000}}) {
      CAPTURE(n);
      std::vector<double> levels;
      for (std::size_t i = 0; i < n; ++i) {
        levels.push_back(static_cast<double>(rng.uniform_int(0, 1000)) / 3.0);
      }
      auto items = items_from(levels, unique_ids(rng, n, false));
      auto expected = items;
      std::sort(expected.begin(), expected.end(), level_less<Item>);
      radix_sort(items, tmp, counts);
      CHECK(items == expected);
    }
  }

  TEST_CASE("radix sort: the order is the levels' order, then the id's") {
    // What the allocator relies on: sorting on the keys orders events as their levels do.
    util::Random rng(16);
    std::vector<double> levels;
    for (int i = 0; i < 1000; ++i)
      levels.push_back(static_cast<double>(rng.uniform_int(0, 50)) / 9.0);
    auto items = items_from(levels, unique_ids(rng, levels.size(), false));
    std::vector<Item> tmp;
    std::vector<std::uint32_t> counts;
    radix_sort(items, tmp, counts);
    for (std::size_t i = 1; i < items.size(); ++i) {
      const double a = levels[static_cast<std::size_t>(items[i - 1].origin)];
      const double b = levels[static_cast<std::size_t>(items[i].origin)];
      CHECK((a < b || (a == b && items[i - 1].id < items[i].id)));
    }
  }
}

}  // namespace
}  // namespace qfscale::capacity::detail
