#include "qfscale/sim/simulator.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "qfscale/demand/synthetic.h"

#include "unit/sim/sim_fixtures.h"

namespace qfscale::sim {
namespace {

using namespace std::chrono_literals;
using model::ComputeUnits;
using model::Reason;
using model::Replicas;
using model::ServiceId;

using test::exact_policy;
using test::step_service;
using test::steps;

SimOptions options(std::chrono::seconds delay) {
  return SimOptions{.tick = 10s, .startup_delay = delay, .capacity_units = {}, .start = {}};
}

TEST_SUITE("sim") {
  TEST_CASE("simulator: step trace has the hand-computed over-capacity requests and unit-hours") {
    const ServiceSpec svc[] = {step_service()};
    auto r = simulate(exact_policy(), svc, options(20s));
    REQUIRE(r);
    REQUIRE(r->services.size() == 1);
    const auto& s = r->services[0].summary;
    // The tick at t=110 is the first to see 30 QPS (mean of [100, 110)): desired 30/10 = 3, two
    // replicas start and are ready at 110 + 20 = 130. Seconds 100..129 serve 10 of 30 QPS:
    // 30 s x 20 = 600 requests over capacity of 100x10 + 100x30 + 100x10 = 5000 (12%).
    CHECK(s.requests_total == doctest::Approx(5000));
    CHECK(s.requests_over_capacity == doctest::Approx(600));
    CHECK(s.requests_over_capacity_pct == doctest::Approx(12.0));
    CHECK(s.seconds_over_capacity == 30);
    // The tick at t=210 sees 10 QPS: down to 1 at once. Replicas: 1 x 110 s + 3 x 100 s
    // (110..209, starting ones included) + 1 x 90 s = 500 replica-s; x 2 units = 1000 unit-s
    // = 1000 / 3600 = 0.2778 unit-hours; mean 500 / 300 = 1.667 replicas.
    CHECK(s.compute_unit_hours == doctest::Approx(1000.0 / 3600.0));
    CHECK(s.scale_operations == 2);
    CHECK(s.max_replicas == 3);
    CHECK(s.mean_replicas == doctest::Approx(500.0 / 300.0));
    // Utilization per second: 10/10 for 100 + 70 + 90 s, 30/10 for 30 s, 10/30 for 10 s.
    // Sorted: 10 x 0.333, 260 x 1.0, 30 x 3.0; p50 = rank 150 -> 1.0; p99 = rank 297 -> 3.0.
    CHECK(s.utilization_p50 == doctest::Approx(1.0));
    CHECK(s.utilization_p99 == doctest::Approx(3.0));

    // One timeline point per tick: t = 10, 20, …, 290.
    const auto& tl = r->services[0].timeline;
    REQUIRE(tl.size() == 29);
    const auto& up = tl[10];  // t = 110
    CHECK(up.t == 110);
    CHECK(up.demand == doctest::Approx(30));
    CHECK(up.replicas == Replicas{3});
    CHECK(up.ready == Replicas{1});
    CHECK(up.ready_capacity == doctest::Approx(10));
    CHECK(up.desired == Replicas{3});
    CHECK(up.reason == Reason::ScaleUp);
    CHECK(tl[12].ready == Replicas{3});     // t = 130: ready
    CHECK(tl[20].replicas == Replicas{1});  // t = 210: down at once
    CHECK(tl[20].reason == Reason::ScaleDown);
  }

  TEST_CASE("simulator: starting replicas cost units but serve only after the startup delay") {
    struct Case {
      std::string_view name;
      std::chrono::seconds delay;
      double want_over;
      std::int64_t want_seconds_over;
    };
    // The step to 30 QPS at t=100 is seen at the tick at t=110; the new replicas serve from
    // 110 + delay, so seconds 100 .. 110 + delay - 1 each miss 20 requests.
    const Case cases[] = {
        {"no delay: only the tick lag", 0s, 10 * 20.0, 10},
        {"one second", 1s, 11 * 20.0, 11},
        {"one tick", 10s, 20 * 20.0, 20},
        {"just below two ticks", 19s, 29 * 20.0, 29},
        {"two ticks", 20s, 30 * 20.0, 30},
        {"just above two ticks", 21s, 31 * 20.0, 31},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      const ServiceSpec svc[] = {step_service()};
      auto r = simulate(exact_policy(), svc, options(c.delay));
      REQUIRE(r);
      const auto& s = r->services[0].summary;
      CHECK(s.requests_over_capacity == doctest::Approx(c.want_over));
      CHECK(s.seconds_over_capacity == c.want_seconds_over);
      // Cost does not depend on the delay: starting replicas are paid from the scale-up.
      CHECK(s.compute_unit_hours == doctest::Approx(1000.0 / 3600.0));
    }
  }

  TEST_CASE("simulator: a scale-down removes starting replicas before ready ones") {
    // 30 QPS only during [100, 110): the tick at 110 starts 2 replicas (ready at 140), the tick
    // at 120 sees 10 QPS and goes back to 1, removing the two that never became ready.
    const ServiceSpec svc[] = {ServiceSpec{.id = ServiceId{"svc-blip"},
                                           .trace = steps({{100, 10.0F}, {10, 30.0F}, {90, 10.0F}}),
                                           .replica_qps = 10,
                                           .units_per_replica = ComputeUnits{1},
                                           .initial_replicas = Replicas{1}}};
    auto r = simulate(exact_policy(), svc, options(30s));
    REQUIRE(r);
    const auto& tl = r->services[0].timeline;
    CHECK(tl[10].replicas == Replicas{3});  // t = 110
    CHECK(tl[10].ready == Replicas{1});
    CHECK(tl[11].replicas == Replicas{1});  // t = 120
    CHECK(tl[11].ready == Replicas{1});     // the ready one stayed
    const auto& s = r->services[0].summary;
    // Over capacity only at 100..109 (the starting ones never served): 10 s x 20 = 200.
    CHECK(s.requests_over_capacity == doctest::Approx(200));
    // 1 x 200 s + 2 extra for [110, 120) = 220 replica-s = 220 unit-s.
    CHECK(s.compute_unit_hours == doctest::Approx(220.0 / 3600.0));
    CHECK(s.scale_operations == 2);
  }

  TEST_CASE("simulator: shared capacity caps the grant and the reason says so") {
    // 4 units / 2 per replica = 2 replicas at most. Tick 110 wants 3, gets 2 (ready at 130).
    const ServiceSpec svc[] = {step_service()};
    auto opts = options(20s);
    opts.capacity_units = ComputeUnits{4};
    auto r = simulate(exact_policy(), svc, opts);
    REQUIRE(r);
    const auto& tl = r->services[0].timeline;
    CHECK(tl[10].desired == Replicas{3});
    CHECK(tl[10].granted == Replicas{2});
    CHECK(tl[10].replicas == Replicas{2});
    CHECK(tl[10].reason == Reason::CappedCapacity);
    const auto& s = r->services[0].summary;
    // 100..129: 30 - 10 = 20 x 30 s = 600; 130..199: 30 - 20 = 10 x 70 s = 700; total 1300
    // of 5000 = 26%, over capacity for all 100 seconds of the step.
    CHECK(s.requests_over_capacity == doctest::Approx(1300));
    CHECK(s.requests_over_capacity_pct == doctest::Approx(26.0));
    CHECK(s.seconds_over_capacity == 100);
    // 1 x 110 + 2 x 100 + 1 x 90 = 400 replica-s x 2 units = 800 unit-s.
    CHECK(s.compute_unit_hours == doctest::Approx(800.0 / 3600.0));
    CHECK(s.scale_operations == 2);  // the repeated wish at 120..200 changes nothing
  }

  TEST_CASE("simulator: services sharing capacity are served by priority through the allocator") {
    // Capacity 8 units = 4 replicas of 2 units. Both services start at 1 and want 3 at t=110.
    // The allocator reserves each min (1 + 1), then priority 1 (svc-a) grows to 3 with the 4
    // units left; svc-b keeps 1.
    auto a = step_service();
    a.id = ServiceId{"svc-a"};
    a.priority = 1;
    auto b = step_service();
    b.id = ServiceId{"svc-b"};
    const ServiceSpec svc[] = {b, a};  // input order is kept in the output
    auto opts = options(20s);
    opts.capacity_units = ComputeUnits{8};
    auto r = simulate(exact_policy(), svc, opts);
    REQUIRE(r);
    REQUIRE(r->services.size() == 2);
    const auto& rb = r->services[0];
    const auto& ra = r->services[1];
    CHECK(rb.id == ServiceId{"svc-b"});
    CHECK(ra.timeline[10].granted == Replicas{3});
    CHECK(rb.timeline[10].granted == Replicas{1});
    CHECK(rb.timeline[10].reason == Reason::CappedCapacity);
    // svc-a as without capacity: 600 over; svc-b serves 10 of 30 for all 100 s: 2000 over.
    CHECK(ra.summary.requests_over_capacity == doctest::Approx(600));
    CHECK(rb.summary.requests_over_capacity == doctest::Approx(2000));
    CHECK(rb.summary.compute_unit_hours == doctest::Approx(300 * 2 / 3600.0));
    CHECK(rb.summary.scale_operations == 0);
  }

  TEST_CASE("simulator: a run starts with the scale-down window held, as the controller does") {
    // 5 replicas to start, 10 QPS throughout: desired ceil(10 / 10) = 1. With a 300 s scale-down
    // window the first tick (t=10) seeds it with 5, so the count stays until the tick at t=310.
    auto spec = exact_policy().spec();
    spec.scale_down.stabilization_window = 300s;
    auto policy = policy::Policy::create(spec);
    REQUIRE(policy);
    const ServiceSpec svc[] = {ServiceSpec{.id = ServiceId{"svc-fresh"},
                                           .trace = steps({{400, 10.0F}}),
                                           .replica_qps = 10,
                                           .units_per_replica = ComputeUnits{1},
                                           .initial_replicas = Replicas{5}}};
    auto r = simulate(*policy, svc, options(0s));
    REQUIRE(r);
    const auto& tl = r->services[0].timeline;
    REQUIRE(tl.size() == 39);
    CHECK(tl[0].t == 10);
    CHECK(tl[0].replicas == Replicas{5});
    CHECK(tl[0].reason == Reason::Stabilized);
    CHECK(tl[29].t == 300);
    CHECK(tl[29].replicas == Replicas{5});
    CHECK(tl[30].t == 310);
    CHECK(tl[30].replicas == Replicas{1});
    CHECK(tl[30].reason == Reason::ScaleDown);
  }

  TEST_CASE("simulator: the same inputs give identical outputs") {
    auto traffic = demand::SyntheticTraffic::create(
        {.seed = 7, .base_qps = 40, .bursts_per_hour = 6, .burst_height = 4});
    REQUIRE(traffic);
    std::vector<ServiceSpec> svcs;
    for (std::uint64_t k = 0; k < 3; ++k) {
      svcs.push_back(ServiceSpec{
          .id = ServiceId{"svc-" + std::to_string(k)},
          .trace = std::make_shared<const trace::Trace>(traffic->trace(4 * 3600, k)),
          .replica_qps = 5,
          .units_per_replica = ComputeUnits{2},
          .priority = static_cast<int>(k % 2),
      });
    }
    auto opts = options(90s);
    opts.tick = 15s;
    opts.capacity_units = ComputeUnits{60};
    policy::PolicySpec spec;  // the defaults: panic, stabilization, rate limits all active
    auto policy = policy::Policy::create(spec);
    REQUIRE(policy);
    auto a = simulate(*policy, svcs, opts);
    auto b = simulate(*policy, svcs, opts);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == *b);
    CHECK(a->services.size() == 3);
    CHECK(a->services[0].timeline.size() == 4 * 3600 / 15 - 1);
    // The input order is the output order.
    CHECK(a->services[2].id == ServiceId{"svc-2"});
  }

