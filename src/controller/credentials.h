#pragma once

// Private: the credentials file parser behind `load_credentials` (config.h), exposed for its
// fuzz target. The file is shell-style `KEY=VALUE` lines setting QIANFAN_ACCESS_KEY and
// QIANFAN_SECRET_KEY; errors name the path and line, never a value.

#include <string>
#include <string_view>

#include "qfscale/bce/signer.h"
#include "qfscale/util/result.h"

namespace qfscale::controller::detail {

[[nodiscard]] Result<bce::Credentials> parse_credentials(const std::string& path,
                                                         std::string_view text);

}  // namespace qfscale::controller::detail
