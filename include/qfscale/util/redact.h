#pragma once

/// Quoting user input in messages without leaking it. Diagnostics quote what they found (a
/// YAML value, a trace line, a URL), but the file may be the wrong one (the credentials file
/// given as a policy) and a URL may carry a password: every quote of input goes through here,
/// so what reaches stderr, the audit log or an HTTP body is short, printable and never a key.
///
/// Pure functions; safe to call from any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace qfscale::util {

/// How much of a value a message quotes: enough to recognise it, too little to copy a file.
inline constexpr std::size_t kExcerptChars = 40;

/// What a message shows instead of a value that looks like a secret.
inline constexpr std::string_view kHiddenSecret = "<hidden: looks like a secret>";

/// True when `text` looks like it holds a secret: a run of at least 20 letters and digits,
/// mixing both (an AK or SK is 32 hex characters; tokens and base64 keys have such runs between
/// their few '+', '/', '-' or '_'; ids, file names and paths do not: "svco-ktth9mkb5cqn" has 12,
/// "/tmp/tmp.Ab3dE5gH9k/state.json" 10), or a word that names one, in any case:
/// "secret", "passw", "token", "key=", "private key", "authorization", "bearer ".
[[nodiscard]] bool looks_like_secret(std::string_view text);

/// `text` made safe to quote: kHiddenSecret when `looks_like_secret(text)`; else at most
/// `max_chars` characters followed by "..." when cut, with control characters, DEL, C1 controls
/// and bytes that are not UTF-8 escaped as \n, \r, \t or \xNN. A multi-byte character is kept
/// whole or cut whole. No quotes are added.
[[nodiscard]] std::string excerpt(std::string_view text, std::size_t max_chars = kExcerptChars);

/// `url` as a message may show it: the password in its userinfo replaced by *** ("user:***@"),
/// userinfo without a password (often a token) as "***@", a query that looks like a secret as
/// "?***", control bytes escaped, and at most 200 characters. Text that is not a URL gets the
/// same userinfo rule for anything before an '@' in its first segment.
[[nodiscard]] std::string redact_url(std::string_view url);

}  // namespace qfscale::util
