// libFuzzer target: arbitrary bytes as a controller config must give a Config or diagnostics,
// never a crash, hang or sanitizer report. Every policy file a config names reads as the same
// bytes, so the policy loader is reached through the config too.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "qfscale/controller/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const qfscale::controller::FileReader read =
      [text](const std::string&) -> qfscale::Result<std::string> { return std::string(text); };
  const qfscale::util::ZoneSource zones = [](std::string_view) -> std::optional<std::string> {
    return std::nullopt;
  };
  auto config = qfscale::controller::parse_config(text, "/fuzz/qfscale.yaml", read, zones);
  if (config) (void)qfscale::controller::to_yaml(*config);
  return 0;
}
