#pragma once

// The telemetry module's names for the one JSON writer (util/json_writer.h): strings with
// invalid UTF-8 replaced, numbers spelled one way everywhere.

#include "qfscale/util/json_writer.h"

namespace qfscale::telemetry::detail {

using util::append_json_number;
using util::JsonWriter;
/// Quoted, invalid UTF-8 replaced by U+FFFD.
inline void append_json_string(std::string& out, std::string_view text) {
  util::append_json_string_replacing(out, text);
}

}  // namespace qfscale::telemetry::detail
