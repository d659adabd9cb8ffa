#include "qfscale/util/error.h"

#include <cstdio>
#include <cstdlib>

#include "qfscale/util/check.h"
#include "qfscale/util/diagnostic.h"

namespace qfscale::util {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidInput:
      return "invalid_input";
    case ErrorCode::Transient:
      return "transient";
    case ErrorCode::Remote:
      return "remote";
    case ErrorCode::Internal:
      return "internal";
  }
  return "internal";
}

Error Error::with_context(std::string what) && {
  context.push_back(std::move(what));
  return std::move(*this);
}

Error Error::with_context(std::string what) const& {
  Error copy = *this;
  copy.context.push_back(std::move(what));
  return copy;
}

std::string Error::to_string() const {
  std::string out;
  for (auto it = context.rbegin(); it != context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message;
  return out;
}

Error make_error(ErrorCode code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

std::string Diagnostic::to_string() const {
  std::string out = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    out += fmt::format(":{}", line);
    if (column > 0) out += fmt::format(":{}", column);
  }
  out += ": ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  out += message;
  return out;
}

std::string to_string(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    out += d.to_string();
    out += '\n';
  }
  return out;
}

namespace detail {
void check_failed(std::string_view condition, std::string_view message, std::string_view file,
                  int line) {
  std::fprintf(stderr, "qfscale: internal check failed at %.*s:%d: %.*s (%.*s)\n",
               static_cast<int>(file.size()), file.data(), line, static_cast<int>(message.size()),
               message.data(), static_cast<int>(condition.size()), condition.data());
  std::abort();
}
}  // namespace detail

}  // namespace qfscale::util
