// libFuzzer target: arbitrary bytes as a URL (qianfan.baseUrl, the Prometheus URL, loadgen's
// --target) must parse or fail, never crash. A parsed URL has a scheme the clients speak, a host
// that cannot smuggle anything into a request line or header (no controls, spaces or
// delimiters after percent-decoding), a port in 1..65535 and a Host header naming that host.
// A refused URL's message never quotes the password of its userinfo.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qfscale/http/client.h"

namespace {

bool safe_host_byte(char c) {
  const auto b = static_cast<unsigned char>(c);
  if (b <= 0x20 || b >= 0x7f) return false;
  return std::string_view("/?#@\\\"<>{}|^`").find(c) == std::string_view::npos;
}

/// The password of `scheme://user:password@host...`, or empty.
std::string_view userinfo_password(std::string_view text) {
  const auto start = text.find("://");
  if (start == std::string_view::npos) return {};
  const auto authority = text.substr(start + 3, text.find_first_of("/?#", start + 3) - start - 3);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  const auto colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return {};
  return authority.substr(colon + 1, at - colon - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = qfscale::http::parse_url(text);
  if (!url) {
    const auto password = userinfo_password(text);
    // Judged only where a quoted password can only have been copied: it occurs once in the
    // input (other parts may be quoted), no byte needs escaping (an escape such as "\xca"
    // followed by quoted text could spell it), and it holds no '*' or '@' (the mask "user:***@"
    // could spell it).
    const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
      return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    const bool once = text.find(password) == text.rfind(password);
    const bool unlike_mask = password.find_first_of("*@") == std::string_view::npos;
    if (password.size() >= 6 && once && printable && unlike_mask &&
        url.error().message.find(password) != std::string::npos) {
      __builtin_trap();
    }
    return 0;
  }
  if (url->scheme != "http" && url->scheme != "https") __builtin_trap();
  if (url->host.empty()) __builtin_trap();
  const bool ipv6 = url->host.find(':') != std::string::npos;
  for (const char c : url->host) {
    if (!safe_host_byte(c) && !(ipv6 && c == ':')) __builtin_trap();
  }
  unsigned port = 0;
  const auto* end = url->port.data() + url->port.size();
  const auto [ptr, ec] = std::from_chars(url->port.data(), end, port);
  if (ec != std::errc{} || ptr != end || port == 0 || port > 65535) __builtin_trap();
  if (url->host_header().find(url->host) == std::string::npos) __builtin_trap();
  for (const char c : url->target) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7f) __builtin_trap();
  }
  return 0;
}
