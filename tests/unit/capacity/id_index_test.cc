#include "capacity/detail/id_index.h"

#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "qfscale/util/random.h"

namespace qfscale::capacity::detail {
namespace {

/// Ids of every length from 0 to 40 (the 8-16 byte fast path and both sides of it), sharing
/// prefixes, differing in the first or the last byte only, and holding `\0`.
std::vector<std::string> varied_ids(util::Random& rng, std::size_t count) {
  std::set<std::string> ids;
  while (ids.size() < count) {
    std::string id(static_cast<std::size_t>(rng.uniform_int(0, 40)), ' ');
    for (auto& c : id)
      c = static_cast<char>(rng.uniform_int(0, 3) == 0 ? 0 : rng.uniform_int('a', 'c'));
    ids.insert(id);
    if (!id.empty()) {
      std::string last = id;
      last.back() = 'z';
      ids.insert(last);
      std::string first = id;
      first.front() = 'z';
      ids.insert(first);
      ids.insert(id + id);
    }
  }
  return {ids.begin(), ids.end()};
}

TEST_SUITE("capacity") {
  TEST_CASE("id index: same_id is string equality at every length and position") {
    for (std::size_t n = 0; n <= 20; ++n) {
      const std::string a(n, 'x');
      CHECK(same_id(a, a));
      CHECK_FALSE(same_id(a, a + "x"));
      CHECK_FALSE(same_id(a + "x", a));
      for (std::size_t at = 0; at < n; ++at) {
        std::string b = a;
        b[at] = 'y';
        CAPTURE(n);
        CAPTURE(at);
        CHECK_FALSE(same_id(a, b));
        CHECK_FALSE(same_id(b, a));
      }
    }
  }

  TEST_CASE("id index: finds every id it holds and reports the ones it does not") {
    util::Random rng(31);
    const auto ids = varied_ids(rng, 5000);
    const std::size_t half = ids.size() / 2;
    IdIndex index(half);
    for (std::size_t i = 0; i < half; ++i) {
      CHECK(index.add(ids[i], static_cast<Index>(i)));
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      CAPTURE(ids[i]);
      CHECK(index.find(ids[i]) == (i < half ? static_cast<Index>(i) : kNoIndex));
    }
    // Near misses of held ids: a byte more, a byte less, the last byte changed.
    for (std::size_t i = 0; i < half; ++i) {
      const std::string& id = ids[i];
      for (const std::string& other :
           {id + "q", id.substr(0, id.empty() ? 0 : id.size() - 1),
            id.empty() ? std::string("q") : id.substr(0, id.size() - 1) + "q"}) {
        if (std::find(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(half), other) !=
            ids.begin() + static_cast<std::ptrdiff_t>(half)) {
          continue;  // the variant happens to be held too
        }
        CAPTURE(other);
        CHECK(index.find(other) == kNoIndex);
      }
    }
  }

  TEST_CASE("id index: the usual ids, all found") {
    IdIndex index(10'000);
    std::vector<std::string> ids;
    for (int i = 0; i < 10'000; ++i) ids.push_back(fmt::format("svc-{:05}", i));
    for (std::size_t i = 0; i < ids.size(); ++i) CHECK(index.add(ids[i], static_cast<Index>(i)));
    for (std::size_t i = 0; i < ids.size(); ++i) CHECK(index.find(ids[i]) == i);
    CHECK(index.find("svc-10000") == kNoIndex);
    CHECK(index.find("svc-0000") == kNoIndex);
    CHECK(index.find("") == kNoIndex);
  }

  TEST_CASE("id index: a duplicate is refused and keeps the first index") {
    IdIndex index(4);
    CHECK(index.add("unit-00042", 7));
    CHECK_FALSE(index.add("unit-00042", 9));
    CHECK(index.find("unit-00042") == 7);
    CHECK(index.add("", 1));  // the empty id is an id like any other
    CHECK_FALSE(index.add("", 2));
    CHECK(index.find("") == 1);
  }

  TEST_CASE("id index: reset forgets every id") {
    IdIndex index(100);
    const std::string a = "unit-a";
    const std::string b = "unit-b";
    CHECK(index.add(a, 0));
    index.reset(1);
    CHECK(index.find(a) == kNoIndex);
    CHECK(index.add(b, 5));
    CHECK(index.add(a, 6));
    CHECK(index.find(b) == 5);
    CHECK(index.find(a) == 6);
  }

  TEST_CASE("id index: an index for no ids answers kNoIndex") {
    const IdIndex index(0);
    CHECK(index.find("anything") == kNoIndex);
  }
}

}  // namespace
}  // namespace qfscale::capacity::detail
