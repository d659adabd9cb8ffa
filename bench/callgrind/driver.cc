// Callgrind driver for bench/RESULTS.md (not part of the CMake build): ./driver
// alloc|plan|engine|engine_explain|engine_slo N. Instruments only the N measured iterations
// (CALLGRIND_START/STOP_INSTRUMENTATION).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <valgrind/callgrind.h>

#include "qfscale/capacity/allocator.h"
#include "qfscale/capacity/plan.h"
#include "qfscale/policy/engine.h"
#include "qfscale/policy/policy.h"
#include "qfscale/util/random.h"

#include "support/allocator_scenario.h"
using namespace qfscale;
using namespace std::chrono_literals;
int main(int argc, char** argv) {
  const char* mode = argv[1];
  int n = std::atoi(argv[2]);
  long sink = 0;
  if (std::strcmp(mode, "engine") == 0 || std::strcmp(mode, "engine_explain") == 0 ||
      std::strcmp(mode, "engine_slo") == 0) {
    policy::PolicySpec s;
    s.name = "balanced";
    s.scale_down.policies = {{policy::RateLimitType::Percent, 50, 60s}};
    if (std::strcmp(mode, "engine_slo") == 0) {  // as the shipped balanced: a fit every tick
      s.target.slo = policy::SloTarget{.wait = 5s, .attainment = 0.99, .follow_level_shifts = true};
      s.forecast.enabled = true;
      s.scale_up.tolerance = 0.0;
    }
    auto pol = *policy::Policy::create(std::move(s));
    util::Random rng(1);
    policy::EngineState state;
    int current = 4;
    int t = 0;
    const util::SystemTime t0{std::chrono::seconds{1'704'067'200}};
    auto tick = [&] {
      const double base = 40 + 30 * ((t / 120) % 3);
      policy::EngineInput in{.now = t0 + std::chrono::seconds{t},
                             .qps = base * (0.8 + 0.4 * rng.uniform01()),
                             .replica_qps = 10,
                             .current = model::Replicas{current}};
      in.explain = std::strcmp(mode, "engine_explain") == 0;
      auto r = policy::recommend(pol, in, std::move(state));
      state = std::move(r.state);
      current = r.recommendation.replicas.value;
      ++t;
      return current;
    };
    for (int i = 0; i < 400; ++i) tick();
    CALLGRIND_START_INSTRUMENTATION;
    for (int i = 0; i < n; ++i) sink += tick();
    CALLGRIND_STOP_INSTRUMENTATION;
  } else {
    auto in = bench::make_allocator_scenario({});
    CALLGRIND_START_INSTRUMENTATION;
    for (int i = 0; i < n; ++i) {
      auto a = capacity::allocate(in);
      if (!a) {
        std::puts(a.error().to_string().c_str());
        return 1;
      }
      sink += a->services.size();
      if (std::strcmp(mode, "plan") == 0) {
        auto p = capacity::plan_calls(in, *a);
        if (!p) {
          std::puts(p.error().to_string().c_str());
          return 1;
        }
        sink += static_cast<long>(p->steps.size());
      }
    }
  }
  CALLGRIND_STOP_INSTRUMENTATION;
  std::printf("%ld\n", sink);
}
