// Feeds arbitrary bytes to the verifier as the fake server would see them: the input is split on
// '\n' into the Authorization value, the Host header, a query string and a signed-header value,
// so the fuzzer can reach the canonicalisation and the host-without-port retry, not only the
// parser. Invariant: never crash, and accept only what parse_authorization accepts.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/bce/signer.h"

namespace {

std::vector<std::string_view> split_lines(std::string_view data, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) break;
    parts.push_back(data.substr(0, nl));
    data.remove_prefix(nl + 1);
  }
  parts.push_back(data);
  parts.resize(max_parts);
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qfscale::bce;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parts = split_lines(input, 4);

  CanonicalInput request{.method = "POST",
                         .path = "/v2/service",
                         .query = {{"Action", std::string(parts[2])}, {"authorization", "x"}},
                         .headers = {{"Host", std::string(parts[1])},
                                     {"Content-Type", "application/json"},
                                     {"x-bce-date", std::string(parts[3])}}};
  // Any access key is "known", so the HMAC path runs; the empty one also covers an empty secret.
  const SecretLookup lookup = [](std::string_view ak) -> std::optional<std::string> {
    if (ak == "unknown") return std::nullopt;
    return std::string(ak.size() % 2 == 0 ? "" : "sk-fuzz");
  };
  const auto parsed = parse_authorization(parts[0]);
  const auto verified = verify(request, parts[0], lookup,
                               VerifyOptions{.now = SysSeconds{std::chrono::seconds{1735787045}}});
  if (verified && !parsed) std::abort();
  if (!verified && !parsed && verified.error().failure != VerifyFailure::Malformed) std::abort();
  if (parsed) (void)format_timestamp(parsed->timestamp);
  return 0;
}
