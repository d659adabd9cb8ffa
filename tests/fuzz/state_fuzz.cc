// libFuzzer target: arbitrary bytes as a state file must decode to engine states or an
// InvalidInput error, never a crash, hang or sanitizer report. Whatever decodes must survive a
// round trip: encoding it and decoding that gives the same states and the same bytes again.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qfscale/controller/state_store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto states = qfscale::controller::decode_states(text);
  if (!states) {
    if (states.error().code != qfscale::ErrorCode::InvalidInput) __builtin_trap();
    return 0;
  }
  const qfscale::util::SystemTime saved_at{std::chrono::seconds{1'700'000'000}};
  const auto encoded = qfscale::controller::encode_states(*states, saved_at);
  auto again = qfscale::controller::decode_states(encoded);
  if (!again || *again != *states) __builtin_trap();
  if (qfscale::controller::encode_states(*again, saved_at) != encoded) __builtin_trap();
  return 0;
}
