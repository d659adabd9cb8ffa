// libFuzzer target: arbitrary bytes as the body of an etcd gateway answer, fed to every decoder
// and to the error classifier. Decoders must return an Error, never crash.
// Seeds: tests/fuzz/corpus/etcd_reply (answers recorded from etcd 3.4.23).

#include <cstddef>
#include <cstdint>
#include <string>

#include "coordination/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qfscale::coordination;
  const std::string body(reinterpret_cast<const char*>(data), size);  // NOLINT
  (void)detail::decode_range(body);
  (void)detail::decode_put(body);
  (void)detail::decode_delete(body);
  (void)detail::decode_txn(body);
  (void)detail::decode_grant(body);
  (void)detail::decode_keep_alive(body, 7);
  (void)detail::decode_time_to_live(body);
  (void)detail::decode_token(body);
  for (const int status : {200, 404, 503}) {
    qfscale::http::Response response;
    response.status = status;
    response.body = body;
    (void)detail::error_from_reply(response, "range k");
  }
  return 0;
}