  TEST_CASE("simulator: bad inputs are rejected with the field named") {
    struct Case {
      std::string_view name;
      void (*mutate)(ServiceSpec&, SimOptions&);
      std::string_view want;
    };
    const Case cases[] = {
        {"replica qps 0", [](ServiceSpec& s, SimOptions&) { s.replica_qps = 0; }, "replica_qps"},
        {"no trace", [](ServiceSpec& s, SimOptions&) { s.trace = nullptr; }, "no trace"},
        {"units 0", [](ServiceSpec& s, SimOptions&) { s.units_per_replica = ComputeUnits{0}; },
         "units_per_replica"},
        {"weight 0", [](ServiceSpec& s, SimOptions&) { s.weight = 0; }, "weight"},
        {"tick 0", [](ServiceSpec&, SimOptions& o) { o.tick = 0s; }, "tick"},
        {"negative delay", [](ServiceSpec&, SimOptions& o) { o.startup_delay = -1s; },
         "startup delay"},
        {"abandon after = slo wait",
         [](ServiceSpec&, SimOptions& o) { o.queue = {.slo_wait = 5s, .abandon_after = 5s}; },
         "abandon after 5s must be longer than the slo wait 5s"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      ServiceSpec s = step_service();
      SimOptions o = options(20s);
      c.mutate(s, o);
      const ServiceSpec svc[] = {s};
      auto r = simulate(exact_policy(), svc, o);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == ErrorCode::InvalidInput);
      CHECK(r.error().to_string().find(c.want) != std::string::npos);
    }
    const ServiceSpec dup[] = {step_service(), step_service()};
    auto r = simulate(exact_policy(), dup, options(20s));
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string().find("duplicate") != std::string::npos);
  }

