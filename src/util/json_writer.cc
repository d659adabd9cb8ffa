#include "qfscale/util/json_writer.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "qfscale/util/check.h"
#include "qfscale/util/json_string.h"
#include "qfscale/util/utf8.h"

namespace qfscale::util {

namespace {

constexpr std::string_view kReplacement = "\\ufffd";

}  // namespace

void append_json_string_replacing(std::string& out, std::string_view text) {
  // Invalid UTF-8 would make the whole reply unparsable for a JSON client, so each bad byte
  // becomes U+FFFD; the valid runs between them are escaped as everywhere else.
  out.push_back('"');
  std::size_t run_start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(text.substr(i));
    if (len > 0) {
      i += len;
      continue;
    }
    append_json_escaped(out, text.substr(run_start, i - run_start));
    out += kReplacement;
    run_start = ++i;
  }
  append_json_escaped(out, text.substr(run_start));
  out.push_back('"');
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  // fmt's default is the shortest representation that round-trips; it never uses a locale.
  fmt::format_to(std::back_inserter(out), "{}", value);
}

std::string json_number(double value) {
  std::string out;
  append_json_number(out, value);
  return out;
}

void JsonWriter::append_string(std::string_view text) {
  if (invalid_ == InvalidUtf8::Replace) {
    append_json_string_replacing(out_, text);
  } else {
    append_json_string(out_, text);
  }
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  QFS_ASSERT(!first_.empty() && !after_key_, "end_object without begin_object");
  first_.pop_back();
  out_.push_back('}');
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  QFS_ASSERT(!first_.empty() && !after_key_, "end_array without begin_array");
  first_.pop_back();
  out_.push_back(']');
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  QFS_ASSERT(!after_key_, "two keys in a row");
  before_value();
  append_string(name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  before_value();
  append_string(value);
  return *this;
}

JsonWriter& JsonWriter::number(double value) {
  before_value();
  append_json_number(out_, value);
  return *this;
}

JsonWriter& JsonWriter::integer(std::int64_t value) {
  before_value();
  fmt::format_to(std::back_inserter(out_), "{}", value);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  before_value();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

JsonObjectWriter& JsonObjectWriter::string(std::string_view name, std::string_view value) {
  writer_.key(name).string(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::integer(std::string_view name, std::int64_t value) {
  writer_.key(name).integer(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::string_array(std::string_view name,
                                                 const std::vector<std::string>& values) {
  writer_.key(name).begin_array();
  for (const auto& value : values) writer_.string(value);
  writer_.end_array();
  return *this;
}

JsonObjectWriter& JsonObjectWriter::boolean(std::string_view name, bool value) {
  writer_.key(name).boolean(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::number(std::string_view name, double value) {
  writer_.key(name).number(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::raw(std::string_view name, std::string_view json) {
  writer_.key(name).raw(json);
  return *this;
}

std::string JsonObjectWriter::finish() { return writer_.end_object().take(); }

}  // namespace qfscale::util
