#include "qfscale/demand/trace_source.h"

#include <chrono>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace qfscale::demand {
namespace {

using namespace std::chrono_literals;
using model::ServiceId;
using trace::Trace;

const util::SystemTime kStart{1'700'000'000s};

TEST_SUITE("demand") {
  TEST_CASE("trace replay: offset from start, speed-up, window, loop and missing") {
    // 10 s trace: rate k at second k.
    std::vector<float> ramp(10);
    for (std::size_t k = 0; k < ramp.size(); ++k) ramp[k] = static_cast<float>(k);
    std::map<ServiceId, Trace> traces;
    traces.emplace(ServiceId("svco-a"), Trace(ramp));
    const std::vector<ServiceId> services = {ServiceId("svco-a"), ServiceId("svco-none")};

    struct Case {
      std::string_view name;
      TraceReplayOptions options;
      util::SystemTime now;
      std::optional<double> want;    // nullopt: missing
      std::chrono::seconds span{1};  ///< a second's rate, unless a window or another speed
    };
    const Case cases[] = {
        {.name = "at start", .options = {.start = kStart}, .now = kStart, .want = 0.0},
        {.name = "3.5 s in", .options = {.start = kStart}, .now = kStart + 3500ms, .want = 3.0},
        {.name = "before start", .options = {.start = kStart}, .now = kStart - 1ms},
        {.name = "last second", .options = {.start = kStart}, .now = kStart + 9999ms, .want = 9.0},
        {.name = "at the end", .options = {.start = kStart}, .now = kStart + 10s},
        {.name = "speed-up 4: 2 s wall is 8 s trace",
         .options = {.start = kStart, .speedup = 4},
         .now = kStart + 2s,
         .want = 8.0,
         .span = 0s},  // a trace second is a quarter of the engine's: no span to give
        // Window 4 at t=6: mean of seconds 2,3,4,5 = 3.5.
        {.name = "window mean",
         .options = {.start = kStart, .window = 4s},
         .now = kStart + 6s,
         .want = 3.5,
         .span = 4s},
        // Loop: t=23 wraps to 3.
        {.name = "loop wraps",
         .options = {.start = kStart, .loop = true},
         .now = kStart + 23s,
         .want = 3.0},
    };
    for (const auto& c : cases) {
      CAPTURE(c.name);
      TraceQpsSource source(traces, c.options);
      const auto r = source.read(services, c.now);
      REQUIRE(r.size() == 2);
      REQUIRE(!r[1].has_value());
      CHECK(r[1].error().kind == FailureKind::Missing);
      if (c.want) {
        REQUIRE(r[0].has_value());
        CHECK(r[0]->qps == doctest::Approx(*c.want));
        CHECK(r[0]->timestamp == c.now);
        CHECK(r[0]->span == c.span);
      } else {
        REQUIRE(!r[0].has_value());
        CHECK(r[0].error().kind == FailureKind::Missing);
      }
    }
  }
}

}  // namespace
}  // namespace qfscale::demand
