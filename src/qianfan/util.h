#pragma once

// Small helpers private to the qianfan module. They keep the module to the *interface* of the
// http module (message.h, client.h types), so it builds and tests without the Beast
// implementation.

#include <optional>
#include <string>
#include <string_view>

#include "qfscale/http/message.h"
#include "qfscale/util/result.h"

namespace qfscale::qianfan::detail {

/// Case-insensitive lookup of the first header named `name`.
[[nodiscard]] std::optional<std::string_view> header_value(const http::Headers& headers,
                                                           std::string_view name);

/// A base URL split for request building: "https://host[:port][/prefix]".
struct BaseUrl {
  std::string url;          ///< as given, trailing slashes trimmed
  std::string host_header;  ///< "host" for the scheme's default port, else "host:port"
  std::string path_prefix;  ///< "" or "/prefix"
};

/// InvalidInput unless `url` is http(s) with a host, an optional numeric port, an optional
/// path, and no user info, query or fragment.
[[nodiscard]] Result<BaseUrl> split_base_url(std::string_view url);

}  // namespace qfscale::qianfan::detail