  TEST_CASE("simulator: requests queue behind the ready replicas and drain after the trace") {
    struct Case {
      std::string_view name;
      int replicas;
      QueueOptions queue;
      std::vector<double> want_waits;
      double want_late;
      double want_abandoned;
    };
    // One second at 25 QPS. With one ready replica of 10 QPS the queue serves 10 in second 0,
    // then drains at that second's 10 per second: 10 at wait 1, 5 at wait 2.
    const Case cases[] = {
        {.name = "served late after the trace",
         .replicas = 1,
         .queue = {.slo_wait = 1s, .abandon_after = 4s},
         .want_waits = {10, 10, 5, 0, 0},
         .want_late = 5,
         .want_abandoned = 0},
        {.name = "abandoned in the drain",
         .replicas = 1,
         .queue = {.slo_wait = 1s, .abandon_after = 2s},
         .want_waits = {10, 10, 5},  // [2] = abandon_after: the 5 abandoned
         .want_late = 5,
         .want_abandoned = 5},
        // No ready replica at the end: the drain has no capacity, everything is abandoned at
        // abandon_after and the run ends.
        {.name = "no capacity at the end",
         .replicas = 0,
         .queue = {.slo_wait = 1s, .abandon_after = 3s},
         .want_waits = {0, 0, 0, 25},
         .want_late = 25,
         .want_abandoned = 25},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      auto svc = step_service();
      svc.trace = steps({{1, 25.0F}});
      svc.initial_replicas = Replicas{c.replicas};
      const ServiceSpec services[] = {svc};
      auto o = options(20s);
      o.queue = c.queue;
      auto r = simulate(exact_policy(), services, o);
      REQUIRE(r);
      const auto& s = r->services[0].summary;
      CHECK(s.queue.requests == 25);
      CHECK(s.queue.waits == c.want_waits);
      CHECK(s.queue.late == c.want_late);
      CHECK(s.queue.abandoned == c.want_abandoned);
      CHECK(s.queue.attainment_pct() == 100.0 * (25 - c.want_late) / 25);
      CHECK(s.queue.backlog_max == 25 - 10 * c.replicas);
      // The no-queue view is unchanged: the second's demand above its capacity.
      CHECK(s.requests_over_capacity == 25 - 10 * c.replicas);
    }
  }

