#include "qfscale/util/utf8.h"

#include <string_view>

#include <doctest/doctest.h>

using qfscale::util::utf8_sequence_length;

TEST_SUITE("util") {
  TEST_CASE("utf8_sequence_length: RFC 3629's well-formed sequences and nothing else") {
    struct Row {
      std::string_view name;
      std::string_view text;
      std::size_t length;
    };
    const Row rows[] = {
        {"empty", "", 0},
        {"ASCII", "a", 1},
        {"NUL", std::string_view("\0", 1), 1},
        {"two bytes, e acute", "\xC3\xA9x", 2},
        {"three bytes, CJK", "\xE7\xAE\x97", 3},
        {"four bytes, U+10FFFF", "\xF4\x8F\xBF\xBF", 4},
        {"overlong slash", "\xC0\xAF", 0},
        {"overlong three-byte", "\xE0\x80\xAF", 0},
        {"surrogate U+D800", "\xED\xA0\x80", 0},
        {"above U+10FFFF", "\xF4\x90\x80\x80", 0},
        {"lone continuation", "\x80", 0},
        {"cut sequence", "\xE7\xAE", 0},
        {"bad second continuation", "\xE7\xAE\x41", 0},
        {"F5 lead", "\xF5\x80\x80\x80", 0},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      CHECK(utf8_sequence_length(row.text) == row.length);
    }
  }
}
