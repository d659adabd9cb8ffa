#include "qianfan/util.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "qfscale/util/redact.h"

namespace qfscale::qianfan::detail {

std::optional<std::string_view> header_value(const http::Headers& headers, std::string_view name) {
  const auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  for (const auto& h : headers) {
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(),
                   [&](char a, char b) { return lower(a) == lower(b); })) {
      return std::string_view(h.value);
    }
  }
  return std::nullopt;
}

Result<BaseUrl> split_base_url(std::string_view url) {
  std::string trimmed(url);
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  const auto invalid = [&](std::string_view why) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("base URL \"{}\" {}; expected https://host[:port][/prefix]",
                            util::redact_url(trimmed), why));
  };
  std::string_view rest = trimmed;
  std::string_view default_port;
  if (rest.starts_with("https://")) {
    default_port = "443";
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    default_port = "80";
    rest.remove_prefix(7);
  } else {
    return invalid("is not an http or https URL");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return invalid("has a query or fragment");
  for (const char c : rest) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 ||
        std::iscntrl(static_cast<unsigned char>(c)) != 0) {
      return invalid("contains whitespace or control characters");
    }
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("has user info (the API signs requests with the AK/SK; remove it)");
  }
  // host or [v6] followed by an optional :port
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  std::string_view host = authority;
  std::string_view port;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return invalid("has a bad port");
    }
    if (std::stoi(std::string(port)) > 65535) return invalid("has a bad port");
  }
  if (host.empty()) return invalid("has no host");
  BaseUrl out;
  out.url = trimmed;
  out.host_header =
      port.empty() || port == default_port ? std::string(host) : std::string(authority);
  out.path_prefix = std::string(path);
  return out;
}

}  // namespace qfscale::qianfan::detail
