// `load_credentials`: the AK/SK from a private file or the environment. Values are read and
// returned, never formatted: every message names only paths, line numbers and variable names.

#include "controller/credentials.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <sys/stat.h>

#include "qfscale/controller/config.h"
#include "qfscale/util/file.h"

namespace qfscale::controller {

namespace {

constexpr std::string_view kAccessKey = "QIANFAN_ACCESS_KEY";
constexpr std::string_view kSecretKey = "QIANFAN_SECRET_KEY";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

/// Strips one pair of matching quotes, as a shell would for `source`.
std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

}  // namespace

namespace detail {

Result<bce::Credentials> parse_credentials(const std::string& path, std::string_view text) {
  const auto bad = [&](int line, std::string_view why) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("credentials file {} line {}: {}", path, line, why));
  };
  bce::Credentials out;
  bool have_access = false;
  bool have_secret = false;
  int line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    auto line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      return bad(line_number,
                 fmt::format("is not KEY=VALUE, must set {} or {}", kAccessKey, kSecretKey));
    }
    const auto key = trim(line.substr(0, eq));
    const auto value = unquote(trim(line.substr(eq + 1)));
    bool* seen = nullptr;
    std::string* target = nullptr;
    if (key == kAccessKey) {
      seen = &have_access;
      target = &out.access_key;
    } else if (key == kSecretKey) {
      seen = &have_secret;
      target = &out.secret_key;
    } else {
      // The key is not echoed: it may be a secret pasted in the wrong place.
      return bad(line_number,
                 fmt::format("sets an unknown key, must set {} or {}", kAccessKey, kSecretKey));
    }
    if (*seen) return bad(line_number, fmt::format("sets {} a second time", key));
    if (value.empty()) return bad(line_number, fmt::format("sets {} to an empty value", key));
    *seen = true;
    *target = std::string(value);
  }
  if (!have_access || !have_secret) {
    return fail(ErrorCode::InvalidInput, fmt::format("credentials file {} does not set {}", path,
                                                     have_access ? kSecretKey : kAccessKey));
  }
  return out;
}

}  // namespace detail

Result<bce::Credentials> load_credentials(const QianfanConfig& config) {
  if (config.credentials_file.empty()) return bce::Credentials::from_environment();
  const auto& path = config.credentials_file;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return fail(ErrorCode::InvalidInput,
                fmt::format("cannot read credentials file {}: {}", path,
                            std::strerror(err)));  // NOLINT(concurrency-mt-unsafe)
  }
  if ((st.st_mode & 077U) != 0) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("credentials file {} has mode {:04o}, which lets group or others "
                            "access it; run: chmod 600 {}",
                            path, st.st_mode & 07777U, path));
  }
  auto text = util::read_file(path);
  if (!text) return fail(std::move(text).error());
  return detail::parse_credentials(path, *text);
}

}  // namespace qfscale::controller
