#pragma once

/// URL pieces shared by every module that reads URLs: the percent-decoder and the query-string
/// splitter (RFC 3986), next to `parse_url` (client.h, on Boost.URL). The fake's request
/// handling, `qfscale sign` and the Prometheus source's userinfo all decode with these.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qfscale::http {

/// RFC 3986 percent-decoding: "%41b" -> "Ab", "%2F" -> "/". '+' stays '+' (a literal plus in
/// RFC 3986, as the BCE signer has it). Empty when a '%' is not followed by two hex digits.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text);

/// A query string (without the '?') as decoded pairs in order: "a=1&b=%41&c&&d=" ->
/// {a,1} {b,A} {c,""} {d,""}. Empty pieces are skipped. Empty on a bad escape.
[[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view query);

}  // namespace qfscale::http
