// libFuzzer target: arbitrary bytes as a policy file must give a Policy or diagnostics, never a
// crash, hang or sanitizer report. The same bytes also go through the TZif, cron and duration
// parsers, which take text from the same files.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/policy/cron.h"
#include "qfscale/policy/duration.h"
#include "qfscale/policy/loader.h"
#include "qfscale/policy/zone.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Every zone name "exists" and has the fuzz input as its TZif bytes.
  const qfscale::util::ZoneSource zones = [text](std::string_view) -> std::optional<std::string> {
    return std::string(text);
  };
  auto policy = qfscale::policy::load_policy(text, "fuzz.yaml", zones);
  if (policy) (void)qfscale::policy::to_yaml(policy->spec());
  (void)qfscale::policy::parse_tzif("Fuzz/Zone", text);
  if (size < 256) {
    (void)qfscale::policy::parse_cron(text);
    (void)qfscale::policy::parse_duration(text);
  }
  return 0;
}
