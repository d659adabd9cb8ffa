#pragma once

/// One JSON string escaper for every module that writes JSON by hand (the Qianfan client's
/// request bodies, the fake's replies, `policy eval` lines, the simulator's summary, and the
/// telemetry writer, which replaces invalid UTF-8 around it), and for the strings that
/// `config check --show` and `policy check --show` print as YAML.

#include <string>
#include <string_view>

namespace qfscale::util {

/// Appends `text` to `out` as a JSON string literal, quotes included (RFC 8259): `"` and `\`
/// escaped, \b \f \n \r \t as short escapes, other control bytes and DEL as \u00XX. Other
/// bytes pass through unchanged; UTF-8 validity is the caller's concern.
void append_json_string(std::string& out, std::string_view text);

/// `text` as a JSON string literal, quotes included (the escaping of `append_json_string`).
/// Also a YAML double-quoted scalar that reads back as `text`: YAML 1.2 accepts every JSON
/// escape, so the `--show` printers quote with this too.
[[nodiscard]] std::string json_string(std::string_view text);

/// The same escaping without the surrounding quotes, for a writer that builds one string
/// literal from several pieces.
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace qfscale::util