  TEST_CASE("simulator: the queue sees each second's ready capacity, starting replicas excluded") {
    // The step trace: ready capacity 10 QPS for seconds 0..129 (the two replicas started at
    // 110 are ready at 130), 30 for 130..209, 10 for 210..299. The simulator's queue must be
    // that schedule replayed through a FifoQueue, second by second, draining at 10.
    const ServiceSpec svc[] = {step_service()};
    auto r = simulate(exact_policy(), svc, options(20s));
    REQUIRE(r);
    const auto demand = svc[0].trace->per_second();
    FifoQueue want(QueueOptions{});
    for (std::int64_t s = 0; s < 300; ++s) {
      want.second(demand[static_cast<std::size_t>(s)], s >= 130 && s < 210 ? 30.0 : 10.0);
    }
    want.drain(10);
    const auto& got = r->services[0].summary.queue;
    CHECK(got == want.stats());
    // By hand (slo_wait 5 s, abandon_after 30 s):
    // - 0..99: 10 in, 10 out, 1000 at wait 0.
    // - 100..129: 30 in, 10 out; bucket 100 + j is served at 100 + 3j + {0, 1, 2}, waits 2j,
    //   2j + 1, 2j + 2 (j = 0..9, 10 each): 300 served, late (> 5) 10 + 30 + 6 x 30 = 220.
    //   600 queued at 129, the backlog's peak.
    // - 130..209: 30 a second out, so second 130 + k serves bucket 110 + k whole, at wait 20:
    //   2400 late. At 209: buckets 190..199 (30 each) and 200..209 (10 each) = 400 queued.
    // - 210 on, 10 a second: buckets 190..193 served at waits 20..28; bucket 194 20 served,
    //   10 abandoned at 224; then each of buckets 195..199 gets 10 served at wait 29 and 20
    //   abandoned; from 229 every bucket of 10 is served at wait 29 (the last ones in the drain
    //   after 299): 120 + 20 + 50 + 1000 = 1190 served late, 10 + 100 = 110 abandoned.
    // Late 220 + 2400 + 1190 + 110 = 3920 of 5000: 21.6% attainment; p50 = 20 (1290 waited
    // < 20, 3710 <= 20), p99 = 30 (4890 served by wait 29 < 4950), max 30.
    CHECK(got.requests == 5000);
    CHECK(got.late == 3920);
    CHECK(got.abandoned == 110);
    CHECK(got.served == 4890);
    CHECK(got.attainment_pct() == doctest::Approx(21.6));
    CHECK(got.wait_percentile(0.5) == 20);
    CHECK(got.wait_percentile(0.99) == 30);
    CHECK(got.wait_max() == 30);
    CHECK(got.backlog_max == 600);
  }

