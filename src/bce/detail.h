#pragma once

// Private to src/bce and its tests: the pieces of the algorithm that the public API does not
// return, because they are secret-derived (the signing key) or only worth checking in tests.

#include <string>
#include <string_view>

namespace qfscale::bce::detail {

/// Lower-case hex of HMAC-SHA256(key, message). Aborts (QFS_CHECK) if OpenSSL fails: with a fixed
/// algorithm and in-memory inputs that can only be a broken installation, never bad input.
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// docs/QIANFAN-API.md §2.1 step 4: hex HMAC-SHA256(SK,
/// "bce-auth-v1/{ak}/{timestamp}/{expiration}"). A secret for the validity window; never put it in
/// a message or a returned struct.
[[nodiscard]] std::string signing_key(std::string_view secret_key,
                                      std::string_view auth_string_prefix);

}  // namespace qfscale::bce::detail
