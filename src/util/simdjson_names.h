#pragma once

// Words for simdjson's value types, for decoding errors such as "expected a string, got null".
// Private (src/) and header-only on purpose: util itself stays free of simdjson, and only the
// modules that already decode with simdjson in src/ (qianfan, controller) include this.

#include <string_view>

#include <simdjson.h>

namespace qfscale::util::detail {

/// "an array", "an integer", "a decimal number", ... (an article, so it reads in a sentence).
[[nodiscard]] constexpr std::string_view json_type_name(simdjson::dom::element_type type) {
  using simdjson::dom::element_type;
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a decimal number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

}  // namespace qfscale::util::detail
