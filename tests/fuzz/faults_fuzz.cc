// libFuzzer target: arbitrary bytes as a POST /admin/faults body must give a fault map or
// diagnostics, never a crash, hang or sanitizer report. A parsed map survives a round trip:
// GET /admin/faults (`to_json`) parses back to the same map and prints the same bytes again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qfscale/fake/fake_qianfan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto faults = qfscale::fake::parse_faults(text, "POST /admin/faults");
  if (!faults) {
    if (faults.error().empty()) __builtin_trap();
    return 0;
  }
  const auto json = qfscale::fake::to_json(*faults);
  auto again = qfscale::fake::parse_faults(json, "GET /admin/faults");
  if (!again || *again != *faults) __builtin_trap();
  if (qfscale::fake::to_json(*again) != json) __builtin_trap();
  return 0;
}
