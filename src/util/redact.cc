#include "qfscale/util/redact.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "qfscale/util/utf8.h"

namespace qfscale::util {

namespace {

constexpr std::size_t kMinTokenRun = 20;
constexpr std::size_t kMaxUrlChars = 200;

// Letters and digits only: '/', '-', '_' and '.' join the parts of paths and file names
// ("/tmp/tmp.Ab3dE5gH9k/state.json", "state-2024-01-01"), which must stay readable.
bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool contains_word(std::string_view text, std::string_view word) {
  return std::search(text.begin(), text.end(), word.begin(), word.end(),
                     [](char a, char b) { return lower(a) == b; }) != text.end();
}

void append_escaped_byte(std::string& out, unsigned char b) {
  switch (b) {
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      out += fmt::format("\\x{:02x}", b);
  }
}

/// Printable, bounded, escaped; no secret check (the callers decide what to hide).
std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (chars == max_chars) {
      out += "...";
      break;
    }
    const auto b = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_sequence_length(text.substr(i));
    if (n == 0 || (n == 1 && (b < 0x20 || b == 0x7F))) {
      append_escaped_byte(out, b);
      ++i;
    } else if (n == 2 && b == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      // U+0080..U+009F: C1 controls, which some terminals obey (CSI is U+009B).
      append_escaped_byte(out, b);
      append_escaped_byte(out, static_cast<unsigned char>(text[i + 1]));
      i += 2;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

}  // namespace

bool looks_like_secret(std::string_view text) {
  // Not "key:": yaml-cpp's own messages say "first invalid key: ...".
  constexpr std::array<std::string_view, 7> kWords = {
      "secret", "passw", "token", "key=", "private key", "authorization", "bearer "};
  for (const auto word : kWords) {
    if (contains_word(text, word)) return true;
  }
  std::size_t run = 0;
  bool letter = false;
  bool digit = false;
  for (const char c : text) {
    if (!is_token_char(c)) {
      run = 0;
      letter = digit = false;
      continue;
    }
    ++run;
    letter = letter || (lower(c) >= 'a' && lower(c) <= 'z');
    digit = digit || (c >= '0' && c <= '9');
    if (run >= kMinTokenRun && letter && digit) return true;
  }
  return false;
}

std::string excerpt(std::string_view text, std::size_t max_chars) {
  if (looks_like_secret(text)) return std::string(kHiddenSecret);
  return printable(text, max_chars);
}

std::string redact_url(std::string_view url) {
  std::string_view scheme;
  std::string_view rest = url;
  if (const auto sep = url.find("://"); sep != std::string_view::npos) {
    scheme = url.substr(0, sep + 3);
    rest = url.substr(sep + 3);
  }
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = rest.substr(authority_end);

  std::string shown(scheme);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    const auto user = userinfo.substr(0, colon);
    // Without a password the user part is often a token itself, and so is a token-like user.
    shown += colon == std::string_view::npos || looks_like_secret(user)
                 ? std::string("***")
                 : std::string(user) + ":***";
    shown += '@';
    authority.remove_prefix(at + 1);
  }
  shown += authority;
  if (const auto q = tail.find('?'); q != std::string_view::npos) {
    const auto query = tail.substr(q + 1);
    const auto fragment = std::min(query.find('#'), query.size());
    if (looks_like_secret(query.substr(0, fragment))) {
      shown += tail.substr(0, q);
      shown += "?***";
      tail = query.substr(fragment);
    }
  }
  shown += tail;
  return printable(shown, kMaxUrlChars);
}

}  // namespace qfscale::util
