#pragma once

// Compact JSON object bodies for console requests, keys in insertion order like the SDKs'
// JSON.stringify: a key-and-value convenience over the one writer (util/json_writer.h), which
// keeps the bytes of a signed body stable. UTF-8 validity is checked by the caller.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/util/json_string.h"
#include "qfscale/util/json_writer.h"

namespace qfscale::qianfan::detail {

using util::append_json_string;

/// Thread-safety: a local builder; not shared.
class JsonObjectWriter {
 public:
  JsonObjectWriter() { writer_.begin_object(); }
  JsonObjectWriter& string(std::string_view key, std::string_view value);
  JsonObjectWriter& integer(std::string_view key, std::int64_t value);
  JsonObjectWriter& string_array(std::string_view key, const std::vector<std::string>& values);
  JsonObjectWriter& boolean(std::string_view key, bool value);
  /// Shortest round-trip form ("5", "2.5"); non-finite values are written as null.
  JsonObjectWriter& number(std::string_view key, double value);
  /// `json` must already be valid JSON (a nested object or array built by the caller).
  JsonObjectWriter& raw(std::string_view key, std::string_view json);
  /// The finished object, e.g. {"serviceId":"svco-1"}; "{}" when nothing was added.
  [[nodiscard]] std::string finish();

 private:
  /// Bytes pass through: the client refuses a body that is not valid UTF-8 rather than send a
  /// changed id.
  util::JsonWriter writer_{util::InvalidUtf8::Keep};
};

}  // namespace qfscale::qianfan::detail
