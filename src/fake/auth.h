#pragma once

// The fake's signature check: `bce-auth-v1` against its one credential pair, a bounded
// signature lifetime, and (once the address is known) a signed Host naming this server.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "qfscale/bce/signer.h"
#include "qfscale/http/message.h"
#include "qfscale/util/clock.h"

#include "fake/wire.h"

namespace qfscale::fake::detail {

struct AuthConfig {
  const bce::Credentials& credentials;
  std::chrono::seconds allowed_skew;  ///< how far x-bce-date may be in the future
  std::vector<std::string> hosts;     ///< Host values accepted; empty: any
};

/// The error (code, message) when `request` is not signed validly for this fake at `now`.
[[nodiscard]] std::optional<ApiError> authenticate(const http::Request& request,
                                                   const AuthConfig& config, util::SystemTime now);

}  // namespace qfscale::fake::detail
