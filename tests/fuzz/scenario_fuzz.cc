// libFuzzer target: arbitrary bytes as a fake-Qianfan scenario must give a Scenario or
// diagnostics, never a crash, hang or sanitizer report. What parses must also validate (the
// loader's contract), and a parsed scenario with credentials must start a fake.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qfscale/fake/fake_qianfan.h"
#include "qfscale/util/clock.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto scenario = qfscale::fake::parse_scenario(text, "fuzz.yaml");
  if (!scenario) {
    if (scenario.error().empty()) __builtin_trap();
    return 0;
  }
  if (!qfscale::fake::validate(*scenario).empty()) __builtin_trap();
  if (scenario->credentials) {
    const qfscale::util::ManualClock clock;
    if (!qfscale::fake::FakeQianfan::create(*scenario, clock)) __builtin_trap();
  }
  return 0;
}
