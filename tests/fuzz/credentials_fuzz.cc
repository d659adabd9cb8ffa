// libFuzzer target: arbitrary bytes as a credentials file must give an AK/SK pair or an
// InvalidInput error, never a crash. The error never quotes the file: every message is one of a
// closed set of sentences that name only the path, a line number and the expected variable
// names, so no value (a secret pasted in the wrong place, a key under the wrong name) can leak.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "controller/credentials.h"

namespace {

constexpr std::string_view kPath = "/fuzz/credentials";

bool one_of_the_sentences(std::string_view m) {
  constexpr std::string_view kKeys = "QIANFAN_ACCESS_KEY or QIANFAN_SECRET_KEY";
  const std::string prefix = "credentials file " + std::string(kPath) + " ";
  if (!m.starts_with(prefix)) return false;
  m.remove_prefix(prefix.size());
  if (m == "does not set QIANFAN_ACCESS_KEY" || m == "does not set QIANFAN_SECRET_KEY") return true;
  if (!m.starts_with("line ")) return false;
  m.remove_prefix(5);
  std::size_t digits = 0;
  while (digits < m.size() && std::isdigit(static_cast<unsigned char>(m[digits])) != 0) ++digits;
  if (digits == 0 || !m.substr(digits).starts_with(": ")) return false;
  m.remove_prefix(digits + 2);
  for (const std::string_view key : {"QIANFAN_ACCESS_KEY", "QIANFAN_SECRET_KEY"}) {
    if (m == "sets " + std::string(key) + " a second time") return true;
    if (m == "sets " + std::string(key) + " to an empty value") return true;
  }
  return m == "is not KEY=VALUE, must set " + std::string(kKeys) ||
         m == "sets an unknown key, must set " + std::string(kKeys);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto credentials = qfscale::controller::detail::parse_credentials(std::string(kPath), text);
  if (credentials) {
    if (credentials->access_key.empty() || credentials->secret_key.empty()) __builtin_trap();
    return 0;
  }
  if (credentials.error().code != qfscale::ErrorCode::InvalidInput) __builtin_trap();
  if (!one_of_the_sentences(credentials.error().message)) __builtin_trap();
  return 0;
}
