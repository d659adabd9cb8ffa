#pragma once

/// The one JSON writer: the decisions API and the audit log (telemetry), the Qianfan client's
/// signed request bodies and the CLI's printed replies all build their JSON with it, so numbers
/// and strings are spelled one way everywhere. Compact (no spaces), keys in the order written:
/// the bytes of a request body are stable, as its signature needs. It does not validate the
/// sequence of calls beyond what QFS_ASSERT catches in debug builds; callers are our own code.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qfscale::util {

/// Appends the shortest text that reads back as `value` ("5", "2.5", "1e+20"), never using a
/// locale; `null` for NaN and the infinities, which JSON cannot spell.
void append_json_number(std::string& out, double value);
/// `append_json_number` into a new string.
[[nodiscard]] std::string json_number(double value);

/// Appends `text` as a quoted JSON string (json_string.h escaping), every byte that is not part
/// of valid UTF-8 (overlong forms, surrogates, code points above U+10FFFF, truncated sequences)
/// written as \ufffd, so a client's parser never fails on it.
void append_json_string_replacing(std::string& out, std::string_view text);

/// What the writer does with a string that is not valid UTF-8.
enum class InvalidUtf8 {
  Replace,  ///< each bad byte becomes U+FFFD (output for people and JSON clients)
  Keep,     ///< bytes pass through (the Qianfan client refuses such a body after building it)
};

/// Builds one JSON value into a string. Not thread-safe; one writer per document.
class JsonWriter {
 public:
  explicit JsonWriter(InvalidUtf8 invalid = InvalidUtf8::Replace) : invalid_(invalid) {}

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
  /// A value that is already JSON (built by another writer), written as it is.
  JsonWriter& raw(std::string_view json);

  [[nodiscard]] const std::string& str() const { return out_; }
  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  void before_value();
  void append_string(std::string_view text);

  InvalidUtf8 invalid_;
  std::string out_;
  std::vector<bool> first_;  ///< per open container: no element written yet
  bool after_key_ = false;
};

/// One compact JSON object, keys in insertion order like the SDKs' JSON.stringify: a key-and-value
/// convenience over JsonWriter for the Qianfan client's signed request bodies and the CLI's
/// printed replies. Bytes pass through (InvalidUtf8::Keep): the client refuses a body that is not
/// valid UTF-8 rather than send a changed id. Not thread-safe; a local builder.
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
  JsonWriter writer_{InvalidUtf8::Keep};
};

}  // namespace qfscale::util
