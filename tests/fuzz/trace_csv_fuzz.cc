// libFuzzer target: arbitrary bytes as a trace CSV must give a Trace or at most
// kMaxTraceDiagnostics + 1 diagnostics, never a crash, hang or sanitizer report. A parsed trace
// must survive a to_csv round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qfscale/trace/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto trace = qfscale::trace::parse_trace(text, "fuzz.csv");
  if (!trace) {
    if (trace.error().empty() || trace.error().size() > qfscale::trace::kMaxTraceDiagnostics + 1) {
      __builtin_trap();
    }
    return 0;
  }
  const auto again = qfscale::trace::parse_trace(qfscale::trace::to_csv(*trace), "again.csv");
  if (!again || !(*again == *trace)) __builtin_trap();
  (void)trace->mean(-1.5, static_cast<double>(trace->size()) + 0.5);
  return 0;
}
