// The `policy eval` steps file and its JSON line output.

#include "qfscale/policy/eval.h"

#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "unit/policy/engine_support.h"

namespace qfscale::policy {
namespace {

using namespace testing;

TEST_SUITE("policy") {
  TEST_CASE("eval: CSV with a header, optional columns, missing qps") {
    const auto steps = parse_eval_steps(
        "t_seconds,qps,current_replicas,metrics_ok,run_status,model_updating\n"
        "# a comment\n"
        "0,20,4,,,\n"
        "\n"
        "15,,4,true,Serving,false\n"
        "30,99,5,false,Deploying,true\n",
        "s.csv");
    REQUIRE(steps.has_value());
    REQUIRE(steps->size() == 3);
    CHECK((*steps)[0] == EvalStep{.line = 3, .t_seconds = 0, .qps = 20, .current_replicas = 4});
    CHECK((*steps)[1] == EvalStep{.line = 5, .t_seconds = 15, .current_replicas = 4});
    // metrics_ok false makes qps missing whatever the column says
    CHECK((*steps)[2] == EvalStep{.line = 6,
                                  .t_seconds = 30,
                                  .current_replicas = 5,
                                  .run_status = model::RunStatus::Deploying,
                                  .model_updating = true});
  }

  TEST_CASE("eval: JSON lines") {
    const auto steps = parse_eval_steps(
        "{\"t_seconds\": 0, \"qps\": 2.5, \"current_replicas\": 1}\n"
        "{\"t_seconds\": 1.5, \"qps\": null, \"current_replicas\": 1, \"run_status\": "
        "\"Stopped\"}\n",
        "s.jsonl");
    REQUIRE(steps.has_value());
    REQUIRE(steps->size() == 2);
    CHECK((*steps)[0].qps == 2.5);
    CHECK((*steps)[1] == EvalStep{.line = 2,
                                  .t_seconds = 1.5,
                                  .current_replicas = 1,
                                  .run_status = model::RunStatus::Stopped});
  }

  TEST_CASE("eval: every error names its line") {
    const auto steps = parse_eval_steps(
        "t_seconds,qps,current_replicas\n"
        "0,1,1\n"
        "x,1,1\n"
        "5,-1,2.5\n"
        "6,1\n"
        "-1,1,1\n",
        "bad.csv");
    REQUIRE_FALSE(steps.has_value());
    std::string all;
    for (const auto& d : steps.error()) all += d.to_string() + "\n";
    CAPTURE(all);
    CHECK(all.find("bad.csv:3") != std::string::npos);                    // t_seconds x
    CHECK(all.find("bad.csv:4: qps") != std::string::npos);               // -1
    CHECK(all.find("bad.csv:4: current_replicas") != std::string::npos);  // 2.5
    CHECK(all.find("bad.csv:5") != std::string::npos);                    // 2 cells of 3
    CHECK(all.find("bad.csv:6") != std::string::npos);                    // -1 is before line 2's 0
    CHECK(parse_eval_steps("qps\n1\n", "h.csv").error().front().message.find("t_seconds") !=
          std::string::npos);
    // Past the clock's range (a fuzz find: 3e70 s overflowed the time point).
    const auto far = parse_eval_steps("t_seconds,current_replicas\n3e70,1\n", "far.csv");
    REQUIRE_FALSE(far.has_value());
    CHECK(far.error().front().to_string().find("far.csv:2: t_seconds: 3e70 is out of range") !=
          std::string::npos);
  }

  TEST_CASE("eval: one JSON line per step with every stage") {
    const EvalStep step{.line = 1, .t_seconds = 0, .qps = 20, .current_replicas = 1};
    const auto r =
        recommend(make(plain()), eval_input(step, kT0, 10.0), {}).recommendation;  // 20 / 5 = 4
    const auto line = eval_json_line(step, r);
    CHECK(line.find(R"("desired_replicas":4)") != std::string::npos);
    CHECK(line.find(R"("reason":"scale_up")") != std::string::npos);
    for (auto stage : model::kAllStages) {
      CHECK(line.find("\"" + std::string(model::to_string(stage)) + "\":{\"output\":") !=
            std::string::npos);
    }
    CHECK(line.find('\n') == std::string::npos);
  }

  TEST_CASE("eval: target.slo shows the capacity it sized for") {
    // 100 qps, one sample (Poisson): C = 100.458 (slo_sizing.h) -> ceil(100.458 / 10) = 11.
    auto spec = plain();
    spec.target.slo = SloTarget{.wait = 5s, .attainment = 0.995};
    const EvalStep step{.line = 1, .t_seconds = 0, .qps = 100, .current_replicas = 1};
    const auto r = recommend(make(spec), eval_input(step, kT0, 10.0), {}).recommendation;
    const auto line = eval_json_line(step, r);
    CAPTURE(line);
    CHECK(line.find(R"("desired_replicas":11)") != std::string::npos);
    // ln(200) = 5.2983: C = (100 + sqrt(10000 + 2 x 100 x 5.2983 / 5)) / 2 = 100.527.
    CHECK(line.find("slo 99.5% within 5s: variance 100/s -> capacity 100.527 qps") !=
          std::string::npos);
  }

  TEST_CASE("eval: target.slo.followLevelShifts shows the shift test") {
    // 1000 qps at t = 15 .. 285, then 1100 at 300 on 11 replicas of 100 qps: a level shift
    // (threshold 1080.32, engine_level_shift_test.cc) sized for at once: C 1102.83 -> 12.
    auto spec = plain();
    spec.target.slo = SloTarget{.wait = 5s, .attainment = 0.99, .follow_level_shifts = true};
    spec.metric_window = 60s;
    std::string csv = "t_seconds,qps,current_replicas\n";
    for (int t = 15; t <= 285; t += 15) csv += std::to_string(t) + ",1000,11\n";
    csv += "300,1100,11\n";
    const auto steps = parse_eval_steps(csv, "shift.csv");
    REQUIRE(steps.has_value());
    const Policy policy = make(spec);
    EngineState state;
    std::string last;
    for (const auto& step : *steps) {
      auto r = recommend(policy, eval_input(step, kT0, 100.0), std::move(state));
      state = std::move(r.state);
      last = eval_json_line(step, r.recommendation);
    }
    CAPTURE(last);
    CHECK(last.find(R"("desired_replicas":12)") != std::string::npos);
    CHECK(last.find("latest 1100 qps > 1025 + 2.326 x 23.7797 = 1080.32: a level shift, sized "
                    "for it") != std::string::npos);
  }

  TEST_CASE("eval: a fresh run holds a scale-down for one window, as the controller does") {
    // What `qfscale policy eval` does with a steps file: parse, feed one engine state through
    // the steps, print a line each. 10 qps on 5 replicas of 5 qps each: raw 2; window 300 s.
    auto spec = plain();
    spec.scale_down.stabilization_window = 300s;
    const auto steps = parse_eval_steps(
        "t_seconds,qps,current_replicas\n0,10,5\n299,10,5\n300,10,5\n", "hold.csv");
    REQUIRE(steps.has_value());
    const Policy policy = make(spec);
    EngineState state;
    std::vector<std::string> lines;
    for (const auto& step : *steps) {
      auto r = recommend(policy, eval_input(step, kT0, 10.0), std::move(state));
      state = std::move(r.state);
      lines.push_back(eval_json_line(step, r.recommendation));
    }
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find(R"("desired_replicas":5,"reason":"stabilized")") != std::string::npos);
    CHECK(lines[1].find(R"("desired_replicas":5,"reason":"stabilized")") != std::string::npos);
    CHECK(lines[2].find(R"("desired_replicas":2,"reason":"scale_down")") != std::string::npos);
  }
}

}  // namespace
}  // namespace qfscale::policy
