// libFuzzer target: arbitrary bytes as the body of a Qianfan reply, fed to every decoder with a
// success status and with an error status. Decoders must return an Error, never crash.
// Seeds: tests/fuzz/corpus/qianfan_reply (the recorded replies of tests/data/qianfan).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "qfscale/qianfan/errors.h"

#include "qianfan/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qfscale;
  http::Response response;
  response.headers.push_back({"Content-Type", "application/json"});
  response.body.assign(reinterpret_cast<const char*>(data), size);  // NOLINT
  const util::SystemTime now{std::chrono::seconds{1'735'787'045}};  // 2025-01-02T03:04:05Z
  for (const int status : {200, 429, 503}) {
    response.status = status;
    (void)qianfan::detail::decode_describe_service(response, now);
    (void)qianfan::detail::decode_describe_services(response, now);
    (void)qianfan::detail::decode_ack(response, "ScaleService", now);
    (void)qianfan::detail::decode_describe_compute_unit(response, now);
    (void)qianfan::detail::decode_describe_service_metric(response, now);
    (void)qianfan::error_from_reply(response, "DescribeService", now);
  }
  return 0;
}
