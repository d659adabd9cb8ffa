#pragma once

/// Checks a CA bundle (ClientOptions::ca_file, the config's `caFile` keys) before anything
/// connects, so that a wrong file is a config error with file:line rather than a failed
/// handshake at the first tick.

#include <string_view>

#include "qfscale/util/result.h"

namespace qfscale::http {

/// The number of PEM certificates in `pem_text`, at least 1. InvalidInput when the text holds
/// no PEM certificate or one that does not parse; the message never quotes the text.
[[nodiscard]] Result<int> count_ca_certificates(std::string_view pem_text);

}  // namespace qfscale::http
