#include "qfscale/sim/queue.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::sim {
namespace {

using namespace std::chrono_literals;

QueueOptions opts(std::int64_t slo_wait, std::int64_t abandon_after) {
  return QueueOptions{.slo_wait = std::chrono::seconds{slo_wait},
                      .abandon_after = std::chrono::seconds{abandon_after}};
}

/// Runs `arrivals` through a queue at `capacity` per second (the last one again for the drain).
QueueStats run(const QueueOptions& o, const std::vector<double>& arrivals,
               const std::vector<double>& capacity) {
  REQUIRE(arrivals.size() == capacity.size());
  FifoQueue q(o);
  for (std::size_t s = 0; s < arrivals.size(); ++s) q.second(arrivals[s], capacity[s]);
  q.drain(capacity.empty() ? 0.0 : capacity.back());
  CHECK(q.backlog() == 0);
  return q.stats();
}

/// The reference: every request an object in a std::deque, served one at a time. Integer
/// arrivals and capacities; the same rules as queue.h, written the obvious way.
QueueStats discrete(const QueueOptions& o, const std::vector<int>& arrivals,
                    const std::vector<int>& capacity) {
  const std::int64_t slo = o.slo_wait.count();
  const std::int64_t abandon = o.abandon_after.count();
  QueueStats st;
  st.waits.assign(static_cast<std::size_t>(abandon) + 1, 0.0);
  std::deque<std::int64_t> queue;  // arrival second of each queued request
  const auto n = static_cast<std::int64_t>(arrivals.size());
  for (std::int64_t s = 0; s < n || !queue.empty(); ++s) {
    while (!queue.empty() && queue.front() + abandon <= s) {
      queue.pop_front();
      st.abandoned += 1;
      st.late += 1;
      st.waits.back() += 1;
    }
    if (s < n) {
      for (int k = 0; k < arrivals[static_cast<std::size_t>(s)]; ++k) queue.push_back(s);
      st.requests += arrivals[static_cast<std::size_t>(s)];
    }
    int cap = capacity[static_cast<std::size_t>(std::min(s, n - 1))];
    while (cap > 0 && !queue.empty()) {
      const std::int64_t wait = s - queue.front();
      queue.pop_front();
      --cap;
      st.served += 1;
      st.waits[static_cast<std::size_t>(wait)] += 1;
      if (wait > slo) st.late += 1;
    }
    st.backlog_max = std::max(st.backlog_max, static_cast<double>(queue.size()));
  }
  return st;
}

TEST_SUITE("sim") {
  TEST_CASE("queue: the header's worked numbers, served late and abandoned") {
    // Capacity 4/s, arrivals 10, 0, 0, slo_wait 1 s: 4 at wait 0, 4 at wait 1, 2 at wait 2.
    const auto st = run(opts(1, 30), {10, 0, 0}, {4, 4, 4});
    CHECK(st.requests == 10);
    CHECK(st.served == 10);
    CHECK(st.late == 2);
    CHECK(st.abandoned == 0);
    CHECK(st.attainment_pct() == 80);
    CHECK(st.waits[0] == 4);
    CHECK(st.waits[1] == 4);
    CHECK(st.waits[2] == 2);
    CHECK(st.wait_percentile(0.50) == 1);  // rank 5: 4 < 5 <= 8
    CHECK(st.wait_percentile(0.99) == 2);  // rank 9.9 > 8
    CHECK(st.wait_max() == 2);
    CHECK(st.backlog_max == 6);  // end of second 0

    // abandon_after 2 s: the 2 left of second 0 are still queued at the start of second 2.
    const auto ab = run(opts(1, 2), {10, 0, 0}, {4, 4, 4});
    CHECK(ab.served == 8);
    CHECK(ab.abandoned == 2);
    CHECK(ab.late == 2);
    CHECK(ab.attainment_pct() == 80);
    CHECK(ab.waits == std::vector<double>{4, 4, 2});  // [2] = abandon_after: the abandoned
    CHECK(ab.wait_percentile(0.99) == 2);
    CHECK(ab.wait_max() == 2);
  }

  TEST_CASE("queue: late only above slo_wait, abandoned exactly at abandon_after") {
    struct Case {
      std::string_view name;
      QueueOptions options;
      std::vector<double> arrivals;
      std::vector<double> capacity;
      double want_late;
      double want_abandoned;
      std::int64_t want_max;
    };
    const Case cases[] = {
        // 3 requests at 0, nothing served until second 2: wait 2 = slo_wait, on time.
        {.name = "wait = slo_wait is on time",
         .options = opts(2, 5),
         .arrivals = {3, 0, 0},
         .capacity = {0, 0, 3},
         .want_late = 0,
         .want_abandoned = 0,
         .want_max = 2},
        {.name = "wait = slo_wait + 1 is late",
         .options = opts(2, 5),
         .arrivals = {3, 0, 0, 0},
         .capacity = {0, 0, 0, 3},
         .want_late = 3,
         .want_abandoned = 0,
         .want_max = 3},
        {.name = "wait = slo_wait - 1 is on time",
         .options = opts(2, 5),
         .arrivals = {3, 0},
         .capacity = {0, 3},
         .want_late = 0,
         .want_abandoned = 0,
         .want_max = 1},
        // abandon_after 3: served in second 2 (wait 2 = abandon_after - 1) is served, late.
        {.name = "served in the last second before abandon_after",
         .options = opts(1, 3),
         .arrivals = {3, 0, 0},
         .capacity = {0, 0, 3},
         .want_late = 3,
         .want_abandoned = 0,
         .want_max = 2},
        // Still queued at the start of second 0 + 3: abandoned, second 3's capacity unused.
        {.name = "queued at the start of s + abandon_after is abandoned",
         .options = opts(1, 3),
         .arrivals = {3, 0, 0, 0},
         .capacity = {0, 0, 0, 3},
         .want_late = 3,
         .want_abandoned = 3,
         .want_max = 3},
        // Partly served: 1 per second from second 1; 2 served (waits 1, 2), 1 abandoned at 3.
        {.name = "the rest of a partly served bucket is abandoned",
         .options = opts(1, 3),
         .arrivals = {3, 0, 0, 0},
         .capacity = {0, 1, 1, 1},
         .want_late = 2,
         .want_abandoned = 1,
         .want_max = 3},
        // Abandoned requests use no capacity: the 5 of second 0 leave at the start of second 2,
        // so second 2's one unit serves its own arrival at wait 0.
        {.name = "abandoned requests take no capacity",
         .options = opts(0, 2),
         .arrivals = {5, 0, 1},
         .capacity = {0, 0, 1},
         .want_late = 5,
         .want_abandoned = 5,
         .want_max = 2},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const auto st = run(c.options, c.arrivals, c.capacity);
      CHECK(st.late == c.want_late);
      CHECK(st.abandoned == c.want_abandoned);
      CHECK(st.served + st.abandoned == st.requests);
      CHECK(st.wait_max() == c.want_max);
    }
  }

  TEST_CASE("queue: after the trace it drains at the last second's capacity") {
    // 10 at second 0 with capacity 3: 3 at wait 0, then the drain serves 3, 3, 1 at waits 1-3.
    const auto st = run(opts(1, 30), {10}, {3});
    CHECK(st.waits[0] == 3);
    CHECK(st.waits[1] == 3);
    CHECK(st.waits[2] == 3);
    CHECK(st.waits[3] == 1);
    CHECK(st.late == 4);
    CHECK(st.wait_max() == 3);
    // The last second has no capacity: everything left is abandoned when its time comes, and
    // the drain stops there.
    const auto none = run(opts(1, 30), {4, 6}, {2, 0});
    CHECK(none.served == 2);
    CHECK(none.abandoned == 8);
    CHECK(none.late == 8);
    CHECK(none.wait_max() == 30);
    CHECK(none.attainment_pct() == 20);
  }

  TEST_CASE("queue: fractional amounts are served oldest first, none lost") {
    // Binary fractions, exact in doubles; capacity 0.75 per second and slo_wait 0. Second 0
    // serves its 0.5 (the spare 0.25 is lost: nothing else is queued); second 1 serves 0.75 of
    // its 1.25; second 2 serves the other 0.5 (wait 1, late), then its own 0.25.
    const auto st = run(opts(0, 10), {0.5, 1.25, 0.25}, {0.75, 0.75, 0.75});
    CHECK(st.requests == 2.0);
    CHECK(st.served == 2.0);
    CHECK(st.waits[0] == 0.5 + 0.75 + 0.25);
    CHECK(st.waits[1] == 0.5);
    CHECK(st.late == 0.5);
    CHECK(st.attainment_pct() == 75);
    CHECK(st.backlog_max == 0.5);
  }

  TEST_CASE("queue: no requests means 100% attainment and zero waits") {
    const auto st = run(opts(5, 30), {0, 0}, {1, 0});
    CHECK(st.attainment_pct() == 100);
    CHECK(st.wait_percentile(0.99) == 0);
    CHECK(st.wait_max() == 0);
    const QueueStats empty;
    CHECK(empty.attainment_pct() == 100);
    CHECK(empty.wait_percentile(0.5) == 0);
  }

  TEST_CASE("queue: matches a per-request simulation on random integer traces") {
    // A few hundred small traces and capacity schedules, fixed seed; raw mt19937 output so the
    // cases do not depend on the standard library's distributions.
    std::mt19937 rng(20261207);
    auto below = [&](std::uint32_t n) { return static_cast<int>(rng() % n); };
    for (int trial = 0; trial < 400; ++trial) {
      const int slo = below(6);
      const int abandon = slo + 1 + below(8);
      const int seconds = 1 + below(40);
      std::vector<int> arrivals(static_cast<std::size_t>(seconds));
      std::vector<int> capacity(static_cast<std::size_t>(seconds));
      for (int s = 0; s < seconds; ++s) {
        arrivals[static_cast<std::size_t>(s)] = below(3) == 0 ? 0 : below(13);
        capacity[static_cast<std::size_t>(s)] = below(4) == 0 ? 0 : below(9);
      }
      const auto o = opts(slo, abandon);
      const auto want = discrete(o, arrivals, capacity);
      const auto got = run(o, std::vector<double>(arrivals.begin(), arrivals.end()),
                           std::vector<double>(capacity.begin(), capacity.end()));
      CAPTURE(trial);
      CHECK(got.requests == want.requests);
      CHECK(got.served == want.served);
      CHECK(got.late == want.late);
      CHECK(got.abandoned == want.abandoned);
      CHECK(got.backlog_max == want.backlog_max);
      CHECK(got.waits == want.waits);
      CHECK(got.wait_max() == want.wait_max());
      CHECK(got.wait_percentile(0.5) == want.wait_percentile(0.5));
      CHECK(got.wait_percentile(0.99) == want.wait_percentile(0.99));
    }
  }

  TEST_CASE("queue: stats of several queues add up, percentiles over all their requests") {
    auto a = run(opts(1, 5), {10}, {10});      // 10 at wait 0
    const auto b = run(opts(1, 5), {4}, {1});  // waits 0, 1, 2, 3
    a.add(b);
    CHECK(a.requests == 14);
    CHECK(a.late == 2);
    CHECK(a.waits == std::vector<double>{11, 1, 1, 1, 0, 0});
    CHECK(a.wait_percentile(0.5) == 0);
    CHECK(a.wait_percentile(0.99) == 3);
    CHECK(a.backlog_max == 0 + 3);
    QueueStats sum;  // empty, as the aggregate starts
    sum.add(b);
    CHECK(sum == b);
  }

  TEST_CASE("queue: options are validated with both values in the message") {
    CHECK(validate(opts(5, 30)));
    CHECK(validate(opts(0, 1)));
    const auto slo_negative = validate(opts(-1, 30));
    REQUIRE_FALSE(slo_negative);
    CHECK(slo_negative.error().to_string().find("slo wait -1s must be >= 0") != std::string::npos);
    const auto equal = validate(opts(5, 5));
    REQUIRE_FALSE(equal);
    CHECK(equal.error().to_string().find("abandon after 5s must be longer than the slo wait 5s") !=
          std::string::npos);
    const auto too_long = validate(opts(5, 3601));
    REQUIRE_FALSE(too_long);
    CHECK(too_long.error().to_string().find("at most 3600s") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::sim
