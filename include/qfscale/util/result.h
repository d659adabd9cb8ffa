#pragma once

/// `Result<T>` is how every fallible function returns: a value or an `Error`.
/// Exceptions never cross a module boundary.

#include <string>

#include <tl/expected.hpp>

#include "qfscale/util/error.h"

namespace qfscale::util {

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

/// `return fail(ErrorCode::InvalidInput, "...");` from a function returning any Result.
[[nodiscard]] inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(make_error(code, std::move(message)));
}
[[nodiscard]] inline tl::unexpected<Error> fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}
[[nodiscard]] inline Status ok() { return {}; }

}  // namespace qfscale::util

namespace qfscale {
using util::Error;
using util::ErrorCode;
using util::fail;
using util::Result;
using util::Status;
}  // namespace qfscale
