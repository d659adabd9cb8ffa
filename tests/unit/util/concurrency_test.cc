#include "qfscale/util/concurrency.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::util {
namespace {

TEST_SUITE("util") {
  TEST_CASE("for_each_concurrently: every index runs once; a throw comes back after all ran") {
    for (const int concurrency : {1, 3, 64}) {
      CAPTURE(concurrency);
      std::vector<int> runs(50, 0);
      bool caught = false;
      try {
        for_each_concurrently(runs.size(), concurrency, [&](std::size_t i) {
          ++runs[i];
          if (i == 7) throw std::runtime_error("boom at 7");
        });
      } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "boom at 7";
      }
      CHECK(caught);
      CHECK(std::count(runs.begin(), runs.end(), 1) == 50);
    }
  }

  TEST_CASE("for_each_concurrently: at most `concurrency` run at once, and meanwhile runs") {
    for (const int concurrency : {1, 2, 4}) {
      CAPTURE(concurrency);
      std::atomic<int> in_flight{0};
      std::atomic<int> most{0};
      bool meanwhile_ran = false;
      for_each_concurrently(
          40, concurrency,
          [&](std::size_t) {
            const int now = ++in_flight;
            int seen = most.load();
            while (now > seen && !most.compare_exchange_weak(seen, now)) {
            }
            std::this_thread::yield();
            --in_flight;
          },
          [&] { meanwhile_ran = true; });
      CHECK(meanwhile_ran);
      CHECK(most.load() >= 1);
      CHECK(most.load() <= concurrency);
    }
  }

  TEST_CASE("for_each_concurrently: of several throws, the lowest index's comes back") {
    for (const int concurrency : {1, 4}) {
      CAPTURE(concurrency);
      std::string caught;
      try {
        for_each_concurrently(30, concurrency, [&](std::size_t i) {
          if (i % 10 == 3) throw std::runtime_error("boom at " + std::to_string(i));
        });
      } catch (const std::runtime_error& e) {
        caught = e.what();
      }
      CHECK(caught == "boom at 3");
    }
  }

  TEST_CASE("for_each_concurrently: nothing to do calls nothing") {
    int calls = 0;
    for_each_concurrently(0, 4, [&](std::size_t) { ++calls; });
    CHECK(calls == 0);
  }
}

}  // namespace
}  // namespace qfscale::util
