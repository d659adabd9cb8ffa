#include "qianfan/json_writer.h"

namespace qfscale::qianfan::detail {

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

}  // namespace qfscale::qianfan::detail
