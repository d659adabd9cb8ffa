// libFuzzer target: arbitrary bytes as a `qfscale policy eval` steps file must give steps or
// diagnostics, never a crash, hang or sanitizer report. Parsed steps are fed through the engine
// under every shipped policy, as `policy eval` does, and each recommendation must be a valid
// decision: one step per stage, a non-negative count, and a JSON line that is one line.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qfscale/model/decision.h"
#include "qfscale/policy/eval.h"
#include "qfscale/policy/loader.h"

#include "controller/shipped_policies.h"

namespace {

const std::vector<qfscale::policy::Policy>& shipped_policies() {
  static const auto policies = [] {
    std::vector<qfscale::policy::Policy> out;
    const qfscale::util::ZoneSource no_zones = [](std::string_view) {
      return std::optional<std::string>();
    };
    for (const auto& shipped : qfscale::controller::detail::shipped_policy_table()) {
      // Policies with schedules need zone data; UTC ones load without it.
      if (auto p = qfscale::policy::load_policy(shipped.text, shipped.name, no_zones)) {
        out.push_back(std::move(*p));
      }
    }
    if (out.empty()) __builtin_trap();
    return out;
  }();
  return policies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto steps = qfscale::policy::parse_eval_steps(text, "fuzz.csv");
  if (!steps) {
    if (steps.error().empty()) __builtin_trap();
    return 0;
  }
  const qfscale::util::SystemTime start{std::chrono::seconds{1'700'000'000}};
  for (const auto& policy : shipped_policies()) {
    qfscale::policy::EngineState state;
    for (const auto& step : *steps) {
      auto r = qfscale::policy::recommend(policy, qfscale::policy::eval_input(step, start, 2.5),
                                          std::move(state));
      state = std::move(r.state);
      const auto& rec = r.recommendation;
      if (rec.steps.size() != qfscale::model::kAllStages.size()) __builtin_trap();
      if (rec.replicas.value < 0) __builtin_trap();
      if (qfscale::policy::eval_json_line(step, rec).find('\n') != std::string::npos) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
