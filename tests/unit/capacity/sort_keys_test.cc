#include "capacity/detail/sort_keys.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/util/random.h"

namespace qfscale::capacity::detail {
namespace {

/// Random ids over a small alphabet (so prefixes are shared often), `\0` included.
std::string random_id(util::Random& rng, std::size_t max_size) {
  static constexpr char kAlphabet[] = {'\0', '-', '0', '1', '9', 'a', 'b', '\x7f', '\x80', '\xff'};
  std::string id(static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(max_size))),
                 ' ');
  for (auto& c : id) c = kAlphabet[rng.uniform_int(0, std::size(kAlphabet) - 1)];
  return id;
}

std::size_t naive_common_prefix(std::string_view a, std::string_view b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

TEST_SUITE("capacity") {
  TEST_CASE("sort keys: load_be8 reads the first byte as the most significant") {
    CHECK(load_be8("\x01\x02\x03\x04\x05\x06\x07\x08") == 0x0102030405060708ULL);
    CHECK(load_be8("\xff\x00\x00\x00\x00\x00\x00\x00") == 0xff00000000000000ULL);
    // Bytes are unsigned: 0x80 orders after 0x7f, as in memcmp.
    CHECK(load_be8("\x80\x00\x00\x00\x00\x00\x00\x00") >
          load_be8("\x7f\xff\xff\xff\xff\xff\xff\xff"));
  }

  TEST_CASE("sort keys: common_prefix matches a byte-by-byte scan, clamped to the limit") {
    util::Random rng(21);
    for (int round = 0; round < 20'000; ++round) {
      std::string a = random_id(rng, 40);
      std::string b = a.substr(
          0, static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(a.size()))));
      b += random_id(rng, 20);
      if (round % 2 == 0) std::swap(a, b);
      const std::size_t full = naive_common_prefix(a, b);
      const auto limit = static_cast<std::size_t>(rng.uniform_int(0, 48));
      CAPTURE(a);
      CAPTURE(b);
      CAPTURE(limit);
      CHECK(common_prefix(a, b, limit) == std::min(full, limit));
    }
    // A difference at every position of a 20-byte id, in each byte of a word.
    const std::string base = "svc-0123456789abcdef";
    for (std::size_t at = 0; at < base.size(); ++at) {
      std::string other = base;
      other[at] = '~';
      CHECK(common_prefix(base, other, 100) == at);
      CHECK(common_prefix(base, base, 100) == base.size());
      CHECK(common_prefix(base, base.substr(0, at), 100) == at);
    }
  }

  TEST_CASE("sort keys: order_key orders ids as strings do past a shared prefix") {
    // For ids with the same first `skip` bytes: key(a) < key(b) implies a < b, and a < b implies
    // key(a) <= key(b). Equal keys are then broken by the string compare, as the allocator does.
    util::Random rng(22);
    for (int round = 0; round < 20'000; ++round) {
      const std::string prefix = random_id(rng, 12);
      const std::string a = prefix + random_id(rng, 14);
      const std::string b = prefix + random_id(rng, 14);
      const std::size_t skip =
          std::min(naive_common_prefix(a, b), static_cast<std::size_t>(rng.uniform_int(0, 12)));
      CAPTURE(a);
      CAPTURE(b);
      CAPTURE(skip);
      const auto ka = order_key(a, skip);
      const auto kb = order_key(b, skip);
      if (ka < kb) CHECK(a < b);
      if (kb < ka) CHECK(b < a);
      if (a < b) CHECK(ka <= kb);
      if (a == b) CHECK(ka == kb);
    }
  }

  TEST_CASE("sort keys: ranking by (order_key, string) is ranking by string") {
    // The allocator's use: keys after the prefix all ids share, ties broken by the full string.
    util::Random rng(23);
    for (const std::string_view prefix : {"", "s", "svc-", "service-long-prefix-"}) {
      std::vector<std::string> ids;
      for (int i = 0; i < 2000; ++i) ids.push_back(std::string(prefix) + random_id(rng, 11));
      std::size_t common = ids.front().size();
      for (const auto& id : ids) common = common_prefix(ids.front(), id, common);
      CHECK(common >= prefix.size());
      auto by_key = ids;
      std::sort(by_key.begin(), by_key.end(), [&](const std::string& a, const std::string& b) {
        const auto ka = order_key(a, common);
        const auto kb = order_key(b, common);
        if (ka != kb) return ka < kb;
        return a < b;
      });
      auto by_string = ids;
      std::sort(by_string.begin(), by_string.end());
      CHECK(by_key == by_string);
    }
  }

  TEST_CASE("sort keys: order_key of short ids and ids ending inside the key") {
    CHECK(order_key("", 0) == 0);
    CHECK(order_key("a", 0) == 0x6100000000000000ULL);
    CHECK(order_key("svc-12", 4) == 0x3132000000000000ULL);
    // 10 bytes, skip 4: the last 6 bytes, zero-padded.
    CHECK(order_key("svc-123456", 4) == 0x3132333435360000ULL);
    CHECK(order_key("svc-12345678", 4) == 0x3132333435363738ULL);
    CHECK(order_key("svc-123456789", 4) == 0x3132333435363738ULL);  // the 9th byte waits for a tie
    CHECK(order_key("svc", 4) == 0);                                // skip past the end
  }

  TEST_CASE("sort keys: level_bits orders non-negative doubles like their values") {
    util::Random rng(24);
    std::vector<double> levels = {0.0,
                                  -0.0,
                                  std::numeric_limits<double>::denorm_min(),
                                  std::numeric_limits<double>::min(),
                                  1e-7,
                                  0.5,
                                  1.0,
                                  1.0 + std::numeric_limits<double>::epsilon(),
                                  10.0 / 3.0,
                                  1e300,
                                  std::numeric_limits<double>::max(),
                                  std::numeric_limits<double>::infinity()};
    for (int i = 0; i < 2000; ++i) {
      levels.push_back(rng.uniform01() *
                       std::pow(10.0, static_cast<double>(rng.uniform_int(-20, 20))));
      levels.push_back(static_cast<double>(rng.uniform_int(0, 100)) /
                       static_cast<double>(rng.uniform_int(1, 9)));
    }
    for (const double a : levels) {
      for (int j = 0; j < 20; ++j) {
        const double b = levels[static_cast<std::size_t>(
            rng.uniform_int(0, static_cast<std::int64_t>(levels.size()) - 1))];
        CAPTURE(a);
        CAPTURE(b);
        CHECK((level_bits(a) < level_bits(b)) == (a < b));
        CHECK((level_bits(a) == level_bits(b)) == (a == b));
      }
    }
    // -0.0 == 0.0, so their keys must be equal too; the raw bits of -0.0 are the sign bit alone.
    CHECK(level_bits(-0.0) == level_bits(0.0));
    CHECK(level_bits(-0.0) == 0);
    // Round trip: the allocator reads levels back from the keys.
    for (const double a : levels) CHECK(std::bit_cast<double>(level_bits(a)) == a);
  }
}

}  // namespace
}  // namespace qfscale::capacity::detail