  TEST_CASE(
      "simulator: each tick's timeline point carries the requests that turned late after it") {
    // The step trace again (see above): replay its capacity through a FifoQueue and read the late
    // count at every tick boundary. Point k (at t = 10 (k + 1)) takes seconds t .. t + 9; the last
    // one also the drain. Seconds 0..9 come before the first decision and belong to no point.
    const ServiceSpec svc[] = {step_service()};
    auto o = options(20s);
    o.timeline = true;
    auto r = simulate(exact_policy(), svc, o);
    REQUIRE(r);
    const auto& timeline = r->services[0].timeline;
    REQUIRE(timeline.size() == 29);  // ticks at 10, 20, ..., 290
    const auto demand = svc[0].trace->per_second();
    FifoQueue want(QueueOptions{});
    std::vector<double> late_at_tick;  // cumulative late at the start of seconds 10, 20, ...
    for (std::int64_t s = 0; s < 300; ++s) {
      if (s > 0 && s % 10 == 0) late_at_tick.push_back(want.late());
      want.second(demand[static_cast<std::size_t>(s)], s >= 130 && s < 210 ? 30.0 : 10.0);
    }
    want.drain(10);
    late_at_tick.push_back(want.late());
    double sum = 0;
    for (std::size_t k = 0; k < timeline.size(); ++k) {
      CAPTURE(timeline[k].t);
      CHECK(timeline[k].late == late_at_tick[k + 1] - late_at_tick[k]);
      sum += timeline[k].late;
    }
    CHECK(sum == 3920);             // every late request is on some point: the total above
    CHECK(timeline[8].late == 0);   // t = 90: 10 in, 10 out, nobody waits
    CHECK(timeline[9].late == 20);  // 100..109: buckets 102, 103 served at 108, 109, wait 6
  }

  TEST_CASE("simulator: percentile is nearest-rank") {
    std::vector<float> v = {5, 1, 4, 2, 3};
    CHECK(percentile(v, 0.5) == doctest::Approx(3));   // rank ceil(2.5) = 3
    CHECK(percentile(v, 0.99) == doctest::Approx(5));  // rank ceil(4.95) = 5
    CHECK(percentile(v, 0.2) == doctest::Approx(1));   // rank 1
    CHECK(percentile(std::span<float>{}, 0.5) == 0);
  }

  TEST_CASE("simulator: utilization leaves idle seconds out") {
    // 100 s idle, then 100 s at 10 QPS, one replica of 10 QPS throughout (the exact policy's
    // replicas.min is 1). 100 s at 1.0 and 100 idle seconds at 0: with the idle seconds p50 was
    // 0 (rank 100 of 200), which says nothing about how loaded the replica is when it works.
    auto svc = step_service();
    svc.trace = steps({{100, 0.0F}, {100, 10.0F}});
    const ServiceSpec services[] = {svc};
    auto r = simulate(exact_policy(), services, options(20s));
    REQUIRE(r);
    const auto& s = r->services[0].summary;
    CHECK(s.max_replicas == 1);
    CHECK(s.utilization_p50 == doctest::Approx(1.0));
    CHECK(s.utilization_p99 == doctest::Approx(1.0));
  }
}

}  // namespace
}  // namespace qfscale::sim
