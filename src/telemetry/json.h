#pragma once

// A small JSON writer for the decisions API and the audit log: objects, arrays, strings with
// correct escaping, numbers. It does not validate the sequence of calls beyond what QFS_ASSERT
// catches in debug builds; callers are our own code.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qfscale::telemetry::detail {

/// Appends `text` to `out` as a quoted JSON string: `"` and `\` escaped, control characters as
/// \n \r \t \b \f or \u00XX, DEL as \u007f, and every byte that is not part of valid UTF-8
/// (overlong forms, surrogates, code points above U+10FFFF, truncated sequences) as \ufffd.
void append_json_string(std::string& out, std::string_view text);

/// Shortest text that reads back as `value`; `null` for NaN and infinities (JSON has neither).
void append_json_number(std::string& out, double value);

/// Builds one JSON value into a string. Not thread-safe; one writer per document.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// The next value is this member's.
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& number(double value);
  JsonWriter& integer(std::int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();

  [[nodiscard]] const std::string& str() const { return out_; }
  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  void before_value();

  std::string out_;
  std::vector<bool> first_;  ///< per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace qfscale::telemetry::detail
