// libFuzzer target for the server's request parsing: any bytes must either parse into a Request
// or fail with one of the statuses the server answers with, never crash or exceed the limits.
// Seeds: tests/fuzz/corpus/http_request/.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Small limits so the fuzzer reaches the limit paths with short inputs.
  const qfscale::http::detail::RequestLimits limits{.max_header_bytes = 512, .max_body_bytes = 256};
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const auto result = qfscale::http::detail::parse_request(raw, limits);
  if (result) {
    if (result->body.size() > limits.max_body_bytes) std::abort();
    if (result->method.empty()) std::abort();
  } else {
    const int status = result.error().status;
    if (status != 400 && status != 413 && status != 431) std::abort();
  }
  return 0;
}
