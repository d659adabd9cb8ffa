#pragma once

// Compact JSON object bodies for console requests, keys in insertion order like the SDKs'
// JSON.stringify. Strings are escaped per RFC 8259; UTF-8 validity is checked by the caller.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qfscale/util/json_string.h"

namespace qfscale::qianfan::detail {

using util::append_json_string;

/// Thread-safety: a local builder; not shared.
class JsonObjectWriter {
 public:
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
  void key(std::string_view name);
  std::string out_ = "{";
};

}  // namespace qfscale::qianfan::detail
